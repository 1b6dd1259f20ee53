import Foundation
import Logging

/// A `host:port` to bind, validated at start-up.
public struct ListenAddress: Sendable, Equatable, CustomStringConvertible {
    public var host: String
    public var port: Int

    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }

    /// Parses `127.0.0.1:8080`, `[::1]:8080` or `0.0.0.0:0`.
    public init?(parsing text: String) {
        let hostPart: Substring
        let portPart: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]"), text[text.index(after: close)...].hasPrefix(":") else { return nil }
            hostPart = text[text.index(after: text.startIndex)..<close]
            portPart = text[text.index(close, offsetBy: 2)...]
        } else {
            guard let colon = text.lastIndex(of: ":"), !text[..<colon].contains(":") else { return nil }
            hostPart = text[..<colon]
            portPart = text[text.index(after: colon)...]
        }
        guard !hostPart.isEmpty, let port = Int(portPart), (0...65535).contains(port) else { return nil }
        self.host = String(hostPart)
        self.port = port
    }

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }
}

/// The whole server configuration (SPEC §2), typed and validated.
public struct CommuCatConfig: Sendable {
    public enum LogFormat: String, Sendable { case json, text }
    public enum LedgerMode: String, Sendable { case file, debug, null }

    // server
    public var domain = "localhost"
    public var dataDirectory = "./var"
    public var autoApproveDevices = false
    // log
    public var logLevel: Logger.Level = .info
    public var logFormat: LogFormat = .json
    // http / https
    public var httpEnabled = true
    public var httpListen = ListenAddress(host: "127.0.0.1", port: 8080)
    public var httpsEnabled = true
    public var httpsListen = ListenAddress(host: "127.0.0.1", port: 8443)
    public var httpsCertificatePath: String?
    public var httpsKeyPath: String?
    // media
    public var mediaUDPListen = ListenAddress(host: "127.0.0.1", port: 50000)
    public var mediaPublicIPs: [String] = []
    // auth
    public var apiKey: String?
    public var apiSecret: String?
    public var allowAnonymous = false
    /// `POST /api/dev/token` for the demo page: on with embedded defaults (no config file), off
    /// when a config file is used unless `auth.dev_tokens = true`.
    public var devTokens: Bool?
    /// `rooms.max_participants`: participants per `/rtc` room.
    public var maxRoomParticipants = 50
    // storage, redis, admin
    public var storageURL: String?
    public var redisURL: String?
    public var adminToken: String?
    // crypto
    public var cryptoPrologue = "commucat"
    public var noiseKeyRotationInterval: Duration = .seconds(30 * 86_400)
    public var noiseKeyGrace: Duration = .seconds(7 * 86_400)
    // turn
    public var turnURLs: [String] = []
    public var turnSecret: String?
    public var turnTTL: Duration = .seconds(3600)
    // pairing
    /// `pairing.ttl`: how long a pairing code can be claimed.
    public var pairingTTL: Duration = .seconds(600)
    /// `pairing.max_attempts`: claim attempts allowed per code.
    public var pairingMaxAttempts = 5
    // ledger
    public var ledgerMode: LedgerMode = .file
    public var ledgerPath: String?
    public var ledgerMaxBytes: Int64 = 64 * 1024 * 1024
    // limits
    public var relayTTL: Duration = .seconds(7 * 86_400)
    public var maxBodyBytes: Int64 = 1024 * 1024
    public var shutdownGrace: Duration = .seconds(10)
    /// `limits.keepalive_interval`: the Ack's `keepalive_interval`; `/connect` sessions silent for 3 intervals close.
    public var keepaliveInterval: Duration = .seconds(30)
    /// `limits.connect_per_minute`: `/connect` streams per client address per minute.
    public var connectPerMinute = 60
    /// `limits.pair_claim_per_minute`: pairing-code claims per client address per minute.
    public var pairClaimPerMinute = 5
    /// `limits.pair_create_per_minute`: pairing codes created per user per minute.
    public var pairCreatePerMinute = 20
    // security (/connect handshake)
    /// `limits.handshake_timeout`: a `/connect` stream must complete its handshake this soon after opening.
    public var handshakeTimeout: Duration = .seconds(10)
    /// `limits.connect_handshakes_per_ip`: `/connect` streams of one address in their handshake at once.
    public var connectHandshakesPerIP = 16
    // security (media)
    /// `limits.whip_per_minute`: WHIP and WHEP POSTs (new media sessions) per client address per minute.
    public var whipPerMinute = 60
    /// `media.max_tracks_per_offer`: m-sections an offer (WHIP, WHEP or `/rtc` publish) may hold.
    public var mediaMaxTracksPerOffer = 16
    /// `media.max_sessions_per_identity`: live WHIP/WHEP sessions of one token identity.
    public var mediaMaxSessionsPerIdentity = 10
    /// `media.max_sessions_per_ip`: live WHIP/WHEP sessions of one client address.
    public var mediaMaxSessionsPerIP = 32
    /// `media.retransmission_budget_bytes`: bytes of NACK retransmission rings the media worker may hold.
    public var mediaRetransmissionBudgetBytes: Int64 = 256 * 1024 * 1024
    /// `rooms.max_participants_per_identity`: `/rtc` participants (all rooms) of one token identity.
    public var maxRoomParticipantsPerIdentity = 8
    /// `rooms.send_queue_messages`: messages queued for one `/rtc` client; a client that falls this far behind is closed.
    public var roomSendQueueMessages = 512

