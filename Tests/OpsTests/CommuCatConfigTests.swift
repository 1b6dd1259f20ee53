import Foundation
import Testing

@testable import Ops

@Suite struct CommuCatConfigTests {
    @Test func embeddedDefaultsMatchTheSpec() throws {
        let config = try CommuCatConfig.load(file: nil, environment: [:])
        #expect(config.domain == "localhost")
        #expect(config.dataDirectory == "./var")
        #expect(config.autoApproveDevices == false)
        #expect(config.httpListen.description == "127.0.0.1:8080")
        #expect(config.httpsListen.description == "127.0.0.1:8443")
        #expect(config.mediaUDPListen.description == "127.0.0.1:50000")
        #expect(config.allowAnonymous == false)
        #expect(config.redisURL == nil)
        #expect(config.adminToken == nil)
        #expect(config.cryptoPrologue == "commucat")
        #expect(config.turnTTL == .seconds(3600))
        #expect(config.ledgerMode == .file)
        #expect(config.effectiveStorageURL.hasPrefix("sqlite:///"))
        #expect(config.effectiveStorageURL.hasSuffix("/var/commucat.sqlite"))
        #expect(config.pairingTTL == .seconds(600))
        #expect(config.pairingMaxAttempts == 5)
        #expect(config.connectPerMinute == 60)
        #expect(config.pairClaimPerMinute == 5)
        #expect(config.pairCreatePerMinute == 20)
    }

    @Test func theSampleConfigLoadsToTheDefaults() throws {
        let sample = try #require(Self.repositoryFile("packaging/commucat.toml"))
        let config = try CommuCatConfig.load(file: sample, environment: [:])
        let defaults = try CommuCatConfig.load(file: nil, environment: [:])
        #expect(config.httpListen == defaults.httpListen)
        #expect(config.noiseKeyRotationInterval == .seconds(30 * 86_400))
        #expect(config.ledgerMaxBytes == defaults.ledgerMaxBytes)
        #expect(config.maxBodyBytes == defaults.maxBodyBytes)
        #expect(config.pairingTTL == defaults.pairingTTL)
        #expect(config.pairingMaxAttempts == defaults.pairingMaxAttempts)
        #expect(config.connectPerMinute == defaults.connectPerMinute)
        #expect(config.pairClaimPerMinute == defaults.pairClaimPerMinute)
        #expect(config.pairCreatePerMinute == defaults.pairCreatePerMinute)
    }

    @Test func pairingAndRateLimitKeysLoadFromTheFileAndTheEnvironment() throws {
        let file = try Self.write(
            """
            [pairing]
            ttl = "15m"
            max_attempts = 3
            [limits]
            connect_per_minute = 120
            pair_claim_per_minute = 2
            pair_create_per_minute = 40
            """)
        let fromFile = try CommuCatConfig.load(file: file, environment: [:])
        #expect(fromFile.pairingTTL == .seconds(900))
        #expect(fromFile.pairingMaxAttempts == 3)
        #expect(fromFile.connectPerMinute == 120)
        #expect(fromFile.pairClaimPerMinute == 2)
        #expect(fromFile.pairCreatePerMinute == 40)

        let overridden = try CommuCatConfig.load(
            file: file,
            environment: [
                "COMMUCAT_PAIRING_TTL": "90s", "COMMUCAT_PAIRING_MAX_ATTEMPTS": "8", "COMMUCAT_LIMITS_CONNECT_PER_MINUTE": "7",
                "COMMUCAT_LIMITS_PAIR_CLAIM_PER_MINUTE": "9", "COMMUCAT_LIMITS_PAIR_CREATE_PER_MINUTE": "11",
            ])
        #expect(overridden.pairingTTL == .seconds(90))
        #expect(overridden.pairingMaxAttempts == 8)
        #expect(overridden.connectPerMinute == 7)
        #expect(overridden.pairClaimPerMinute == 9)
        #expect(overridden.pairCreatePerMinute == 11)
    }

    @Test func environmentOverridesTheFile() throws {
        let file = try Self.write("[server]\nauto_approve_devices = false\n[http]\nlisten = \"127.0.0.1:9000\"\n")
        let config = try CommuCatConfig.load(
            file: file,
            environment: [
                "COMMUCAT_SERVER_AUTO_APPROVE_DEVICES": "true",
                "COMMUCAT_REDIS_URL": "redis://127.0.0.1:6379",
                "COMMUCAT_MEDIA_PUBLIC_IPS": "203.0.113.7, 2001:db8::1",
                "COMMUCAT_LIMITS_RELAY_TTL": "36h",
            ])
        #expect(config.autoApproveDevices)
        #expect(config.httpListen.port == 9000)
        #expect(config.redisURL == "redis://127.0.0.1:6379")
        #expect(config.mediaPublicIPs == ["203.0.113.7", "2001:db8::1"])
        #expect(config.relayTTL == .seconds(36 * 3600))
    }

