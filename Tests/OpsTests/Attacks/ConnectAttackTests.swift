import CCP
import ConnectCore
import Foundation
import HummingbirdWSClient
import Logging
import NIOCore
import Synchronization
import Testing

@testable import Ops
@testable import Signalling

/// Issue 14 items 1, 2 and 4 against the real binary: a replayed Hello, idle and oversized
/// handshakes, and many unfinished handshakes from one address.
@Suite("Attack: /connect", .serialized, .enabled(if: Attack.enabled))
struct ConnectAttackTests {
    /// What one raw WebSocket to `/connect` saw: each binary message, and whether the server closed
    /// the stream by itself (within the bound).
    struct Exchange: Sendable {
        var received: [ByteBuffer] = []
        var closedByServer = false
        var elapsed: Duration = .zero
    }

    /// Opens `/connect`, sends `sends` (one message each, `gap` apart), then reads until the server
    /// closes or `bound` passes.
    static func exchange(_ base: String, sends: [ByteBuffer], gap: Duration = .zero, bound: Duration) async throws -> Exchange {
        let result = Mutex(Exchange())
        let start = ContinuousClock.now
        let url = ClientCommands.webSocketURL(base: base)
        let reader = Task {
            try await WebSocketClient.connect(url: url, configuration: .init(maxFrameSize: 1 << 20), logger: Logger(label: "attack")) { inbound, outbound, _ in
                do {
                    for bytes in sends {
                        try await outbound.write(.binary(bytes))
                        if gap > .zero { try await Task.sleep(for: gap) }
                    }
                } catch is CancellationError {
                    return
                } catch {
                    // The server closed the stream while we were still sending.
                    result.withLock { $0.closedByServer = true }
                    return
                }
                for try await message in inbound.messages(maxSize: 1 << 20) {
                    if case .binary(let bytes) = message { result.withLock { $0.received.append(bytes) } }
                }
                result.withLock { $0.closedByServer = true }
            }
        }
        let watchdog = Task {
            try? await Task.sleep(for: bound)
            reader.cancel()
        }
        _ = try? await reader.value
        watchdog.cancel()
        return result.withLock {
            $0.elapsed = ContinuousClock.now - start
            return $0
        }
    }

    static func frames(_ messages: [ByteBuffer]) -> [CCPFrame] {
        var out: [CCPFrame] = []
        for message in messages {
            var buffer = message
            var decoder = CCPFrameDecoder()
            while case .frame(let frame)? = try? decoder.decode(buffer: &buffer) { out.append(frame) }
        }
        return out
    }

    static func client(_ server: AttackServer, pattern: NoisePattern, handle: String) async throws -> CCPClientConnection {
        let info = try JSONSerialization.jsonObject(with: Data(try await fetch(server.base + "/api/server-info").body.utf8)) as? [String: Any] ?? [:]
        let serverStatic = try #require((info["noise_public"] as? String).flatMap(Hex.decode))
        return CCPClientConnection(
            identity: .generate(),
            options: .init(
                pattern: pattern, domain: info["domain"] as? String ?? "", prologue: info["noise_prologue"] as? String ?? "",
                serverStatic: serverStatic, user: .init(handle: handle, displayName: nil)))
    }

