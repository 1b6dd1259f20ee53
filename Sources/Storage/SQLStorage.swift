import Foundation
import Logging
import SQLKit

/// The one `Storage` implementation: SQL through SQLKit on a `DatabaseDriver` (SQLite or PostgreSQL).
/// Values are always bound as parameters (`\(bind:)`), never spliced into SQL text.
final class SQLStorage: Storage {
    let driver: any DatabaseDriver
    let logger: Logger
    let migrations: [Migration]

    init(driver: any DatabaseDriver, logger: Logger, migrations: [Migration] = Migrations.all) {
        self.driver = driver
        self.logger = logger
        self.migrations = migrations
    }

    var backend: StorageBackend { driver.backend }

    func ping() async throws(StorageError) {
        let driver = self.driver
        do {
            try await withDeadline(seconds: 5) {
                try await driver.withConnection { db in try await db.raw("SELECT 1 AS one").run() }
            }
        } catch {
            throw ErrorMapping.map(error, context: "ping")
        }
    }

    func close() async {
        await driver.close()
    }

    @discardableResult
    func migrate() async throws(StorageError) -> [MigrationInfo] {
        try await runMigrations(migrations)
    }

    func migrationStatus() async throws(StorageError) -> [MigrationInfo] {
        try await migrationStatus(migrations)
    }

    // MARK: Plumbing

    /// Runs `body` on one connection, outside any explicit transaction (single statements).
    func run<R: Sendable>(_ context: String, _ body: @escaping @Sendable (any SQLDatabase) async throws -> R) async throws(StorageError) -> R {
        do {
            return try await driver.withConnection(body)
        } catch {
            throw ErrorMapping.map(error, context: context)
        }
    }

    /// Runs `body` in one transaction. Throwing `RollbackWithValue<R>` rolls back and returns its value.
    func transaction<R: Sendable>(_ context: String, _ body: @escaping @Sendable (any SQLDatabase) async throws -> R) async throws(StorageError) -> R {
        do {
            return try await driver.withTransaction(body)
        } catch let rollback as RollbackWithValue<R> {
            return rollback.value
        } catch {
            throw ErrorMapping.map(error, context: context)
        }
    }
}

/// Fails with `.unreachable` if `operation` has not finished after `seconds`.
func withDeadline<R: Sendable>(seconds: Int, _ operation: @escaping @Sendable () async throws -> R) async throws -> R {
    try await withThrowingTaskGroup(of: R?.self) { group in
        group.addTask { try await operation() }
        group.addTask {
            try await Task.sleep(for: .seconds(seconds))
            return nil
        }
        defer { group.cancelAll() }
        guard let first = try await group.next(), let value = first else {
            throw StorageError(code: .unreachable, message: "no answer from the database within \(seconds) s")
        }
        return value
    }
}

// MARK: Value conversions

extension Date {
    /// Milliseconds since the Unix epoch: the one way timestamps are stored.
    /// Rounded to the nearest millisecond, so `Date(storageMillis: d.storageMillis).storageMillis == d.storageMillis`.
    var storageMillis: Int64 { Int64((timeIntervalSince1970 * 1000).rounded()) }

    init(storageMillis: Int64) {
        self.init(timeIntervalSince1970: Double(storageMillis) / 1000)
    }
}

extension SQLRow {
    func string(_ column: String) throws -> String { try decode(column: column, as: String.self) }
    func optionalString(_ column: String) throws -> String? { try decode(column: column, as: String?.self) }
    func int(_ column: String) throws -> Int64 { try decode(column: column, as: Int64.self) }
    func optionalInt(_ column: String) throws -> Int64? { try decode(column: column, as: Int64?.self) }
    func bytes(_ column: String) throws -> [UInt8] { [UInt8](try decode(column: column, as: Data.self)) }
    func optionalBytes(_ column: String) throws -> [UInt8]? { try decode(column: column, as: Data?.self).map { [UInt8]($0) } }
    func date(_ column: String) throws -> Date { Date(storageMillis: try int(column)) }
    func optionalDate(_ column: String) throws -> Date? { try optionalInt(column).map(Date.init(storageMillis:)) }

    func enumeration<E: RawRepresentable>(_ column: String, as type: E.Type) throws -> E where E.RawValue == String {
        let raw = try string(column)
        guard let value = E(rawValue: raw) else {
            throw StorageError.internal("column \(column) holds unknown value \(raw)")
        }
        return value
    }
}

extension Array where Element == UInt8 {
    /// Bytes bound as BLOB/BYTEA on both drivers.
    var sqlData: Data { Data(self) }
}

extension Optional where Wrapped == [UInt8] {
    var sqlData: Data? { self.map { Data($0) } }
}
