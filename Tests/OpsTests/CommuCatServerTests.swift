import AsyncHTTPClient
import Foundation
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
