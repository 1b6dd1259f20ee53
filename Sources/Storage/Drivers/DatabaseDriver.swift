import Logging
import SQLKit

/// A source of connections for one backend. `withConnection` hands the body one connection for its
/// whole duration, so a `BEGIN … COMMIT` issued through it really is one transaction.
protocol DatabaseDriver: Sendable {
    var backend: StorageBackend { get }
    func withConnection<R: Sendable>(_ body: @escaping @Sendable (any SQLDatabase) async throws -> R) async throws -> R
    func close() async
}

/// Thrown inside a transaction body to roll back and hand a value to the caller.
struct RollbackWithValue<Value: Sendable>: Error {
    var value: Value
}

extension DatabaseDriver {
    /// Runs `body` in a transaction on one connection: COMMIT on return, ROLLBACK on throw.
    /// SQLite uses `BEGIN IMMEDIATE` so a writer never upgrades a read lock (no SQLITE_BUSY mid-way).
    func withTransaction<R: Sendable>(_ body: @escaping @Sendable (any SQLDatabase) async throws -> R) async throws -> R {
        let begin: SQLQueryString = backend == .sqlite ? "BEGIN IMMEDIATE" : "BEGIN"
        return try await withConnection { db in
            try await db.raw(begin).run()
            let result: R
            do {
                result = try await body(db)
            } catch {
                try? await db.raw("ROLLBACK").run()
                throw error
            }
            do {
                try await db.raw("COMMIT").run()
            } catch {
                try? await db.raw("ROLLBACK").run()
                throw error
            }
            return result
        }
    }
}
