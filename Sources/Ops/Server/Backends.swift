import Foundation
import Ledger
import Logging
import Redis
import ServiceLifecycle
import Storage
import Synchronization

/// Storage, Redis (or this node's memory) and the ledger, opened once for the server and closed
/// once, after the listeners stop.
public struct Backends: Sendable {
    public let storage: any Storage
    public let ephemeral: any EphemeralStore
    public let redis: RedisClient?
    public let ledger: Ledger
    public let readiness: ReadinessChecks
    public let services: [any Service]
    public let summary: [String]
    private let closed = OnceFlag()

    /// Flushes the ledger, then closes Redis and storage. Safe to call more than once.
    public func close() async {
        guard closed.claim() else { return }
        try? await ledger.close()
        await redis?.close()
        await storage.close()
    }

    /// Opens every backend named by `config`, applying pending migrations. A failure closes what was
    /// already open and is one line for the operator.
    static func open(config: CommuCatConfig, dataDirectory: DataDirectory, logger: Logger) async throws(StartupError) -> Backends {
        let storage = try await openStorage(config: config, logger: logger, migrate: true)

        let redis: RedisClient?
        let ephemeral: any EphemeralStore
        if let url = config.redisURL {
            let parsed: RedisURL
            do {
                parsed = try RedisURL(parsing: url)
            } catch {
                await storage.close()
                throw StartupError("redis.url: \(error.message)")
            }
            let client = RedisClient(url: parsed, logger: logger)
            do {
                try await client.connect()
            } catch {
                // The client keeps retrying in the background; /readyz reports `degraded` meanwhile.
                logger.warning("Redis is not reachable at start-up; retrying in the background", metadata: ["error": "\(error)"])
            }
            redis = client
            ephemeral = RedisEphemeralStore(client: client)
        } else {
            redis = nil
            ephemeral = InMemoryEphemeralStore()
        }

        let ledger: Ledger
        do {
            ledger = try Ledger.open(
                mode: LedgerMode(rawValue: config.ledgerMode.rawValue) ?? .file,
                path: config.effectiveLedgerPath,
                maxBytes: Int(config.ledgerMaxBytes),
                logger: logger)
        } catch {
            await redis?.close()
            await storage.close()
            throw StartupError("ledger \(config.effectiveLedgerPath): \(error.message)")
        }

        let backendName = storage.backend.rawValue
        let readiness = ReadinessChecks(
            storage: {
                do {
                    try await withTimeout(.seconds(2)) { () async throws(StorageError) in try await storage.ping() }
                    return ComponentHealth(status: .up, backend: backendName)
                } catch {
                    return ComponentHealth(status: .down, backend: backendName, detail: "\(error)")
                }
            },
            redis: {
                guard let redis else { return ComponentHealth(status: .disabled, backend: "memory") }
                switch redis.state {
                case .connected: return ComponentHealth(status: .up, backend: "redis")
                case .connecting: return ComponentHealth(status: .down, backend: "redis", detail: "connecting")
                case .disconnected(let reason): return ComponentHealth(status: .down, backend: "redis", detail: reason)
                case .closed: return ComponentHealth(status: .down, backend: "redis", detail: "closed")
                }
            })

        var summary = ["storage \(storageSummary(config.effectiveStorageURL))"]
        summary.append(redis.map { _ in "redis  \(config.redisURL.map(redactedURL) ?? "")" } ?? "redis  none (presence and rate limits in this node's memory)")
        summary.append("ledger \(config.ledgerMode.rawValue)\(config.ledgerMode == .file ? " " + config.effectiveLedgerPath : "")")
        return Backends(
            storage: storage, ephemeral: ephemeral, redis: redis, ledger: ledger, readiness: readiness, services: [],
            summary: summary)
    }

    /// Opens storage for the server or a CLI command; `migrate` applies pending migrations.
    static func openStorage(config: CommuCatConfig, logger: Logger, migrate: Bool) async throws(StartupError) -> any Storage {
        let storage: any Storage
        do {
            storage = try await StorageFactory.open(url: config.effectiveStorageURL, logger: logger)
        } catch {
            throw StartupError(error.description)
        }
        guard migrate else { return storage }
        do {
            let applied = try await storage.migrate()
            for migration in applied {
                logger.info("applied migration", metadata: ["version": "\(migration.version)", "name": "\(migration.name)"])
            }
        } catch {
            await storage.close()
            throw StartupError(error.description)
        }
        return storage
    }

    static func storageSummary(_ url: String) -> String {
        url.hasPrefix("sqlite:") ? "sqlite \(url.dropFirst("sqlite://".count))" : "postgres \(redactedURL(url))"
    }
}

/// `scheme://user:secret@host` → `scheme://user:***@host`, for banners and logs.
func redactedURL(_ url: String) -> String {
    guard let schemeEnd = url.range(of: "://"), let at = url[schemeEnd.upperBound...].lastIndex(of: "@") else { return url }
    let credentials = url[schemeEnd.upperBound..<at]
    guard let colon = credentials.firstIndex(of: ":") else { return url }
    return String(url[..<colon]) + ":***" + String(url[at...])
}

struct OperationTimedOut: Error, CustomStringConvertible {
    var description: String { "timed out" }
}

/// Runs `operation`, failing with `OperationTimedOut` after `limit`.
func withTimeout<T: Sendable, E: Error>(_ limit: Duration, _ operation: @escaping @Sendable () async throws(E) -> T) async throws -> T {
    try await withThrowingTaskGroup(of: T.self) { group in
        group.addTask { try await operation() }
        group.addTask {
            try await Task.sleep(for: limit)
            throw OperationTimedOut()
        }
        defer { group.cancelAll() }
        guard let result = try await group.next() else { throw OperationTimedOut() }
        return result
    }
}

/// True for exactly one caller of `claim()`.
final class OnceFlag: Sendable {
    private let state = Mutex(false)

    func claim() -> Bool {
        state.withLock { taken in
            defer { taken = true }
            return !taken
        }
    }
}
