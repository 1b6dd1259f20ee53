import Foundation
import Testing
@testable import Storage

@Suite struct StorageFactoryTests {
    @Test func unreachablePostgresFailsQuicklyWithOneClearLine() async {
        let error = await expectStorageError(.unreachable) {
            _ = try await StorageFactory.open(url: "postgres://commucat:commucat@127.0.0.1:1/commucat_test?sslmode=disable",
                                              logger: testLogger)
        }
        // No wall-clock bound here (CI machines are shared and a loaded run took 43 s): the message
        // naming "connection refused" shows the refusal itself was reported, not a pool timeout.
        #expect(error?.description == "storage: cannot reach PostgreSQL at 127.0.0.1:1 (connection refused)")
    }

    @Test func badURLFailsBeforeConnecting() async {
        let error = await expectStorageError(.badURL) {
            _ = try await StorageFactory.open(url: "redis://localhost", logger: testLogger)
        }
        #expect(error?.description.contains("unsupported scheme") == true)
    }

    @Test func sqliteInMissingDirectoryIsUnreachable() async {
        let error = await expectStorageError(.unreachable) {
            _ = try await StorageFactory.open(url: "sqlite:///nonexistent-dir-\(UUID().uuidString)/db.sqlite", logger: testLogger)
        }
        #expect(error?.description.contains("does not exist") == true)
    }

    @Test func sqliteFileIsCreatedPrivate() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("commucat-mode-\(UUID().uuidString).sqlite").path
        defer { for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) } }
        let storage = try await StorageFactory.open(url: "sqlite://\(path)", logger: testLogger)
        try await storage.migrate()
        await storage.close()
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        #expect((attributes[.posixPermissions] as? Int) == 0o600)
    }

    @Test func inMemorySQLiteWorks() async throws {
        let storage = try await StorageFactory.open(url: "sqlite::memory:", logger: testLogger)
        try await storage.migrate()
        _ = try await storage.createUser(handle: "mem", displayName: nil, now: t0)
        #expect(try await storage.user(handle: "mem")?.handle == "mem")
        await storage.close()
    }

    @Test(arguments: TestBackend.selected)
    func pingAnswersAndClosedStorageRefuses(backend: TestBackend) async throws {
        try await withStorage(backend) { storage in
            try await storage.ping()
            #expect(storage.backend.rawValue == backend.rawValue)
        }
        let storage = try await StorageFactory.open(url: "sqlite::memory:", logger: testLogger)
        await storage.close()
        await expectStorageError(.internal) { try await storage.ping() }
    }
}
