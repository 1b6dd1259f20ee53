import Foundation
import SQLKit

/// One schema step. `statements` returns plain DDL (never values) for the given backend.
struct Migration: Sendable {
    var version: Int
    var name: String
    var statements: @Sendable (StorageBackend) -> [String]
}

enum Migrations {
    /// The ordered list of every migration this build knows. Append only; never edit a shipped step.
    static let all: [Migration] = [
        Migration(version: 1, name: "initial_schema", statements: InitialSchema.statements(for:)),
    ]

    /// Arbitrary constant naming the PostgreSQL advisory lock that serialises concurrent migrators.
    static let advisoryLockKey: Int64 = 0x636F_6D6D_7563_6174 // "commucat"

    static func createTableStatement(_ backend: StorageBackend) -> String {
        """
        CREATE TABLE IF NOT EXISTS schema_migrations (
            version BIGINT PRIMARY KEY,
            name TEXT NOT NULL,
            applied_at BIGINT NOT NULL
        )
        """
    }
}

extension SQLStorage {
    func runMigrations(_ migrations: [Migration]) async throws(StorageError) -> [MigrationInfo] {
        let ordered = migrations.sorted { $0.version < $1.version }
        try await ensureMigrationTable()
        var applied: [MigrationInfo] = []
        for migration in ordered {
            let backend = self.backend
            let appliedAt = Date()
            do {
                let info = try await driver.withTransaction { db -> MigrationInfo? in
                    try await self.lockMigrations(db)
                    let existing = try await db.raw("SELECT version FROM schema_migrations WHERE version = \(bind: Int64(migration.version))").first()
                    if existing != nil { return nil }
                    for statement in migration.statements(backend) {
                        try await db.raw("\(unsafeRaw: statement)").run()
                    }
                    try await db.raw("""
                        INSERT INTO schema_migrations (version, name, applied_at)
                        VALUES (\(bind: Int64(migration.version)), \(bind: migration.name), \(bind: appliedAt.storageMillis))
                        """).run()
                    return MigrationInfo(version: migration.version, name: migration.name, appliedAt: Date(storageMillis: appliedAt.storageMillis))
                }
                if let info {
                    logger.info("applied storage migration", metadata: ["version": "\(info.version)", "name": "\(info.name)"])
                    applied.append(info)
                }
            } catch {
                let mapped = ErrorMapping.map(error, context: "migration \(migration.version) \(migration.name)")
                if mapped.code == .unreachable { throw mapped }
                throw StorageError(code: .migrationFailed, message: "\(mapped.message); rolled back")
            }
        }
        return applied
    }

    func migrationStatus(_ migrations: [Migration]) async throws(StorageError) -> [MigrationInfo] {
        try await ensureMigrationTable()
        let appliedAt = try await run("migration status") { db -> [Int: MigrationInfo] in
            var applied: [Int: MigrationInfo] = [:]
            for row in try await db.raw("SELECT version, name, applied_at FROM schema_migrations ORDER BY version").all() {
                let version = Int(try row.int("version"))
                applied[version] = MigrationInfo(version: version, name: try row.string("name"), appliedAt: try row.date("applied_at"))
            }
            return applied
        }
        var result = migrations.sorted { $0.version < $1.version }.map {
            MigrationInfo(version: $0.version, name: $0.name, appliedAt: appliedAt[$0.version]?.appliedAt)
        }
        // Versions applied by a newer build are reported too, so operators see the mismatch.
        let known = Set(migrations.map(\.version))
        for (version, entry) in appliedAt.sorted(by: { $0.key < $1.key }) where !known.contains(version) {
            result.append(entry)
        }
        return result
    }

    private func ensureMigrationTable() async throws(StorageError) {
        let backend = self.backend
        do {
            try await driver.withTransaction { db in
                try await self.lockMigrations(db)
                try await db.raw("\(unsafeRaw: Migrations.createTableStatement(backend))").run()
            }
        } catch {
            let mapped = ErrorMapping.map(error, context: "creating schema_migrations")
            if mapped.code == .unreachable { throw mapped }
            throw StorageError(code: .migrationFailed, message: mapped.message)
        }
    }

    /// PostgreSQL: a transaction-scoped advisory lock so two processes never migrate at once.
    /// SQLite: `BEGIN IMMEDIATE` already holds the database write lock.
    private func lockMigrations(_ db: any SQLDatabase) async throws {
        if backend == .postgres {
            try await db.raw("SELECT pg_advisory_xact_lock(\(bind: Migrations.advisoryLockKey))").run()
        }
    }
}