    // security (listeners)
    /// `limits.connections_per_ip`: open HTTP(S) connections of one client address, both listeners together.
    public var connectionsPerIP = 64
    /// `limits.max_connections`: open HTTP(S) connections in total, both listeners together.
    public var maxConnections = 4096
    /// `limits.header_timeout`: an HTTP/1 connection must complete each request head this soon
    /// (after it opens, or after the first byte of a keep-alive request).
    public var headerTimeout: Duration = .seconds(10)
    /// `limits.tls_handshake_timeout`: an HTTPS connection must complete TLS and ALPN this soon after opening.
    public var tlsHandshakeTimeout: Duration = .seconds(10)
    /// `limits.http_idle_timeout`: a keep-alive HTTP/1 connection or an HTTP/2 connection without
    /// open streams closes after this long idle (WebSockets and streaming responses are not idle).
    public var httpIdleTimeout: Duration = .seconds(60)

    /// Where the embedded defaults came from when no file was given.
    public private(set) var sourceFile: String?

    public init() {}

    /// Every key a `commucat.toml` may hold. Unknown keys are an error (a typo must not be silently
    /// ignored); each key can be overridden by `COMMUCAT_<SECTION>_<KEY>`.
    public static let knownKeys: [String] = [
        "server.domain", "server.data_dir", "server.auto_approve_devices",
        "log.level", "log.format",
        "http.enabled", "http.listen",
        "https.enabled", "https.listen", "https.cert", "https.key",
        "media.udp_listen", "media.public_ips",
        "auth.api_key", "auth.api_secret", "auth.allow_anonymous", "auth.dev_tokens",
        "rooms.max_participants",
        "storage.url", "redis.url", "admin.token",
        "crypto.prologue", "crypto.noise_rotation_interval", "crypto.noise_grace",
        "turn.urls", "turn.secret", "turn.ttl",
        "pairing.ttl", "pairing.max_attempts",
        "ledger.mode", "ledger.path", "ledger.max_bytes",
        "limits.relay_ttl", "limits.max_body_bytes", "limits.shutdown_grace", "limits.keepalive_interval",
        "limits.connect_per_minute", "limits.pair_claim_per_minute", "limits.pair_create_per_minute",
        "limits.handshake_timeout", "limits.connect_handshakes_per_ip",
        // security (media)
        "limits.whip_per_minute", "media.max_tracks_per_offer", "media.max_sessions_per_identity",
        "media.max_sessions_per_ip", "media.retransmission_budget_bytes", "rooms.max_participants_per_identity",
        "rooms.send_queue_messages",
        // security (listeners)
        "limits.connections_per_ip", "limits.max_connections", "limits.header_timeout", "limits.tls_handshake_timeout",
        "limits.http_idle_timeout",
    ]

    /// Loads `file` (or nothing: embedded defaults) and applies the environment overrides.
    public static func load(file: String?, environment: [String: String] = ProcessInfo.processInfo.environment)
        throws(ConfigError) -> CommuCatConfig
    {
        let source = try ConfigSource(file: file, environment: environment, knownKeys: knownKeys)
        var config = CommuCatConfig()
        config.sourceFile = file
        try config.apply(source)
        try config.validate(source)
        return config
    }