    @Test(arguments: [
        ("[http]\nlisten = \"nonsense\"\n", [:], "http.listen = \"nonsense\": expected HOST:PORT"),
        ("[http]\nlisten = 8080\n", [:], "http.listen = 8080: expected a string"),
        ("[server]\nauto_approve_devices = \"yes\"\n", [:], "server.auto_approve_devices = \"yes\": expected true or false"),
        ("[serverr]\ndomain = \"x\"\n", [:], "unknown key serverr.domain"),
        ("[server]\ndomian = \"x\"\n", [:], "unknown key server.domian"),
        ("", ["COMMUCAT_HTTPS_LISTEN": "127.0.0.1:99999"], "https.listen = \"127.0.0.1:99999\""),
        ("", ["COMMUCAT_SERVER_AUTO_APPROVE_DEVICES": "maybe"], "(from COMMUCAT_SERVER_AUTO_APPROVE_DEVICES)"),
        ("", ["COMMUCAT_STORAGE_URL": "mysql://x"], "storage.url = \"mysql://x\": expected sqlite://"),
        ("", ["COMMUCAT_LIMITS_RELAY_TTL": "soon"], "limits.relay_ttl = \"soon\": expected a duration"),
        ("[pairing]\nttl = \"5s\"\n", [:], "expected whole seconds from 30s to 24h (in "),
        ("", ["COMMUCAT_PAIRING_TTL": "later"], "pairing.ttl = \"later\": expected a duration"),
        ("[pairing]\nmax_attempts = 0\n", [:], "pairing.max_attempts = 0: expected an integer from 1 to 100"),
        ("", ["COMMUCAT_LIMITS_CONNECT_PER_MINUTE": "0"], "limits.connect_per_minute = 0: expected an integer from 1 to 100000"),
        ("", ["COMMUCAT_LIMITS_CONNECT_PER_MINUTE": "lots"], "limits.connect_per_minute = \"lots\": expected an integer"),
        ("[limits]\npair_claim_per_minute = \"5\"\n", [:], "limits.pair_claim_per_minute = \"5\": expected an integer from 1 to 10000"),
        ("", ["COMMUCAT_LIMITS_PAIR_CREATE_PER_MINUTE": "-3"], "limits.pair_create_per_minute = -3: expected an integer from 1 to 10000"),
        ("", ["COMMUCAT_MEDIA_PUBLIC_IPS": "not-an-ip"], "media.public_ips = \"not-an-ip\""),
        ("", ["COMMUCAT_HTTPS_CERT": "/x.crt"], "https.cert and https.key must be given together"),
        ("", ["COMMUCAT_TURN_URLS": "turn:127.0.0.1:3478"], "turn.secret is not"),
        ("[log]\nlevel = \"loud\"\n", [:], "log.level = \"loud\""),
        ("a = [", [:], "line 1"),
    ])
    func invalidConfigNamesTheKeyTheValueAndWhatWasExpected(toml: String, env: [String: String], message: String) throws {
        let file = try Self.write(toml)
        #expect {
            _ = try CommuCatConfig.load(file: file, environment: env)
        } throws: { error in
            guard let error = error as? ConfigError else { return false }
            let line = error.description
            return line.contains(message) && !line.contains("\n") && line.hasPrefix("config: ")
        }
    }

    @Test func aMissingFileIsOneClearLine() {
        #expect {
            _ = try CommuCatConfig.load(file: "/nonexistent/commucat.toml", environment: [:])
        } throws: { error in
            (error as? ConfigError)?.description == "config: cannot read /nonexistent/commucat.toml: no such file"
        }
    }

    @Test func durationsParse() {
        #expect(parseDuration("250ms") == .milliseconds(250))
        #expect(parseDuration("90s") == .seconds(90))
        #expect(parseDuration("15m") == .seconds(900))
        #expect(parseDuration("2h") == .seconds(7200))
        #expect(parseDuration("7d") == .seconds(604_800))
        #expect(parseDuration("42") == .seconds(42))
        #expect(parseDuration("-1s") == nil)
        #expect(parseDuration("1w") == nil)
    }

    // security (listeners)
    @Test func listenerLimitsLoadFromTheEnvironmentAndAreRangeChecked() throws {
        let defaults = try CommuCatConfig.load(file: nil, environment: [:])
        #expect(defaults.connectionsPerIP == 64 && defaults.maxConnections == 4096)
        #expect(defaults.headerTimeout == .seconds(10) && defaults.tlsHandshakeTimeout == .seconds(10) && defaults.httpIdleTimeout == .seconds(60))
        let config = try CommuCatConfig.load(
            file: nil,
            environment: [
                "COMMUCAT_LIMITS_CONNECTIONS_PER_IP": "8", "COMMUCAT_LIMITS_MAX_CONNECTIONS": "100", "COMMUCAT_LIMITS_HEADER_TIMEOUT": "2s",
                "COMMUCAT_LIMITS_TLS_HANDSHAKE_TIMEOUT": "500ms", "COMMUCAT_LIMITS_HTTP_IDLE_TIMEOUT": "5m",
            ])
        #expect(config.connectionsPerIP == 8 && config.maxConnections == 100)
        #expect(config.headerTimeout == .seconds(2) && config.tlsHandshakeTimeout == .milliseconds(500) && config.httpIdleTimeout == .seconds(300))
        #expect {
            _ = try CommuCatConfig.load(file: nil, environment: ["COMMUCAT_LIMITS_HEADER_TIMEOUT": "10ms"])
        } throws: { error in
            (error as? ConfigError)?.message.hasPrefix("limits.header_timeout = ") == true
        }
        #expect(throws: ConfigError.self) { try CommuCatConfig.load(file: nil, environment: ["COMMUCAT_LIMITS_CONNECTIONS_PER_IP": "0"]) }
    }

    @Test func aPublicListenerNeedsA32ByteAdminTokenAndHasNoDevTokens() throws {
        let public0 = ["COMMUCAT_HTTP_LISTEN": "0.0.0.0:8080"]
        #expect {
            _ = try CommuCatConfig.load(file: nil, environment: public0)
        } throws: { error in
            (error as? ConfigError)?.description
                == "config: admin.token = (not set): expected at least 32 bytes because http.listen = \"0.0.0.0:8080\" is not a loopback address"
        }
        #expect {
            _ = try CommuCatConfig.load(file: nil, environment: ["COMMUCAT_HTTPS_LISTEN": "[::]:8443", "COMMUCAT_ADMIN_TOKEN": "short"])
        } throws: { error in
            let message = (error as? ConfigError)?.message ?? ""
            return message.hasPrefix("admin.token = (5 bytes)") && message.contains("https.listen") && message.hasSuffix("(from COMMUCAT_ADMIN_TOKEN)")
        }
        let token = String(repeating: "t", count: 32)
        let config = try CommuCatConfig.load(file: nil, environment: public0.merging(["COMMUCAT_ADMIN_TOKEN": token]) { $1 })
        #expect(!config.listenersAreLoopback)
        #expect(!config.devTokensEnabled, "embedded defaults, but a public listener: no dev tokens")
        #expect(throws: ConfigError.self) {
            try CommuCatConfig.load(file: nil, environment: public0.merging(["COMMUCAT_ADMIN_TOKEN": token, "COMMUCAT_AUTH_DEV_TOKENS": "true"]) { $1 })
        }
        // A public address on a disabled listener does not count; loopback keeps the old rules.
        let disabled = try CommuCatConfig.load(file: nil, environment: public0.merging(["COMMUCAT_HTTP_ENABLED": "false"]) { $1 })
        #expect(disabled.listenersAreLoopback && disabled.devTokensEnabled)
        let loopback = try CommuCatConfig.load(file: nil, environment: ["COMMUCAT_ADMIN_TOKEN": "short", "COMMUCAT_HTTPS_LISTEN": "[::1]:0"])
        #expect(loopback.listenersAreLoopback && loopback.devTokensEnabled)
    }

    @Test func loopbackHostsAreRecognised() {
        for host in ["127.0.0.1", "127.8.9.10", "::1", "localhost", "LOCALHOST"] { #expect(CommuCatConfig.isLoopbackHost(host), "\(host)") }
        for host in ["0.0.0.0", "::", "10.0.0.1", "128.0.0.1", "example.org", "::2", ""] { #expect(!CommuCatConfig.isLoopbackHost(host), "\(host)") }
    }

    static func write(_ text: String) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("commucat-\(UUID().uuidString).toml").path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// A file of this repository, found from this source file's location.
    static func repositoryFile(_ relative: String) -> String? {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        let path = url.appendingPathComponent(relative).path
        return FileManager.default.fileExists(atPath: path) ? path : nil
    }
}
