import AsyncHTTPClient
import Foundation
import HTTPTypes
import NIOCore
import Testing

@testable import Ops

@Suite(.serialized) struct CommuCatServerTests {
    @Test func servesOpsEndpointsOnHTTPAndHTTPS() async throws {
        let data = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: data) }
        try await withRunningServer(try testConfig(dataDirectory: data)) { _, addresses in
            for listener in ["http", "https"] {
                let health = try await fetch(url(addresses, listener, "/healthz"))
                #expect(health.status == 200)
                #expect(health.body.contains("\"status\":\"ok\""))

                let ready = try await fetch(url(addresses, listener, "/readyz"))
                #expect(ready.status == 200)
                #expect(ready.body.contains("\"status\":\"ready\""))
                #expect(ready.body.contains("\"storage\":{\"status\":\"up\""))

                let openapi = try await fetch(url(addresses, listener, "/openapi.json"))
                #expect(openapi.status == 200)
                let object = try JSONSerialization.jsonObject(with: Data(openapi.body.utf8)) as? [String: Any]
                #expect(object?["openapi"] as? String == "3.1.0")
                let paths = object?["paths"] as? [String: Any]
                #expect(paths?["/healthz"] != nil && paths?["/metrics"] != nil)
            }
            // HTTPS negotiates HTTP/2 through ALPN.
            let h2 = try await fetch(url(addresses, "https", "/healthz"))
            #expect(h2.version == .http2)
        }
    }

    @Test func unknownRoutesAndErrorsAreProblemDocumentsWithStableCodes() async throws {
        let data = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: data) }
        try await withRunningServer(try testConfig(dataDirectory: data)) { _, addresses in
            let missing = try await fetch(url(addresses, "http", "/no/such/thing"))
            #expect(missing.status == 404)
            #expect(missing.headers["content-type"].first == "application/problem+json")
            #expect(missing.body.contains("\"code\":\"not_found\""))
            let metrics = try await fetch(url(addresses, "http", "/metrics"))
            #expect(metrics.body.contains("commucat_http_rejections_total{code=\"not_found\"}"))
        }
    }

    @Test func metricsNeedTheAdminTokenWhenOneIsSet() async throws {
        let data = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: data) }
        let config = try testConfig(dataDirectory: data, environment: ["COMMUCAT_ADMIN_TOKEN": "s3cret-token"])
        try await withRunningServer(config) { _, addresses in
            let anonymous = try await fetch(url(addresses, "http", "/metrics"))
            #expect(anonymous.status == 401)
            #expect(anonymous.body.contains("\"code\":\"unauthorized\""))
            let wrong = try await fetch(url(addresses, "http", "/metrics"), headers: [("Authorization", "Bearer nope")])
            #expect(wrong.status == 401)
            let right = try await fetch(url(addresses, "http", "/metrics"), headers: [("Authorization", "Bearer s3cret-token")])
            #expect(right.status == 200)
            #expect(right.body.contains("commucat_build_info"))
        }
    }

    @Test func metricsPassPromtool() async throws {
        guard let promtool = which("promtool") else {
            if isCI { Issue.record("promtool is not installed (Debian package prometheus)") }
            return
        }
        let data = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: data) }
        try await withRunningServer(try testConfig(dataDirectory: data)) { _, addresses in
            _ = try await fetch(url(addresses, "http", "/readyz"))
            _ = try await fetch(url(addresses, "http", "/nope"))
            let metrics = try await fetch(url(addresses, "http", "/metrics"))
            #expect(metrics.status == 200)
            let result = try await runProcess(promtool, ["check", "metrics"], stdin: metrics.body)
            #expect(result.status == 0, "promtool: \(result.stdout) \(result.stderr)")
        }
    }

    @Test func httpsIsTLS13OnlyWithALPN() async throws {
        guard let openssl = which("openssl") else {
            if isCI { Issue.record("openssl is not installed") }
            return
        }
        let data = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: data) }
        try await withRunningServer(try testConfig(dataDirectory: data)) { _, addresses in
            let target = "127.0.0.1:\(addresses["https"]?.port ?? 0)"
            let modern = try await runProcess(openssl, ["s_client", "-connect", target, "-tls1_3", "-alpn", "h2,http/1.1"], stdin: "")
            let modernOutput = modern.stdout + modern.stderr
            #expect(modernOutput.contains("New, TLSv1.3"), "\(modernOutput)")
            #expect(modernOutput.contains("ALPN protocol: h2"), "\(modernOutput)")
            let legacy = try await runProcess(openssl, ["s_client", "-connect", target, "-tls1_2", "-brief"], stdin: "")
            #expect(legacy.status != 0, "TLS 1.2 was accepted: \(legacy.stdout)")
        }
    }

    /// Browsers on `https://` open `wss://…/rtc` over TLS with ALPN http/1.1 (WebSockets do not
    /// use h2 here): the TLS listener upgrades, with ALPN and without it, and still speaks h2.
    @Test func theTLSListenerUpgradesWebSockets() async throws {
        guard let openssl = which("openssl") else {
            if isCI { Issue.record("openssl is not installed") }
            return
        }
        let data = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: data) }
        try await withRunningServer(try testConfig(dataDirectory: data)) { _, addresses in
            let target = "127.0.0.1:\(addresses["https"]?.port ?? 0)"
            let upgrade = [
                "GET /rtc?room=r1&access_token=garbage HTTP/1.1", "Host: \(target)", "Upgrade: websocket", "Connection: Upgrade",
                "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==", "Sec-WebSocket-Version: 13", "", "",
            ].joined(separator: "\r\n")
            for alpn in [["-alpn", "http/1.1"], []] {
                let result = try await runProcess(
                    openssl, ["s_client", "-connect", target, "-quiet", "-ign_eof"] + alpn, stdin: upgrade, timeout: .seconds(20))
                let output = result.stdout + result.stderr
                #expect(output.contains("HTTP/1.1 101 Switching Protocols"), "ALPN \(alpn): \(output)")
                #expect(output.contains("s3pPLMBiTxaQ9kYGzzhZRbK+xOo="), "ALPN \(alpn): \(output)")
                // The room protocol answers the bad token inside the socket, then closes it.
                #expect(output.contains("token_invalid"), "ALPN \(alpn): \(output)")
            }
            let h2 = try await fetch(url(addresses, "https", "/healthz"))
            #expect(h2.version == .http2 && h2.status == 200)
        }
    }

    @Test func theDataDirHoldsPrivateFilesOnly() async throws {
        let data = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: data) }
        try await withRunningServer(try testConfig(dataDirectory: data)) { _, _ in }
        let files = try FileManager.default.contentsOfDirectory(atPath: data.path)
        #expect(files.contains("tls.crt") && files.contains("tls.key") && files.contains("secrets.json"))
        for file in files {
            let attributes = try FileManager.default.attributesOfItem(atPath: data.appendingPathComponent(file).path)
            if (attributes[.type] as? FileAttributeType) == .typeRegular {
                #expect((attributes[.posixPermissions] as? Int) == 0o600, "\(file) is not 0600")
            }
        }
    }

    @Test func aBusyPortIsOneClearError() async throws {
        let data = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: data) }
        try await withRunningServer(try testConfig(dataDirectory: data)) { _, addresses in
            let port = addresses["http"]?.port ?? 0
            let second = try testConfig(dataDirectory: data, environment: ["COMMUCAT_HTTP_LISTEN": "127.0.0.1:\(port)"])
            await #expect {
                _ = try await CommuCatServer.build(config: second)
            } throws: { error in
                (error as? StartupError)?.description == "cannot listen on http.listen 127.0.0.1:\(port): address already in use"
            }
        }
    }
}