    private mutating func apply(_ s: ConfigSource) throws(ConfigError) {
        if let v = try s.string("server.domain") { domain = v }
        if let v = try s.string("server.data_dir") { dataDirectory = v }
        if let v = try s.bool("server.auto_approve_devices") { autoApproveDevices = v }
        if let v = try s.string("log.level") {
            guard let level = Logger.Level(rawValue: v.lowercased()) else {
                throw .invalid("log.level", "\"\(v)\"", expected: "trace, debug, info, notice, warning, error or critical", origin: s.origin(of: "log.level"))
            }
            logLevel = level
        }
        if let v = try s.string("log.format") {
            guard let format = LogFormat(rawValue: v) else {
                throw .invalid("log.format", "\"\(v)\"", expected: "json or text", origin: s.origin(of: "log.format"))
            }
            logFormat = format
        }
        if let v = try s.bool("http.enabled") { httpEnabled = v }
        if let v = try Self.listen("http.listen", s) { httpListen = v }
        if let v = try s.bool("https.enabled") { httpsEnabled = v }
        if let v = try Self.listen("https.listen", s) { httpsListen = v }
        httpsCertificatePath = try s.string("https.cert")
        httpsKeyPath = try s.string("https.key")
        if let v = try Self.listen("media.udp_listen", s) { mediaUDPListen = v }
        if let v = try s.strings("media.public_ips") { mediaPublicIPs = v }
        apiKey = try s.string("auth.api_key")
        apiSecret = try s.string("auth.api_secret")
        if let v = try s.bool("auth.allow_anonymous") { allowAnonymous = v }
        if let v = try s.bool("auth.dev_tokens") { devTokens = v }
        if let v = try s.integer("rooms.max_participants", range: 1...10_000) { maxRoomParticipants = Int(v) }
        storageURL = try s.string("storage.url")
        redisURL = try s.string("redis.url").flatMap { $0.isEmpty ? nil : $0 }
        adminToken = try s.string("admin.token").flatMap { $0.isEmpty ? nil : $0 }
        if let v = try s.string("crypto.prologue") { cryptoPrologue = v }
        if let v = try s.duration("crypto.noise_rotation_interval") { noiseKeyRotationInterval = v }
        if let v = try s.duration("crypto.noise_grace") { noiseKeyGrace = v }
        if let v = try s.strings("turn.urls") { turnURLs = v }
        turnSecret = try s.string("turn.secret")
        if let v = try s.duration("turn.ttl") { turnTTL = v }
        if let v = try s.duration("pairing.ttl") {
            guard v >= .seconds(30), v <= .seconds(86_400), v.components.attoseconds == 0 else {
                throw .invalid("pairing.ttl", "\(v)", expected: "whole seconds from 30s to 24h", origin: s.origin(of: "pairing.ttl"))
            }
            pairingTTL = v
        }
        if let v = try s.integer("pairing.max_attempts", range: 1...100) { pairingMaxAttempts = Int(v) }
        if let v = try s.string("ledger.mode") {
            guard let mode = LedgerMode(rawValue: v) else {
                throw .invalid("ledger.mode", "\"\(v)\"", expected: "file, debug or null", origin: s.origin(of: "ledger.mode"))
            }
            ledgerMode = mode
        }
        ledgerPath = try s.string("ledger.path")
        if let v = try s.integer("ledger.max_bytes", range: 4096...(1 << 40)) { ledgerMaxBytes = v }
        if let v = try s.duration("limits.relay_ttl") { relayTTL = v }
        if let v = try s.integer("limits.max_body_bytes", range: 1024...(1 << 30)) { maxBodyBytes = v }
        if let v = try s.duration("limits.shutdown_grace") { shutdownGrace = v }
        if let v = try s.duration("limits.keepalive_interval") {
            guard v >= .seconds(1), v <= .seconds(3600), v.components.attoseconds == 0 else {
                throw .invalid("limits.keepalive_interval", "\(v)", expected: "whole seconds from 1s to 1h", origin: s.origin(of: "limits.keepalive_interval"))
            }
            keepaliveInterval = v
        }
        if let v = try s.integer("limits.connect_per_minute", range: 1...100_000) { connectPerMinute = Int(v) }
        if let v = try s.integer("limits.pair_claim_per_minute", range: 1...10_000) { pairClaimPerMinute = Int(v) }
        if let v = try s.integer("limits.pair_create_per_minute", range: 1...10_000) { pairCreatePerMinute = Int(v) }
        if let v = try s.duration("limits.handshake_timeout") {
            guard v >= .milliseconds(100), v <= .seconds(120) else {
                throw .invalid("limits.handshake_timeout", "\(v)", expected: "a duration from 100ms to 120s", origin: s.origin(of: "limits.handshake_timeout"))
            }
            handshakeTimeout = v
        }
        if let v = try s.integer("limits.connect_handshakes_per_ip", range: 1...10_000) { connectHandshakesPerIP = Int(v) }
        // security (media)
        if let v = try s.integer("limits.whip_per_minute", range: 1...100_000) { whipPerMinute = Int(v) }
        if let v = try s.integer("media.max_tracks_per_offer", range: 1...256) { mediaMaxTracksPerOffer = Int(v) }
        if let v = try s.integer("media.max_sessions_per_identity", range: 1...100_000) { mediaMaxSessionsPerIdentity = Int(v) }
        if let v = try s.integer("media.max_sessions_per_ip", range: 1...100_000) { mediaMaxSessionsPerIP = Int(v) }
        if let v = try s.integer("media.retransmission_budget_bytes", range: (1 << 20)...(1 << 40)) { mediaRetransmissionBudgetBytes = v }
        if let v = try s.integer("rooms.max_participants_per_identity", range: 1...10_000) { maxRoomParticipantsPerIdentity = Int(v) }
        if let v = try s.integer("rooms.send_queue_messages", range: 16...100_000) { roomSendQueueMessages = Int(v) }
        // security (listeners)
        if let v = try s.integer("limits.connections_per_ip", range: 1...1_000_000) { connectionsPerIP = Int(v) }
        if let v = try s.integer("limits.max_connections", range: 1...1_000_000) { maxConnections = Int(v) }
        if let v = try Self.timeout("limits.header_timeout", s, .milliseconds(100)...(.seconds(300)), "100ms to 300s") { headerTimeout = v }
        if let v = try Self.timeout("limits.tls_handshake_timeout", s, .milliseconds(100)...(.seconds(300)), "100ms to 300s") {
            tlsHandshakeTimeout = v
        }
        if let v = try Self.timeout("limits.http_idle_timeout", s, .milliseconds(100)...(.seconds(86_400)), "100ms to 24h") { httpIdleTimeout = v }
    }

