import COpenSSL
import NIOCore
import SFUCore
import Testing

/// Deterministic generator so failures reproduce (SplitMix64).
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

@Suite("DTLSTransport with garbage input")
struct DTLSGarbageTests {
    /// Random datagrams, some shaped like DTLS record headers.
    static func garbage(count: Int, seed: UInt64) -> [ByteBuffer] {
        var random = SplitMix64(state: seed)
        return (0..<count).map { index in
            let length = Int.random(in: 0...1400, using: &random)
            var bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &random) }
            if index % 2 == 0, bytes.count >= 13 {
                bytes[0] = [20, 21, 22, 23][index / 2 % 4]  // content type
                bytes[1] = 254
                bytes[2] = 253  // DTLS 1.2
                bytes[3] = 0
                bytes[4] = UInt8(index % 2)  // epoch
            }
            return ByteBuffer(bytes: bytes)
        }
    }

    @Test("random datagrams before and during the handshake are dropped; it still completes")
    func garbageDuringHandshake() throws {
        let pair = try DTLSPair()
        for datagram in Self.garbage(count: 300, seed: 1) {
            let actions = pair.server.receive(datagram: datagram, now: pair.now)
            #expect(ERR_peek_error() == 0)
            #expect(!actions.contains { if case .connected = $0 { true } else { false } })
        }
        pair.perform(pair.client.startHandshake(now: pair.now), fromClient: true)
        for datagram in Self.garbage(count: 300, seed: 2) {
            _ = pair.client.receive(datagram: datagram, now: pair.now)
            #expect(ERR_peek_error() == 0)
        }
        if pair.serverFailure == nil, pair.clientFailure == nil, case .handshaking = pair.server.state {
            pair.runHandshake()
            #expect(pair.clientResult != nil)
            #expect(pair.serverResult != nil)
        }
    }

    @Test("truncated and bit-flipped copies of real handshake records never trap")
    func mangledRecords() throws {
        // Capture a real handshake's datagrams.
        let capture = try DTLSPair()
        var captured: [ByteBuffer] = []
        capture.perform(capture.client.startHandshake(now: capture.now), fromClient: true)
        var steps = 0
        while !capture.queue.isEmpty, steps < 50 {
            steps += 1
            let (toServer, datagram) = capture.queue.removeFirst()
            captured.append(datagram)
            capture.perform(
                (toServer ? capture.server : capture.client).receive(datagram: datagram, now: capture.now),
                fromClient: !toServer)
        }
        #expect(captured.count >= 3)

        var random = SplitMix64(state: 7)
        var outcomes = 0
        for original in captured {
            let bytes = Array(original.readableBytesView)
            var variants: [[UInt8]] = []
            for cut in stride(from: 0, to: bytes.count, by: max(1, bytes.count / 24)) { variants.append(Array(bytes[0..<cut])) }
            for _ in 0..<16 {
                var flipped = bytes
                let position = Int.random(in: 0..<flipped.count, using: &random)
                flipped[position] ^= UInt8.random(in: 1...255, using: &random)
                variants.append(flipped)
            }
            for variant in variants {
                // Fresh transports in both roles each time, so every variant meets a live state.
                let pair = try DTLSPair()
                _ = pair.client.startHandshake(now: pair.now)
                for transport in [pair.server, pair.client] {
                    let actions = transport.receive(datagram: ByteBuffer(bytes: variant), now: pair.now)
                    #expect(ERR_peek_error() == 0)
                    #expect(!actions.contains { if case .connected = $0 { true } else { false } })
                    outcomes += 1
                }
            }
        }
        #expect(outcomes > 100)
    }

    @Test("garbage after the handshake leaves the transport connected")
    func garbageWhenConnected() throws {
        let pair = try DTLSPair()
        pair.runHandshake()
        let profile = try #require(pair.clientResult?.1)
        for datagram in Self.garbage(count: 300, seed: 3) {
            let actions = pair.server.receive(datagram: datagram, now: pair.now)
            #expect(ERR_peek_error() == 0)
            #expect(!actions.contains { if case .failed = $0 { true } else { false } })
        }
        #expect(pair.server.state == .connected(profile))
    }
}