/// The listener guards (docs/SECURITY.md, "Listeners", "Loopback trust"), without sockets.
@Suite struct ListenerGuardsTests {
    @Test func theLimiterCapsEachAddressAndTheTotal() {
        let limiter = ConnectionLimiter(perAddress: 2, total: 3)
        #expect(limiter.admit("10.0.0.1") == .admitted)
        #expect(limiter.admit("10.0.0.1") == .admitted)
        #expect(limiter.admit("10.0.0.1") == .refused(.perAddress))
        #expect(limiter.admit("10.0.0.2") == .admitted)
        #expect(limiter.admit("10.0.0.3") == .refused(.total))
        #expect(limiter.openConnections == 3 && limiter.openConnections(of: "10.0.0.1") == 2)
        limiter.release("10.0.0.1")
        #expect(limiter.admit("10.0.0.3") == .admitted)
        #expect(limiter.admit("10.0.0.1") == .refused(.total))
        // A refused connection was never counted, so releasing an unknown address changes nothing.
        limiter.release("192.0.2.1")
        #expect(limiter.openConnections == 3)
        for address in ["10.0.0.1", "10.0.0.2", "10.0.0.3"] { limiter.release(address) }
        #expect(limiter.openConnections == 0 && limiter.openConnections(of: "10.0.0.1") == 0)
    }

