import Foundation
import Logging
import NIOCore
import NIOPosix
import PostgresKit
import Synchronization

/// The PostgreSQL driver: postgres-nio's `PostgresClient` pool, run in a task owned by the driver.
/// Opening first makes one direct connection with a 5 s connect timeout, so an unreachable server
/// or bad credentials fail `open` quickly with a precise cause instead of queueing forever.
final class PostgresDriver: DatabaseDriver {
    let backend = StorageBackend.postgres
    static let connectTimeout: TimeAmount = .seconds(5)

    private let client: PostgresClient
    private let runTask: Task<Void, Never>
    private let logger: Logger

    private init(client: PostgresClient, runTask: Task<Void, Never>, logger: Logger) {
        self.client = client
        self.runTask = runTask
        self.logger = logger
    }

    static func open(_ settings: StorageURL.PostgresSettings, logger: Logger,
                     eventLoopGroup: any EventLoopGroup, maximumConnections: Int = 10,
                     searchPath: String? = nil) async throws(StorageError) -> PostgresDriver {
        let startupParameters = searchPath.map { [("search_path", $0)] } ?? []
        let where_ = "PostgreSQL at \(settings.endpoint)"
        let sslContext: NIOSSLContext?
        do {
            sslContext = settings.sslMode == .disable ? nil : try NIOSSLContext(configuration: .makeClientConfiguration())
        } catch {
            throw StorageError(code: .internal, message: "cannot set up TLS for \(where_) (\(ErrorMapping.reason(error)))")
        }

        var probeConfig = PostgresConnection.Configuration(
            host: settings.host, port: settings.port, username: settings.username, password: settings.password,
            database: settings.database, tls: connectionTLS(settings.sslMode, sslContext))
        probeConfig.options.connectTimeout = connectTimeout
        probeConfig.options.additionalStartupParameters = startupParameters
        do {
            let probe = try await PostgresConnection.connect(on: eventLoopGroup.any(), configuration: probeConfig,
                                                             id: 0, logger: logger).get()
            try? await probe.close()
        } catch let error as PSQLError where error.code == .server {
            let state = error.serverInfo?[.sqlState] ?? ""
            let code: StorageError.Code = state.hasPrefix("28") ? .authentication : .unreachable
            throw StorageError(code: code, message: "\(where_) rejected user \(settings.username) for database \(settings.database) (\(ErrorMapping.reason(error)))")
        } catch {
            throw StorageError(code: .unreachable, message: "cannot reach \(where_) (\(ErrorMapping.reason(error)))")
        }

        var config = PostgresClient.Configuration(
            host: settings.host, port: settings.port, username: settings.username, password: settings.password,
            database: settings.database, tls: clientTLS(settings.sslMode, sslContext))
        config.options.connectTimeout = .seconds(Int64(connectTimeout.nanoseconds / 1_000_000_000))
        config.options.maximumConnections = maximumConnections
        config.options.additionalStartupParameters = startupParameters
        let client = PostgresClient(configuration: config, eventLoopGroup: eventLoopGroup, backgroundLogger: logger)
        let runTask = Task { await client.run() }
        return PostgresDriver(client: client, runTask: runTask, logger: logger)
    }

    private static func connectionTLS(_ mode: StorageURL.PostgresSettings.SSLMode, _ context: NIOSSLContext?) -> PostgresConnection.Configuration.TLS {
        guard let context else { return .disable }
        return mode == .require ? .require(context) : .prefer(context)
    }

    private static func clientTLS(_ mode: StorageURL.PostgresSettings.SSLMode, _ context: NIOSSLContext?) -> PostgresClient.Configuration.TLS {
        guard context != nil else { return .disable }
        return mode == .require ? .require(.makeClientConfiguration()) : .prefer(.makeClientConfiguration())
    }

    /// Leases a pooled connection for `body`. A lease that cannot be obtained within the connect
    /// timeout (server down, pool exhausted by a dead server) fails with `.unreachable` instead of
    /// waiting for the pool's own circuit breaker (about a minute).
    func withConnection<R: Sendable>(_ body: @escaping @Sendable (any SQLDatabase) async throws -> R) async throws -> R {
        guard !runTask.isCancelled else { throw StorageError.internal("storage is closed") }
        let logger = self.logger
        let client = self.client
        let leased = LeaseFlag()
        return try await withThrowingTaskGroup(of: R?.self) { group in
            group.addTask {
                try await client.withConnection { connection in
                    leased.set()
                    return try await body(connection.sql(queryLogLevel: .trace, logger: logger))
                }
            }
            group.addTask {
                try await Task.sleep(for: .nanoseconds(Self.connectTimeout.nanoseconds))
                return nil
            }
            defer { group.cancelAll() }
            while let next = try await group.next() {
                if let value = next { return value }
                if !leased.isSet {
                    throw StorageError(code: .unreachable, message: "no PostgreSQL connection available within 5 s (server down?)")
                }
            }
            throw StorageError.internal("connection lease ended without a result")
        }
    }

    func close() async {
        runTask.cancel()
        await runTask.value
    }
}

/// Set once a pooled connection has been handed out (shared with the lease watchdog).
private final class LeaseFlag: Sendable {
    private let state = Mutex(false)
    func set() { state.withLock { $0 = true } }
    var isSet: Bool { state.withLock { $0 } }
}
