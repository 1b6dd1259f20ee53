import Foundation
import Glibc
import Testing

@testable import Ops

/// Issue 14 items 5 and 7 (docs/SECURITY.md, "Listeners" and "Loopback trust"): Slowloris sockets
/// on every listener, the per-IP connection cap, DNS rebinding against the loopback-trusted
/// routes, and public listeners without an admin token.
@Suite("Attack: listeners", .serialized, .enabled(if: Attack.enabled)) struct ListenerAttackTests {
    /// Short timeouts so that the probes finish quickly.
    static let shortTimeouts = [
        "COMMUCAT_LIMITS_HEADER_TIMEOUT": "2s", "COMMUCAT_LIMITS_TLS_HANDSHAKE_TIMEOUT": "2s",
        "COMMUCAT_LIMITS_HTTP_IDLE_TIMEOUT": "3s",
    ]

    @Test func slowlorisSocketsAreClosedWithinTheTimeouts() async throws {
        try await withAttackServer(Self.shortTimeouts) { server in
            let headBefore = try await server.metric("commucat_http_timeouts_total{kind=\"request_head\"}")
            let tlsBefore = try await server.metric("commucat_http_timeouts_total{kind=\"tls_handshake\"}")

            // A WebSocket (`/rtc`) opened first must outlive every HTTP timeout (it has its own keepalive).
            let token = try await devToken(server.base, room: "slow")
            let webSocket = try RawSocket(port: server.httpPort)
            defer { webSocket.close() }
            _ = webSocket.send(Array(RawSocket.upgradeRequest(path: "/rtc?room=slow&name=ws&access_token=\(token)", host: "127.0.0.1:\(server.httpPort)").utf8))
            #expect(webSocket.readHead().hasPrefix("HTTP/1.1 101"), "the /rtc upgrade must succeed")

            // Sends nothing (plain HTTP), and opens TCP to HTTPS but sends no ClientHello.
            let silent = try RawSocket(port: server.httpPort)
            let silentTLS = try RawSocket(port: server.httpsPort)
            defer {
                silent.close()
                silentTLS.close()
            }
            let silentClosed = silent.waitClosed(within: 6)
            let tlsClosed = silentTLS.waitClosed(within: 2)
            #expect(silentClosed != nil && silentClosed! >= 1.5, "an idle socket is closed after limits.header_timeout (2 s): \(String(describing: silentClosed))")
            #expect(tlsClosed != nil, "a ClientHello-less TLS socket is closed after limits.tls_handshake_timeout (2 s)")

            // Half a request head, one byte every 250 ms: closed at the head timeout although bytes keep coming.
            let dribbler = try RawSocket(port: server.httpPort)
            defer { dribbler.close() }
            let head = Array("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: \(String(repeating: "a", count: 60))".utf8)
            let started = ContinuousClock.now
            var sent = 0
            while sent < head.count, dribbler.send([head[sent]]) {
                sent += 1
                if dribbler.waitClosed(within: 0.25) != nil { break }
            }
            let dribbleSeconds = Double((ContinuousClock.now - started).components.seconds)
            #expect(sent < head.count && dribbleSeconds < 5, "a half-sent head is cut after ~2 s (sent \(sent) of \(head.count) bytes)")

            // Keep-alive: one request, then silence: closed after limits.http_idle_timeout (3 s).
            let keepAlive = try RawSocket(port: server.httpPort)
            defer { keepAlive.close() }
            _ = keepAlive.send(Array("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".utf8))
            #expect(keepAlive.readHead().hasPrefix("HTTP/1.1 200"))
            let idleClosed = keepAlive.waitClosed(within: 6)
            #expect(idleClosed != nil && idleClosed! >= 2.0, "an idle keep-alive connection closes after 3 s: \(String(describing: idleClosed))")

            #expect(webSocket.waitClosed(within: 0.1) == nil, "the /rtc WebSocket is still open after every HTTP timeout passed")
            #expect(try await server.metric("commucat_http_timeouts_total{kind=\"request_head\"}") >= headBefore + 2)
            #expect(try await server.metric("commucat_http_timeouts_total{kind=\"tls_handshake\"}") >= tlsBefore + 1)
            #expect(try await server.metric("commucat_http_timeouts_total{kind=\"idle\"}") >= 1)
            #expect(try await fetch(server.secureBase + "/healthz").status == 200, "HTTPS still answers")
        }
    }

    @Test func socketsOverThePerIPCapAreClosedAtOnce() async throws {
        let cap = 8
        try await withAttackServer(["COMMUCAT_LIMITS_CONNECTIONS_PER_IP": "\(cap)"]) { server in
            let before = try await server.metric("commucat_http_connections_refused_total{reason=\"per_ip\"}")
            // The test client's own keep-alive connections count too: open until refused, bounded.
            var sockets: [RawSocket] = []
            defer { sockets.forEach { $0.close() } }
            var refused = 0
            for _ in 0..<(cap + 4) {
                let socket = try RawSocket(port: server.httpPort)
                sockets.append(socket)
                if socket.waitClosed(within: 0.3) != nil { refused += 1 }
            }
            let held = sockets.count - refused
            #expect(held <= cap && held >= cap - 3, "about \(cap) sockets are held open (held \(held))")
            #expect(refused >= 4, "every socket over the cap is closed at once (refused \(refused))")
            // Over the cap on HTTPS too (the cap counts both listeners): closed before any TLS.
            let tls = try RawSocket(port: server.httpsPort)
            defer { tls.close() }
            #expect(tls.waitClosed(within: 1) != nil, "the HTTPS listener shares the cap")

            sockets.forEach { $0.close() }
            sockets = []
            try await Task.sleep(for: .milliseconds(300))
            #expect(try await fetch(server.base + "/healthz").status == 200, "after the sockets close, a normal request works")
            #expect(try await server.metric("commucat_http_connections_refused_total{reason=\"per_ip\"}") >= before + 5)
        }
    }

    @Test func aForeignHostOrOriginGetsNoLoopbackTrust() async throws {
        try await withAttackServer([:]) { server in
            let before = try await server.metric("commucat_http_rejections_total{code=\"host_not_allowed\"}")
            let body = "{\"room\":\"demo\",\"name\":\"mallory\"}"
            for headers in [[("Host", "attacker.example")], [("Host", "attacker.example:\(server.httpPort)")], [("Origin", "http://attacker.example")]] {
                let token = try await fetch(server.base + "/api/dev/token", method: .POST, headers: headers, body: body)
                #expect(token.status == 403 && token.body.contains("\"code\":\"host_not_allowed\""), "dev token with \(headers): \(token.body)")
                #expect(token.headers["content-type"].first == "application/problem+json")
                let metrics = try await fetch(server.base + "/metrics", headers: headers)
                #expect(metrics.status == 403 && metrics.body.contains("host_not_allowed"), "/metrics with \(headers)")
                let rooms = try await fetch(server.base + "/api/rooms", headers: headers)
                #expect(rooms.status == 403 && rooms.body.contains("host_not_allowed"), "/api/rooms with \(headers)")
            }
            // Through a same-host reverse proxy the peer is loopback, but the request is not the operator's.
            let proxied = try await fetch(server.base + "/api/rooms", headers: [("X-Forwarded-For", "203.0.113.9")])
            #expect(proxied.status == 403 && proxied.body.contains("\"code\":\"proxied_request\""))
            // A WebSocket upgrade from a rebinding page is refused too.
            let socket = try RawSocket(port: server.httpPort)
            defer { socket.close() }
            _ = socket.send(Array(RawSocket.upgradeRequest(path: "/rtc?room=demo&name=x", host: "attacker.example").utf8))
            #expect(socket.readHead().hasPrefix("HTTP/1.1 400"))

            // The names of this server keep working: the demo page's same-origin fetch, localhost, [::1].
            for (host, origin) in [
                ("127.0.0.1:\(server.httpPort)", "http://127.0.0.1:\(server.httpPort)"), ("localhost:\(server.httpPort)", "http://localhost:\(server.httpPort)"),
                ("[::1]:\(server.httpPort)", "http://[::1]:\(server.httpPort)"),
            ] {
                let token = try await fetch(server.base + "/api/dev/token", method: .POST, headers: [("Host", host), ("Origin", origin)], body: body)
                #expect(token.status == 200, "Host \(host): \(token.body)")
            }
            let secure = try await fetch(server.secureBase + "/api/dev/token", method: .POST, headers: [("Origin", server.secureBase)], body: body)
            #expect(secure.status == 200, "the https demo page (h2 :authority 127.0.0.1): \(secure.body)")
            #expect(try await fetch(server.base + "/api/rooms").status == 200)
            #expect(try await server.metric("commucat_http_rejections_total{code=\"host_not_allowed\"}") >= before + 9)
        }
    }

    @Test func aPublicListenerNeedsAnAdminTokenAndHasNoDevTokens() async throws {
        let binary = try Attack.binary()
        let data = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: data) }
        // Bound on every address, but only ever reached through 127.0.0.1.
        var environment = try CommucatProcessTests.environment(data: data)
        let port = environment["COMMUCAT_HTTP_LISTEN"]?.split(separator: ":").last.map(String.init) ?? "0"
        environment["COMMUCAT_HTTP_LISTEN"] = "0.0.0.0:\(port)"
        for token in [nil, "too-short-token"] {
            environment["COMMUCAT_ADMIN_TOKEN"] = token
            let result = try await runProcess(binary, ["serve"], environment: environment, timeout: .seconds(30))
            #expect(result.status == 1, "exit code 1 without a 32-byte admin.token (\(String(describing: token)))")
            let first = result.stderr.split(separator: "\n").first.map(String.init) ?? ""
            #expect(first.contains("admin.token") && first.contains("http.listen") && first.contains("0.0.0.0"), "one config line: \(result.stderr)")
        }

        let adminToken = String(repeating: "k", count: 32)
        try await withAttackServer(["COMMUCAT_HTTP_LISTEN": "0.0.0.0:\(port)", "COMMUCAT_ADMIN_TOKEN": adminToken]) { server in
            let token = try await fetch(server.base + "/api/dev/token", method: .POST, body: "{\"room\":\"demo\"}")
            #expect(token.status == 404, "no dev tokens when a listener is public, even on loopback: \(token.status)")
            #expect(try await fetch(server.base + "/metrics").status == 401)
            #expect(try await fetch(server.base + "/metrics", headers: [("Authorization", "Bearer \(adminToken)")]).status == 200)
        }
    }

    /// Runs `body` against a fresh server, then stops it (also when `body` throws).
    private func withAttackServer(_ extra: [String: String], _ body: (AttackServer) async throws -> Void) async throws {
        let server = try await AttackServer(extra: extra)
        do {
            try await body(server)
        } catch {
            await server.stop()
            throw error
        }
        await server.stop()
    }

    private func devToken(_ base: String, room: String) async throws -> String {
        let response = try await fetch(base + "/api/dev/token", method: .POST, body: "{\"room\":\"\(room)\"}")
        let object = try JSONSerialization.jsonObject(with: Data(response.body.utf8)) as? [String: Any]
        return try #require(object?["token"] as? String, "dev token: \(response.body)")
    }
}

