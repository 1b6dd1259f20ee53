import Foundation
import SQLKit
import Testing
@testable import Storage

@Suite struct MigrationsTests {
    @Test(arguments: TestBackend.selected)
    func migrateIsIdempotentAndReportsStatus(backend: TestBackend) async throws {
        try await withStorage(backend, migrate: false) { storage in
            let before = try await storage.migrationStatus()
            #expect(before.map(\.version) == [1])
            #expect(before.allSatisfy { $0.appliedAt == nil })

            let first = try await storage.migrate()
            #expect(first.map(\.version) == [1])
            #expect(first.first?.name == "initial_schema")

            let second = try await storage.migrate()
            #expect(second.isEmpty)

            let after = try await storage.migrationStatus()
            #expect(after.count == 1)
            #expect(after.first?.appliedAt != nil)
        }
    }

    @Test(arguments: TestBackend.selected)
    func failingMigrationRollsBackEntirely(backend: TestBackend) async throws {
        try await withStorage(backend) { storage in
            let sql = try #require(storage as? SQLStorage)
            let broken = Migration(version: 2, name: "broken") { _ in
                ["CREATE TABLE half_done (id BIGINT PRIMARY KEY)", "INSERT INTO no_such_table VALUES (1)"]
            }
            let extended = SQLStorage(driver: sql.driver, logger: testLogger, migrations: Migrations.all + [broken])
            let error = await expectStorageError(.migrationFailed) { try await extended.migrate() }
            #expect(error?.description.contains("migration 2 broken") == true)
            #expect(error?.description.contains("rolled back") == true)

            let status = try await extended.migrationStatus()
            #expect(status.map(\.version) == [1, 2])
            #expect(status.last?.appliedAt == nil)
            // The CREATE TABLE of the failed step was rolled back with it.
            let tableExists: Bool = await {
                do {
                    try await sql.driver.withConnection { db in try await db.raw("SELECT id FROM half_done").run() }
                    return true
                } catch {
                    return false
                }
            }()
            #expect(!tableExists)

            let fixed = Migration(version: 2, name: "fixed") { _ in ["CREATE TABLE half_done (id BIGINT PRIMARY KEY)"] }
            let repaired = SQLStorage(driver: sql.driver, logger: testLogger, migrations: Migrations.all + [fixed])
            #expect(try await repaired.migrate().map(\.version) == [2])
            #expect(try await repaired.migrate().isEmpty)
        }
    }

    @Test(arguments: TestBackend.selected)
    func transactionsCommitAndRollBackOnOneConnection(backend: TestBackend) async throws {
        try await withStorage(backend) { storage in
            let sql = try #require(storage as? SQLStorage)
            // A body that writes, then fails, leaves nothing behind.
            await #expect(throws: StorageError.self) {
                try await sql.transaction("test") { db in
                    try await db.raw("INSERT INTO users (id, handle, created_at) VALUES ('u1', 'ghost', 0)").run()
                    throw StorageError.internal("boom")
                }
            }
            #expect(try await storage.user(handle: "ghost") == nil)
            try await sql.transaction("test") { db in
                try await db.raw("INSERT INTO users (id, handle, created_at) VALUES ('u2', 'kept', 0)").run()
            }
            #expect(try await storage.user(handle: "kept")?.id == "u2")
        }
    }
}
