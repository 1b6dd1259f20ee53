/// A parsed `redis://[[username]:password@]host[:port][/db]` URL.
///
/// `host` may be a name, an IPv4 address or a bracketed IPv6 address (`[::1]`). The port
/// defaults to 6379 and the database to 0. The password (and username) may be
/// percent-encoded. `rediss://` (TLS) is rejected: this target speaks plain TCP only.
public struct RedisURL: Sendable, Hashable, CustomStringConvertible {
    public var host: String
    public var port: Int
    public var username: String?
    public var password: String?
    public var database: Int

    public static let defaultPort = 6379

    public init(host: String, port: Int = RedisURL.defaultPort, username: String? = nil, password: String? = nil, database: Int = 0) {
        self.host = host
        self.port = port
        self.username = username
        self.password = password
        self.database = database
    }

    /// Parses `string`; every failure is a `RedisError` with code `bad_url` and a one-line
    /// message naming the offending part (the password is never echoed).
    public init(parsing string: String) throws(RedisError) {
        func fail(_ why: String) -> RedisError {
            RedisError(code: .badURL, message: "invalid redis URL: \(why) (expected redis://[:password@]host:port[/db])")
        }
        guard let schemeEnd = string.firstRange(of: "://") else {
            throw fail("missing scheme")
        }
        let scheme = string[string.startIndex..<schemeEnd.lowerBound].lowercased()
        guard scheme == "redis" else {
            if scheme == "rediss" { throw fail("TLS (rediss://) is not supported") }
            throw fail("scheme must be redis, got '\(scheme)'")
        }
        var rest = Substring(string[schemeEnd.upperBound...])
        if rest.contains("?") || rest.contains("#") {
            throw fail("query strings and fragments are not supported")
        }

        var path: Substring = ""
        if let slash = rest.firstIndex(of: "/") {
            path = rest[rest.index(after: slash)...]
            rest = rest[..<slash]
        }
        var username: String?
        var password: String?
        if let at = rest.lastIndex(of: "@") {
            let userinfo = rest[..<at]
            rest = rest[rest.index(after: at)...]
            if let colon = userinfo.firstIndex(of: ":") {
                let user = userinfo[..<colon]
                let pass = userinfo[userinfo.index(after: colon)...]
                if !user.isEmpty { username = try Self.percentDecode(user, part: "username") }
                password = try Self.percentDecode(pass, part: "password")
            } else if !userinfo.isEmpty {
                // `redis://secret@host` is how several tools spell a password-only URL.
                password = try Self.percentDecode(userinfo, part: "password")
            }
        }

        var host: Substring
        var portText: Substring?
        if rest.hasPrefix("[") {
            guard let close = rest.firstIndex(of: "]") else { throw fail("unterminated IPv6 address") }
            host = rest[rest.index(after: rest.startIndex)..<close]
            let after = rest[rest.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { throw fail("unexpected text after IPv6 address") }
                portText = after.dropFirst()
            }
        } else if let colon = rest.firstIndex(of: ":") {
            host = rest[..<colon]
            portText = rest[rest.index(after: colon)...]
        } else {
            host = rest
        }
        guard !host.isEmpty else { throw fail("missing host") }
        if host.contains(where: { $0 == " " || $0 == "/" || $0 == "@" }) {
            throw fail("host '\(host)' contains an invalid character")
        }

        var port = Self.defaultPort
        if let portText {
            guard let value = Int(portText), (1...65535).contains(value) else {
                throw fail("port '\(portText)' is not a number in 1...65535")
            }
            port = value
        }
        var database = 0
        if !path.isEmpty {
            guard let value = Int(path), value >= 0 else {
                throw fail("database '\(path)' is not a non-negative integer")
            }
            database = value
        }
        self.init(host: String(host), port: port, username: username, password: password, database: database)
    }

    /// The URL with the password replaced by `***`, for logs and `/readyz`.
    public var description: String {
        var auth = ""
        if self.username != nil || self.password != nil {
            auth = "\(self.username ?? ""):\(self.password == nil ? "" : "***")@"
        }
        let host = self.host.contains(":") ? "[\(self.host)]" : self.host
        let db = self.database == 0 ? "" : "/\(self.database)"
        return "redis://\(auth)\(host):\(self.port)\(db)"
    }

    private static func percentDecode(_ text: Substring, part: String) throws(RedisError) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.utf8.count)
        var iterator = text.utf8.makeIterator()
        while let byte = iterator.next() {
            guard byte == UInt8(ascii: "%") else {
                bytes.append(byte)
                continue
            }
            guard let high = iterator.next().flatMap(Self.hexValue), let low = iterator.next().flatMap(Self.hexValue) else {
                throw RedisError(code: .badURL, message: "invalid redis URL: bad percent-escape in \(part)")
            }
            bytes.append(high << 4 | low)
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