    @Test func http1TimersFollowTheRequests() {
        var state = HTTPTimeoutState(mode: .http1)
        #expect(state.started() == .head)
        #expect(state.bytesReceived() == nil, "bytes of a first head do not extend its deadline")
        #expect(state.handle(.requestStarted) == HTTPTimeoutState.Timer.none)
        #expect(state.fired() == nil, "no timer while a request is answered (streaming responses)")
        #expect(state.handle(.requestFinished) == .idle)
        #expect(state.bytesReceived() == .head, "the next request's first byte starts its head timer")
        #expect(state.bytesReceived() == nil)
        #expect(state.fired() == "request_head")
        var idle = HTTPTimeoutState(mode: .http1)
        _ = idle.started()
        _ = idle.handle(.requestStarted)
        _ = idle.handle(.requestFinished)
        #expect(idle.fired() == "idle")
        var upgraded = HTTPTimeoutState(mode: .http1)
        _ = upgraded.started()
        _ = upgraded.handle(.requestStarted)
        #expect(upgraded.handle(.upgraded) == HTTPTimeoutState.Timer.none)
        #expect(upgraded.handle(.requestFinished) == nil && upgraded.bytesReceived() == nil && upgraded.fired() == nil)
    }

    @Test func http2IsIdleOnlyWithoutRequests() {
        var state = HTTPTimeoutState(mode: .http2)
        #expect(state.started() == .idle)
        #expect(state.bytesReceived() == nil, "pings do not keep an HTTP/2 connection without requests alive")
        _ = state.handle(.requestStarted)
        _ = state.handle(.requestStarted)
        #expect(state.handle(.requestFinished) == nil, "one stream is still open")
        #expect(state.handle(.requestFinished) == .idle)
        #expect(state.fired() == "idle")
    }

    @Test func loopbackTrustNeedsAHostOfThisServer() {
        let trust = LoopbackTrust(names: ["chat.example.org", "0.0.0.0"])
        func verdict(_ authority: String?, _ fields: [(String, String)] = []) -> LoopbackTrust.Verdict {
            var request = HTTPRequest(method: .get, scheme: "http", authority: authority, path: "/metrics")
            for (name, value) in fields { request.headerFields[HTTPField.Name(name)!] = value }
            return trust.verdict(for: request)
        }
        for host in ["127.0.0.1:8080", "localhost", "LocalHost:1", "[::1]:8443", "chat.example.org", "chat.example.org.:443", "app.localhost:3000", "127.0.0.2"] {
            #expect(verdict(host) == .trusted, "\(host)")
        }
        #expect(verdict(nil) == .trusted, "no Host (not a browser): the peer address decides")
        for host in ["attacker.example", "attacker.example:8080", "0.0.0.0:8080", "localhost.attacker.example", "127.0.0.1.nip.io", "[::1", "localhost:80x"] {
            #expect(verdict(host) == .hostNotAllowed(host), "\(host)")
        }
        #expect(verdict("127.0.0.1:8080", [("Origin", "http://127.0.0.1:8080")]) == .trusted)
        #expect(verdict("127.0.0.1:8080", [("Origin", "https://localhost:3000")]) == .trusted)
        #expect(verdict("127.0.0.1:8080", [("Origin", "http://attacker.example")]) == .hostNotAllowed("http://attacker.example"))
        #expect(verdict("127.0.0.1:8080", [("Origin", "null")]) == .hostNotAllowed("null"))
        #expect(verdict("127.0.0.1:8080", [("X-Forwarded-For", "203.0.113.1")]) == .proxied)
        #expect(verdict("localhost", [("Forwarded", "for=203.0.113.1")]) == .proxied)
        #expect(LoopbackTrust.hostName(ofOrigin: "http://[::1]:8080/path") == "::1")
        #expect(LoopbackTrust.hostName(ofAuthority: "user@Example.COM:80") == "example.com")
    }
}
