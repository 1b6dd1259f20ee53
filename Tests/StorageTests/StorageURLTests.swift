import Testing
@testable import Storage

@Suite struct StorageURLTests {
    @Test func sqliteAbsolutePath() throws {
        #expect(try StorageURL(parsing: "sqlite:///var/lib/commucat/db.sqlite") == .sqliteFile(path: "/var/lib/commucat/db.sqlite"))
    }

    @Test func sqliteRelativePathResolvesAgainstWorkingDirectory() throws {
        #expect(try StorageURL(parsing: "sqlite://var/commucat.sqlite", currentDirectory: "/srv/app")
            == .sqliteFile(path: "/srv/app/var/commucat.sqlite"))
        #expect(try StorageURL(parsing: "sqlite://db.sqlite", currentDirectory: "/srv/app/") == .sqliteFile(path: "/srv/app/db.sqlite"))
    }

    @Test func sqliteMemory() throws {
        #expect(try StorageURL(parsing: "sqlite::memory:") == .sqliteMemory)
    }

    @Test func postgresFull() throws {
        let url = try StorageURL(parsing: "postgres://alice:s%40cret@db.example.com:6543/commucat?sslmode=require")
        #expect(url == .postgres(.init(host: "db.example.com", port: 6543, username: "alice", password: "s@cret",
                                       database: "commucat", sslMode: .require)))
        #expect(url.description == "postgres://alice:***@db.example.com:6543/commucat?sslmode=require")
        #expect(url.backend == .postgres)
    }

    @Test func postgresqlSchemeDefaultsPortAndSSLMode() throws {
        let url = try StorageURL(parsing: "postgresql://bob@127.0.0.1/app")
        #expect(url == .postgres(.init(host: "127.0.0.1", port: 5432, username: "bob", password: nil, database: "app", sslMode: .prefer)))
    }

    @Test func postgresIPv6Host() throws {
        guard case .postgres(let settings) = try StorageURL(parsing: "postgres://u:p@[::1]:5433/db?sslmode=disable") else {
            Issue.record("not postgres")
            return
        }
        #expect(settings.host == "::1")
        #expect(settings.endpoint == "[::1]:5433")
        #expect(settings.sslMode == .disable)
    }

    @Test(arguments: [
        ("", "empty"),
        ("commucat.sqlite", "missing scheme"),
        ("mysql://u:p@h/db", "unsupported scheme \"mysql\""),
        ("sqlite:/abs/path", "sqlite:///absolute/path"),
        ("sqlite://", "missing database file path"),
        ("sqlite:///var/lib/", "names a directory"),
        ("sqlite:///x.db?mode=ro", "no query"),
        ("postgres://u:p@/db", "missing host"),
        ("postgres://h:5432/db", "missing user name"),
        ("postgres://u:p@h:5432", "missing database name"),
        ("postgres://u:p@h:5432/a/b", "one path segment"),
        ("postgres://u:p@h:70000/db", "out of range"),
        ("postgres://u:p@h:port/db", "port"),
        ("postgres://u:p@h/db?sslmode=verify-full", "sslmode must be disable, prefer or require"),
        ("postgres://u:p@h/db?timeout=3", "unsupported query parameter \"timeout\""),
    ])
    func badURLsGiveOneLinePreciseErrors(input: String, expected: String) {
        do {
            _ = try StorageURL(parsing: input)
            Issue.record("\(input) parsed")
        } catch {
            #expect(error.code == .badURL)
            #expect(error.description.hasPrefix("storage: invalid storage.url"))
            #expect(error.description.contains(expected), "\(error.description)")
            #expect(!error.description.contains("\n"))
        }
    }

    @Test func passwordsNeverAppearInErrors() {
        do {
            _ = try StorageURL(parsing: "postgres://u:hunter2@h/db?sslmode=nope")
            Issue.record("parsed")
        } catch {
            #expect(!error.description.contains("hunter2"), "\(error.description)")
            #expect(error.description.contains("u:***@h"))
        }
    }
}