/// A blocking TCP socket to 127.0.0.1 for the probes; every wait is bounded by `poll`.
final class RawSocket: @unchecked Sendable {
    private var fd: Int32

    init(port: Int) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw TimedOut() }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard result == 0 else {
            Glibc.close(fd)
            throw TimedOut()
        }
    }

    static func upgradeRequest(path: String, host: String) -> String {
        "GET \(path) HTTP/1.1\r\nHost: \(host)\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
    }

    /// False once the peer has closed.
    func send(_ bytes: [UInt8]) -> Bool {
        bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) } == bytes.count
    }

    /// Seconds until the peer closed (EOF or reset), or nil if it is still open after `seconds`.
    /// Data the server sends meanwhile is read and dropped.
    func waitClosed(within seconds: Double) -> Double? {
        let start = ContinuousClock.now
        let deadline = start + .milliseconds(Int(seconds * 1000))
        var buffer = [UInt8](repeating: 0, count: 4096)
        while ContinuousClock.now < deadline {
            let left = deadline - ContinuousClock.now
            var pfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let ready = poll(&pfd, 1, Int32(max(1, left.components.seconds * 1000 + left.components.attoseconds / 1_000_000_000_000_000)))
            if ready < 0 { return nil }
            if ready == 0 { continue }
            let n = recv(fd, &buffer, buffer.count, 0)
            if n <= 0 {
                let elapsed = ContinuousClock.now - start
                return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            }
        }
        return nil
    }

    /// The response head (up to the blank line), waiting at most 5 s.
    func readHead() -> String {
        var received: [UInt8] = []
        let deadline = ContinuousClock.now + .seconds(5)
        var byte: UInt8 = 0
        while ContinuousClock.now < deadline, received.count < 16_384 {
            var pfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&pfd, 1, 200) >= 0 else { break }
            if pfd.revents == 0 { continue }
            guard recv(fd, &byte, 1, 0) == 1 else { break }
            received.append(byte)
            if received.count >= 4, received.suffix(4) == [13, 10, 13, 10] { break }
        }
        return String(decoding: received, as: UTF8.self)
    }

    func close() {
        if fd >= 0 { Glibc.close(fd) }
        fd = -1
    }
}
