import Foundation
import Logging
import NIOCore
import NIOPosix
import SQLiteKit
import Synchronization

/// The embedded driver: one SQLite connection, confined by an `AsyncLock` so each operation or
/// transaction has it to itself. Concurrent callers queue in FIFO order.
final class SQLiteDriver: DatabaseDriver {
    let backend = StorageBackend.sqlite
    private let connection: SQLiteConnection
    private let lock = AsyncLock()
    private let closed = Mutex(false)

    private init(connection: SQLiteConnection) {
        self.connection = connection
    }

    static func open(path: String?, logger: Logger, eventLoopGroup: any EventLoopGroup) async throws(StorageError) -> SQLiteDriver {
        let storage: SQLiteConnection.Storage
        var created = false
        if let path {
            let parent = (path as NSString).deletingLastPathComponent
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: parent, isDirectory: &isDirectory), isDirectory.boolValue else {
                throw StorageError(code: .unreachable, message: "cannot open SQLite database \(path) (directory \(parent) does not exist)")
            }
            created = !FileManager.default.fileExists(atPath: path)
            storage = .file(path: path)
        } else {
            storage = .memory
        }
        let connection: SQLiteConnection
        do {
            connection = try await SQLiteConnection.open(storage: storage, threadPool: .singleton, logger: logger,
                                                         on: eventLoopGroup.any()).get()
        } catch {
            throw StorageError(code: .unreachable, message: "cannot open SQLite database \(path ?? ":memory:") (\(ErrorMapping.reason(error)))")
        }
        if let path, created {
            // SPEC §2: files in the data dir are mode 0600; SQLite gives -wal/-shm the same mode.
            _ = chmod(path, 0o600)
        }
        let driver = SQLiteDriver(connection: connection)
        do {
            try await driver.withConnection { db in
                try await db.raw("PRAGMA foreign_keys = ON").run()
                try await db.raw("PRAGMA busy_timeout = 5000").run()
                if path != nil {
                    try await db.raw("PRAGMA journal_mode = WAL").run()
                    try await db.raw("PRAGMA synchronous = FULL").run()
                }
            }
        } catch {
            await driver.close()
            throw StorageError(code: .unreachable, message: "cannot use SQLite database \(path ?? ":memory:") (\(ErrorMapping.reason(error)))")
        }
        return driver
    }

    func withConnection<R: Sendable>(_ body: @escaping @Sendable (any SQLDatabase) async throws -> R) async throws -> R {
        try await lock.withLock {
            guard !closed.withLock({ $0 }) else { throw StorageError.internal("storage is closed") }
            return try await body(connection.sql(encoder: .init(), decoder: .init(), queryLogLevel: .trace))
        }
    }

    func close() async {
        await lock.withLock {
            let wasClosed = closed.withLock { closed in
                defer { closed = true }
                return closed
            }
            if !wasClosed { try? await connection.close() }
        }
    }
}