    /// A duration key within `range` (security (listeners)).
    private static func timeout(_ key: String, _ s: ConfigSource, _ range: ClosedRange<Duration>, _ shown: String) throws(ConfigError)
        -> Duration?
    {
        guard let v = try s.duration(key) else { return nil }
        guard range.contains(v) else {
            throw .invalid(key, "\(v)", expected: "a duration from \(shown)", origin: s.origin(of: key))
        }
        return v
    }

    private static func listen(_ key: String, _ s: ConfigSource) throws(ConfigError) -> ListenAddress? {
        guard let text = try s.string(key) else { return nil }
        guard let address = ListenAddress(parsing: text) else {
            throw .invalid(key, "\"\(text)\"", expected: "HOST:PORT with a port from 0 to 65535 (e.g. 127.0.0.1:8080)", origin: s.origin(of: key))
        }
        return address
    }

    private func validate(_ s: ConfigSource) throws(ConfigError) {
        if domain.isEmpty || domain.contains(where: { $0.isWhitespace || $0 == "/" }) {
            throw .invalid("server.domain", "\"\(domain)\"", expected: "a DNS name without spaces or slashes", origin: s.origin(of: "server.domain"))
        }
        if dataDirectory.isEmpty {
            throw .invalid("server.data_dir", "\"\"", expected: "a directory path", origin: s.origin(of: "server.data_dir"))
        }
        if (httpsCertificatePath == nil) != (httpsKeyPath == nil) {
            throw ConfigError("https.cert and https.key must be given together (or neither, for a generated self-signed certificate)")
        }
        if (apiKey == nil) != (apiSecret == nil) {
            throw ConfigError("auth.api_key and auth.api_secret must be given together (or neither, to generate them in the data dir)")
        }
        if let secret = apiSecret, secret.utf8.count < 32 {
            throw .invalid("auth.api_secret", "(\(secret.utf8.count) bytes)", expected: "at least 32 bytes for HS256", origin: s.origin(of: "auth.api_secret"))
        }
        if let url = storageURL, !(url.hasPrefix("sqlite:") || url.hasPrefix("postgres://") || url.hasPrefix("postgresql://")) {
            throw .invalid("storage.url", "\"\(url)\"", expected: "sqlite://PATH or postgres://USER:PASSWORD@HOST:PORT/DB", origin: s.origin(of: "storage.url"))
        }
        if let url = redisURL, !(url.hasPrefix("redis://")) {
            throw .invalid("redis.url", "\"\(url)\"", expected: "redis://[:PASSWORD@]HOST:PORT[/DB]", origin: s.origin(of: "redis.url"))
        }
        for ip in mediaPublicIPs where !Self.isIPAddress(ip) {
            throw .invalid("media.public_ips", "\"\(ip)\"", expected: "IPv4 or IPv6 addresses", origin: s.origin(of: "media.public_ips"))
        }
        for url in turnURLs where !(url.hasPrefix("turn:") || url.hasPrefix("turns:") || url.hasPrefix("stun:")) {
            throw .invalid("turn.urls", "\"\(url)\"", expected: "turn:HOST:PORT, turns:… or stun:… URLs", origin: s.origin(of: "turn.urls"))
        }
        if !turnURLs.isEmpty, turnSecret == nil, turnURLs.contains(where: { !$0.hasPrefix("stun:") }) {
            throw ConfigError("turn.urls is set but turn.secret is not: TURN credentials need the coturn static-auth-secret")
        }
        if httpEnabled, httpsEnabled, httpListen == httpsListen, httpListen.port != 0 {
            throw ConfigError("http.listen and https.listen are both \(httpListen): give them different ports")
        }
        // security (listeners): a public listener needs a real admin token; dev tokens only on loopback.
        if !listenersAreLoopback {
            let key = httpEnabled && !Self.isLoopbackHost(httpListen.host) ? "http.listen" : "https.listen"
            let address = key == "http.listen" ? httpListen : httpsListen
            if (adminToken?.utf8.count ?? 0) < 32 {
                let shown = adminToken.map { "(\($0.utf8.count) bytes)" } ?? "(not set)"
                throw .invalid(
                    "admin.token", shown,
                    expected: "at least 32 bytes because \(key) = \"\(address)\" is not a loopback address", origin: s.origin(of: "admin.token"))
            }
            if devTokens == true {
                throw .invalid(
                    "auth.dev_tokens", "true", expected: "false because \(key) = \"\(address)\" is not a loopback address",
                    origin: s.origin(of: "auth.dev_tokens"))
            }
        }
        if !httpEnabled && !httpsEnabled {
            throw ConfigError("http.enabled and https.enabled are both false: nothing would listen")
        }
    }

