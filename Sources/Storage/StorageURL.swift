import Foundation

/// A parsed `storage.url`.
///
/// Accepted forms:
/// - `sqlite:///abs/path.sqlite` — absolute path;
/// - `sqlite://relative/path.sqlite` — relative to the current working directory;
/// - `sqlite::memory:` — a private in-memory database (tests);
/// - `postgres://user:pass@host:port/db` or `postgresql://…`, with optional `?sslmode=disable|prefer|require`
///   (default `prefer`); user name, password and database are percent-decoded; port defaults to 5432.
public enum StorageURL: Sendable, Equatable, CustomStringConvertible {
    case sqliteFile(path: String)
    case sqliteMemory
    case postgres(PostgresSettings)

    public struct PostgresSettings: Sendable, Equatable {
        public enum SSLMode: String, Sendable, Equatable {
            case disable, prefer, require
        }
        public var host: String
        public var port: Int
        public var username: String
        public var password: String?
        public var database: String
        public var sslMode: SSLMode

        public init(host: String, port: Int = 5432, username: String, password: String?, database: String, sslMode: SSLMode = .prefer) {
            self.host = host
            self.port = port
            self.username = username
            self.password = password
            self.database = database
            self.sslMode = sslMode
        }

        /// `host:port`, IPv6 hosts in brackets.
        public var endpoint: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
    }

    /// Parses `text`; relative SQLite paths are resolved against `currentDirectory`
    /// (the process working directory when nil).
    public init(parsing text: String, currentDirectory: String? = nil) throws(StorageError) {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        func bad(_ why: String) -> StorageError {
            StorageError(code: .badURL, message: "invalid storage.url \"\(StorageURL.redacted(trimmed))\": \(why)")
        }
        guard !trimmed.isEmpty else { throw bad("empty; expected sqlite://PATH, sqlite::memory: or postgres://USER:PASS@HOST:PORT/DB") }
        guard let colon = trimmed.firstIndex(of: ":") else {
            throw bad("missing scheme; expected sqlite://PATH, sqlite::memory: or postgres://USER:PASS@HOST:PORT/DB")
        }
        let scheme = trimmed[..<colon].lowercased()
        let rest = trimmed[trimmed.index(after: colon)...]
        switch scheme {
        case "sqlite", "sqlite3":
            if rest == ":memory:" || rest == "//:memory:" {
                self = .sqliteMemory
                return
            }
            guard rest.hasPrefix("//") else { throw bad("SQLite URLs look like sqlite:///absolute/path or sqlite://relative/path") }
            let rawPath = String(rest.dropFirst(2))
            guard !rawPath.isEmpty, rawPath != "/" else { throw bad("missing database file path") }
            guard !rawPath.contains("?"), !rawPath.contains("#") else { throw bad("SQLite URLs take no query or fragment") }
            guard let path = rawPath.removingPercentEncoding, !path.contains("\0") else { throw bad("path is not valid percent-encoded UTF-8") }
            guard !path.hasSuffix("/") else { throw bad("path names a directory, not a database file") }
            if path.hasPrefix("/") {
                self = .sqliteFile(path: path)
            } else {
                let base = currentDirectory ?? FileManager.default.currentDirectoryPath
                self = .sqliteFile(path: base.hasSuffix("/") ? base + path : base + "/" + path)
            }
        case "postgres", "postgresql":
            self = .postgres(try StorageURL.parsePostgres(trimmed, bad: bad))
        default:
            throw bad("unsupported scheme \"\(scheme)\"; expected sqlite or postgres")
        }
    }

    private static func parsePostgres(_ text: String, bad: (String) -> StorageError) throws(StorageError) -> PostgresSettings {
        guard let components = URLComponents(string: text) else { throw bad("not a valid URL") }
        guard let host = components.host, !host.isEmpty else { throw bad("missing host") }
        guard let user = components.user, !user.isEmpty else { throw bad("missing user name (postgres://USER:PASS@HOST:PORT/DB)") }
        let port: Int
        if let given = components.port {
            guard (1...65535).contains(given) else { throw bad("port \(given) is out of range 1...65535") }
            port = given
        } else if text.range(of: "@\(components.percentEncodedHost ?? host):") != nil {
            throw bad("port is not a number")
        } else {
            port = 5432
        }
        var path = components.percentEncodedPath
        if path.hasPrefix("/") { path.removeFirst() }
        guard !path.isEmpty else { throw bad("missing database name (postgres://USER:PASS@HOST:PORT/DB)") }
        guard !path.contains("/"), let database = path.removingPercentEncoding else { throw bad("database name must be one path segment") }
        var sslMode = PostgresSettings.SSLMode.prefer
        for item in components.queryItems ?? [] {
            switch item.name {
            case "sslmode":
                guard let value = item.value, let mode = PostgresSettings.SSLMode(rawValue: value) else {
                    throw bad("sslmode must be disable, prefer or require (got \"\(item.value ?? "")\")")
                }
                sslMode = mode
            default:
                throw bad("unsupported query parameter \"\(item.name)\" (only sslmode is supported)")
            }
        }
        guard components.fragment == nil else { throw bad("URLs take no fragment") }
        let bareHost = host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
        return PostgresSettings(host: bareHost, port: port, username: user, password: components.password,
                                database: database, sslMode: sslMode)
    }

    /// The URL with any password replaced by `***`, safe for logs and errors.
    public var description: String {
        switch self {
        case .sqliteFile(let path): return "sqlite://\(path)"
        case .sqliteMemory: return "sqlite::memory:"
        case .postgres(let settings):
            let auth = settings.password == nil ? settings.username : "\(settings.username):***"
            return "postgres://\(auth)@\(settings.endpoint)/\(settings.database)?sslmode=\(settings.sslMode.rawValue)"
        }
    }

    /// Hides the password of a `scheme://user:password@host` string.
    static func redacted(_ text: String) -> String {
        guard let schemeEnd = text.range(of: "://"), let at = text.range(of: "@", options: .backwards),
              schemeEnd.upperBound <= at.lowerBound else { return text }
        let auth = text[schemeEnd.upperBound..<at.lowerBound]
        guard let colon = auth.firstIndex(of: ":") else { return text }
        return String(text[..<colon]) + ":***" + String(text[at.lowerBound...])
    }
}
