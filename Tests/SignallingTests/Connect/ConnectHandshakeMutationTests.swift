import CCP
import ConnectCore
import Foundation
import NIOCore
import Testing

@testable import Signalling

/// Byte-level mutations of a valid Hello (and of XK message 3) through the server machine: every
/// outcome is either progress or a refusal with a SPEC §4.2 taxonomy code, never a crash. A
/// deterministic, bounded companion to the libFuzzer target `connect-hello`
/// (`fuzzConnectHello` in Sources/ConnectCore/Fuzz, replayed by ``ConnectHelloFuzzTests``).
@Suite struct ConnectHandshakeMutationTests {
    static let taxonomy: Set<String> = [
        "protocol_version", "pattern", "proof", "noise", "pairing_required", "device_revoked", "certificate", "rate_limited", "decode",
        "internal", "handshake_timeout",
    ]

    /// A small deterministic generator (SplitMix64), so failures reproduce.
    struct SplitMix: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    @Test(arguments: [NoisePattern.xk, .ik])
    func mutatedHellosAreRefusedWithTaxonomyCodes(pattern: NoisePattern) throws {
        let fixture = ConnectHandshakeTests()
        var client = fixture.client(pattern)
        let hello = try #require(try ConnectHandshakeTests.frames(client.start()).first)
        let original = [UInt8](hello.payload.readableBytesView)
        var random = SplitMix(state: pattern == .xk ? 1 : 2)
        var refusals: [String: Int] = [:]
        for _ in 0..<1500 {
            var bytes = original
            for _ in 0..<Int.random(in: 1...4, using: &random) {
                let index = Int.random(in: 0..<bytes.count, using: &random)
                switch Int.random(in: 0..<3, using: &random) {
                case 0: bytes[index] ^= UInt8.random(in: 1...255, using: &random)
                case 1: bytes.remove(at: index)
                default: bytes.insert(UInt8.random(in: 0...255, using: &random), at: index)
                }
                if bytes.isEmpty { bytes = [0x7b] }
            }
            var server = fixture.server()
            switch server.receive(CCPFrame(type: .hello, channelID: 0, sequence: 1, payload: ByteBuffer(bytes: bytes))) {
            case .fail(let error, let frame):
                #expect(Self.taxonomy.contains(error.code.rawValue), "unexpected code \(error.code.rawValue)")
                #expect(frame.type == .error)
                refusals[error.code.rawValue, default: 0] += 1
            case .authorize:
                // A mutation that kept the Hello valid (e.g. inside `user`): the machine may proceed.
                _ = server.authorized(fixture.device())
            case .send, .complete, .awaitConfirmation, .openSession, .failSealed:
                Issue.record("a Hello cannot move the handshake past authorization by itself")
            }
        }
        #expect(refusals["decode", default: 0] > 0)
        #expect(refusals.values.reduce(0, +) > 1000)
    }

    @Test func mutatedMessageThreeIsANoiseOrDecodeRefusal() throws {
        let fixture = ConnectHandshakeTests()
        var random = SplitMix(state: 3)
        for _ in 0..<200 {
            var client = fixture.client(.xk)
            var server = fixture.server()
            let hello = try #require(try ConnectHandshakeTests.frames(client.start()).first)
            guard case .authorize = server.receive(hello), case .send(let auth) = server.authorized(fixture.device()) else {
                Issue.record("valid Hello refused")
                return
            }
            let events = try client.receive(ConnectConnection.encode(auth))
            let third = try #require(try ConnectHandshakeTests.frames(events.outgoing).first)
            var bytes = [UInt8](third.payload.readableBytesView)
            let index = Int.random(in: 0..<bytes.count, using: &random)
            bytes[index] ^= UInt8.random(in: 1...255, using: &random)
            let action = server.receive(CCPFrame(type: .auth, channelID: 0, sequence: 2, payload: ByteBuffer(bytes: bytes)))
            switch action {
            case .fail(let error, _):
                #expect(["noise", "decode"].contains(error.code.rawValue))
            case .awaitConfirmation:
                // Flipping a hex digit's case keeps the bytes: still a valid message 3.
                break
            default:
                Issue.record("unexpected action after a mutated message 3")
            }
        }
    }
}