    static func isIPAddress(_ s: String) -> Bool {
        var v4 = in_addr()
        var v6 = in6_addr()
        return inet_pton(AF_INET, s, &v4) == 1 || inet_pton(AF_INET6, s, &v6) == 1
    }

    // MARK: Derived paths

    /// The data directory made absolute against the current directory.
    /// Whether `POST /api/dev/token` is served (see ``devTokens``).
    /// Never when a listener is not on loopback (security (listeners)).
    public var devTokensEnabled: Bool { (devTokens ?? (sourceFile == nil)) && listenersAreLoopback }

    /// True when every enabled HTTP(S) listener is bound to a loopback address (security (listeners)).
    public var listenersAreLoopback: Bool {
        (!httpEnabled || Self.isLoopbackHost(httpListen.host)) && (!httpsEnabled || Self.isLoopbackHost(httpsListen.host))
    }

    /// `localhost`, 127.0.0.0/8 and ::1 (a listen host; `0.0.0.0` and `::` are not loopback).
    static func isLoopbackHost(_ host: String) -> Bool {
        let h = host.lowercased()
        if h == "localhost" || h == "::1" { return true }
        var v4 = in_addr()
        if inet_pton(AF_INET, h, &v4) == 1 { return UInt32(bigEndian: v4.s_addr) >> 24 == 127 }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, h, &v6) == 1 {
            var loopback = in6addr_loopback
            return memcmp(&v6, &loopback, MemoryLayout<in6_addr>.size) == 0
        }
        return false
    }

    public var dataDirectoryURL: URL {
        URL(fileURLWithPath: dataDirectory, relativeTo: URL(fileURLWithPath: FileManager.default.currentDirectoryPath))
            .standardizedFileURL
    }

    /// `storage.url`, or the embedded SQLite database in the data dir.
    public var effectiveStorageURL: String {
        storageURL ?? "sqlite://" + dataDirectoryURL.appendingPathComponent("commucat.sqlite").path
    }

    public var effectiveLedgerPath: String {
        ledgerPath ?? dataDirectoryURL.appendingPathComponent("ledger.jsonl").path
    }
}
