import Foundation
import Logging
import NIOPosix
import Testing
@testable import Storage

/// The drivers the behaviour suites run against. SQLite always; PostgreSQL when
/// `COMMUCAT_TEST_POSTGRES_URL` is set, and also when `CI=true` so that a CI job that forgot to start
/// the server fails loudly instead of silently skipping half the suite.
enum TestBackend: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case sqlite, postgres

    var testDescription: String { rawValue }

    static let postgresURL: String? = {
        let value = ProcessInfo.processInfo.environment["COMMUCAT_TEST_POSTGRES_URL"] ?? ""
        return value.isEmpty ? nil : value
    }()

    static let isCI = ProcessInfo.processInfo.environment["CI"]?.lowercased() == "true"

    static let selected: [TestBackend] = postgresURL != nil || isCI ? [.sqlite, .postgres] : [.sqlite]
}

struct PostgresNotStarted: Error, CustomStringConvertible {
    var description: String {
        "PostgreSQL test server was not started: CI=true but COMMUCAT_TEST_POSTGRES_URL is not set "
            + "(run `scripts/test-postgres.sh start DIR PORT` and export the URL it prints)"
    }
}

let testLogger: Logger = {
    var logger = Logger(label: "commucat.storage.tests")
    logger.logLevel = .warning
    return logger
}()

/// Opens a fresh, migrated (unless `migrate` is false) storage on `backend`, runs `body`, and
/// cleans up: SQLite uses a temporary file; PostgreSQL a private schema dropped afterwards.
func withStorage(_ backend: TestBackend, migrate: Bool = true,
                 _ body: (any Storage) async throws -> Void) async throws {
    switch backend {
    case .sqlite:
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("commucat-storage-\(UUID().uuidString).sqlite").path
        defer {
            for suffix in ["", "-wal", "-shm", "-journal"] { try? FileManager.default.removeItem(atPath: path + suffix) }
        }
        let storage = try await StorageFactory.open(url: "sqlite://\(path)", logger: testLogger)
        try await run(storage, migrate: migrate, body)
    case .postgres:
        guard let urlText = TestBackend.postgresURL else {
            throw PostgresNotStarted()
        }
        let url = try StorageURL(parsing: urlText)
        guard case .postgres(let settings) = url else {
            Issue.record("COMMUCAT_TEST_POSTGRES_URL must be a postgres:// URL")
            return
        }
        let schema = "t_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
        let admin = try await PostgresDriver.open(settings, logger: testLogger, eventLoopGroup: MultiThreadedEventLoopGroup.singleton,
                                                  maximumConnections: 1)
        try await admin.withConnection { db in try await db.raw("CREATE SCHEMA \(ident: schema)").run() }
        do {
            let storage = try await StorageFactory.open(url: url, logger: testLogger, eventLoopGroup: MultiThreadedEventLoopGroup.singleton,
                                                        postgresSearchPath: schema)
            try await run(storage, migrate: migrate, body)
        } catch {
            try? await admin.withConnection { db in try await db.raw("DROP SCHEMA \(ident: schema) CASCADE").run() }
            await admin.close()
            throw error
        }
        try? await admin.withConnection { db in try await db.raw("DROP SCHEMA \(ident: schema) CASCADE").run() }
        await admin.close()
    }
}

private func run(_ storage: any Storage, migrate: Bool, _ body: (any Storage) async throws -> Void) async throws {
    do {
        if migrate { try await storage.migrate() }
        try await body(storage)
    } catch {
        await storage.close()
        throw error
    }
    await storage.close()
}

/// A fixed instant (ms precision) so tests never read the clock.
let t0 = Date(timeIntervalSince1970: 1_750_000_000)

func at(_ seconds: Double) -> Date { t0.addingTimeInterval(seconds) }

/// A user plus one active device, the starting point of most scenarios.
func makeUserWithDevice(_ storage: any Storage, handle: String, deviceID: String? = nil) async throws -> (UserRecord, DeviceRecord) {
    let user = try await storage.createUser(handle: handle, displayName: handle.capitalized, now: t0)
    let id = deviceID ?? "dev-\(handle)"
    let key = Array("key-of-\(id)".utf8)
    let device = try await storage.registerDevice(NewDevice(deviceID: id, publicKey: key, name: "\(handle)'s phone"),
                                                  userID: user.id, now: t0)
    return (user, device)
}

/// Runs `body`, expecting a `StorageError` with `code`; returns it for further checks.
@discardableResult
func expectStorageError(_ code: StorageError.Code, sourceLocation: SourceLocation = #_sourceLocation,
                        _ body: () async throws -> Void) async -> StorageError? {
    do {
        try await body()
        Issue.record("expected StorageError \(code), got success", sourceLocation: sourceLocation)
        return nil
    } catch let error as StorageError {
        #expect(error.code == code, "\(error)", sourceLocation: sourceLocation)
        return error
    } catch {
        Issue.record("expected StorageError \(code), got \(error)", sourceLocation: sourceLocation)
        return nil
    }
}
