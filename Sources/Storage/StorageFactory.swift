import Logging
import NIOCore
import NIOPosix

/// Opens the storage named by `storage.url`. The composition root calls this once at start-up and
/// `migrate()` right after (or `commucat migrate` does).
public enum StorageFactory {
    /// Opens (and for PostgreSQL, connects to) the database. An unreachable PostgreSQL fails within
    /// about 5 s with `.unreachable` and a one-line cause; a bad URL fails with `.badURL`.
    public static func open(url: String, logger: Logger,
                            eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) async throws(StorageError) -> any Storage {
        let parsed = try StorageURL(parsing: url)
        return try await open(url: parsed, logger: logger, eventLoopGroup: eventLoopGroup)
    }

    public static func open(url: StorageURL, logger: Logger,
                            eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) async throws(StorageError) -> any Storage {
        try await open(url: url, logger: logger, eventLoopGroup: eventLoopGroup, postgresSearchPath: nil)
    }

    /// `postgresSearchPath` confines a PostgreSQL storage to one schema (tests run side by side).
    static func open(url: StorageURL, logger: Logger, eventLoopGroup: any EventLoopGroup,
                     postgresSearchPath: String?) async throws(StorageError) -> any Storage {
        var logger = logger
        logger[metadataKey: "storage"] = "\(url.backend.rawValue)"
        let driver: any DatabaseDriver
        switch url {
        case .sqliteFile(let path):
            driver = try await SQLiteDriver.open(path: path, logger: logger, eventLoopGroup: eventLoopGroup)
        case .sqliteMemory:
            driver = try await SQLiteDriver.open(path: nil, logger: logger, eventLoopGroup: eventLoopGroup)
        case .postgres(let settings):
            driver = try await PostgresDriver.open(settings, logger: logger, eventLoopGroup: eventLoopGroup,
                                                  searchPath: postgresSearchPath)
        }
        return SQLStorage(driver: driver, logger: logger)
    }
}

extension StorageURL {
    public var backend: StorageBackend {
        switch self {
        case .sqliteFile, .sqliteMemory: return .sqlite
        case .postgres: return .postgres
        }
    }
}