    /// The probe of item 1/2: a victim connects (its Hello travels in clear); the attacker replays the
    /// Hello and everything else the victim sent. Before: a new session id in the plaintext Auth, a
    /// 30-day bearer, and (IK) a live session. Now: no session id in any plaintext frame, the replay
    /// is refused, and the victim's own bearer dies with its stream.
    @Test(arguments: [NoisePattern.xk, .ik])
    func aReplayedHelloGetsNoSessionAndNoBearer(pattern: NoisePattern) async throws {
        let server = try await AttackServer(extra: ["COMMUCAT_SERVER_AUTO_APPROVE_DEVICES": "true", "COMMUCAT_LIMITS_HANDSHAKE_TIMEOUT": "6s"])
        defer { Task { await server.stop() } }
        var victim = try await Self.client(server, pattern: pattern, handle: "victim")
        let hello = try victim.start()
        let started = victim
        // The victim's real connection, recording every byte it sends.
        let sent = Mutex<[ByteBuffer]>([hello])
        let url = ClientCommands.webSocketURL(base: server.base)
        let sessionID = Mutex<String?>(nil)
        _ = try await WebSocketClient.connect(url: url, configuration: .init(maxFrameSize: 1 << 20), logger: Logger(label: "victim")) {
            inbound, outbound, _ in
            var connection = started
            try await outbound.write(.binary(hello))
            var iterator = inbound.messages(maxSize: 1 << 20).makeAsyncIterator()
            while !connection.isEstablished, let message = try await iterator.next() {
                guard case .binary(let bytes) = message else { continue }
                let plain = Self.frames([bytes])
                #expect(!plain.contains { String(buffer: $0.payload).contains("\"session\"") }, "a plaintext frame carried the session")
                let step = try connection.receive(bytes)
                if step.outgoing.readableBytes > 0 {
                    sent.withLock { $0.append(step.outgoing) }
                    try await outbound.write(.binary(step.outgoing))
                }
            }
            try await outbound.close(.normalClosure, reason: nil)
            let ack = connection.ack?.session
            sessionID.withLock { $0 = ack }
        }
        let bearer = try #require(sessionID.withLock { $0 })
        #expect(!bearer.isEmpty, "the victim got no session")

        // Its stream ended: the bearer is refused (it used to stay valid for 30 days).
        var status = 0
        for _ in 0..<50 {
            status = try await fetch(server.base + "/api/devices", headers: [("Authorization", "Bearer \(bearer)")]).status
            if status == 401 { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(status == 401, "a closed session still authenticates")

        // The replay: the same Hello, then the victim's recorded bytes.
        let recorded = sent.withLock { $0 }
        let replay = try await Self.exchange(server.base, sends: recorded, gap: .milliseconds(200), bound: .seconds(15))
        let plain = Self.frames(replay.received)
        #expect(plain.first?.type == .auth, "the replayed Hello is answered with Noise message 2 only")
        #expect(!plain.contains { String(buffer: $0.payload).contains("\"session\"") }, "the replay saw a session id")
        #expect(!plain.contains { $0.type == .ack }, "the replay got an Ack")
        #expect(replay.closedByServer, "the server kept the replayed stream open")
        // The Hello alone (no confirmation) is closed by the handshake deadline.
        let helloOnly = try await Self.exchange(server.base, sends: [hello], bound: .seconds(15))
        #expect(helloOnly.closedByServer && helloOnly.elapsed < .seconds(12), "a replayed Hello held its stream for \(helloOnly.elapsed)")
        #expect(!Self.frames(helloOnly.received).contains { $0.type == .ack })
        #expect(try await server.metric("commucat_connect_rejections_total{code=\"handshake_timeout\"}") >= 1)
    }

    /// Item 4: a stream that trickles a byte now and then, and one that announces a 16 MiB frame,
    /// no longer hold memory: the first is closed at the handshake deadline, the second at once.
    @Test func idleAndOversizedHandshakesAreClosed() async throws {
        let server = try await AttackServer(extra: ["COMMUCAT_LIMITS_HANDSHAKE_TIMEOUT": "2s"])
        defer { Task { await server.stop() } }
        // A 16 MiB body_len varint (SPEC's limit after the handshake, refused before it), and an
        // 8000-byte frame that arrives one byte every 500 ms.
        var announce = ByteBuffer()
        CCPVarint.write(UInt64(16 * 1024 * 1024 - 8), to: &announce)
        var small = ByteBuffer()
        CCPVarint.write(8000, to: &small)
        let trickle = [small] + (0..<14).map { _ in ByteBuffer(bytes: [0x01]) }
        let before = server.residentBytes()
        let oversized = try await Self.exchange(server.base, sends: [announce, ByteBuffer(repeating: 0x01, count: 64 * 1024)], bound: .seconds(10))
        #expect(oversized.closedByServer, "an oversized handshake frame was not refused")
        #expect(Self.frames(oversized.received).first?.type == .error)
        let idle = try await Self.exchange(server.base, sends: trickle, gap: .milliseconds(500), bound: .seconds(12))
        #expect(idle.closedByServer, "a trickling handshake was never closed")
        #expect(idle.elapsed < .seconds(9), "closed after \(idle.elapsed)")
        #expect(server.residentBytes() - before < 64 * 1024 * 1024)
    }

    /// Item 4: unfinished handshakes per address are capped; a finished one frees its slot.
    @Test func unfinishedHandshakesPerAddressAreCapped() async throws {
        let server = try await AttackServer(extra: ["COMMUCAT_LIMITS_CONNECT_HANDSHAKES_PER_IP": "3", "COMMUCAT_LIMITS_HANDSHAKE_TIMEOUT": "4s"])
        defer { Task { await server.stop() } }
        let holders = (0..<3).map { _ in Task { try await Self.exchange(server.base, sends: [], bound: .seconds(8)) } }
        try await Task.sleep(for: .milliseconds(800))
        let refused = try await Self.exchange(server.base, sends: [], bound: .seconds(5))
        let error = Self.frames(refused.received).first
        #expect(error?.type == .error && String(buffer: error?.payload ?? ByteBuffer()).contains("rate_limited"), "the fourth unfinished handshake was not refused")
        for holder in holders { _ = try? await holder.value }
        #expect(try await server.metric("commucat_connect_rejections_total{code=\"rate_limited\"}") >= 1)
    }
}
