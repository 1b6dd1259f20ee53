import CCP
import Foundation
import NIOCore
import Testing

@testable import ConnectCore
@testable import Signalling

/// The seed corpus of the libFuzzer target `connect-hello` (``fuzzConnectHello(_:)``): each file is
/// the inbound byte stream of one `/connect` connection, made by the reference client against
/// ``ConnectHelloFuzzFixture``. The replay checks every seed's outcome, so that the valid seeds keep
/// reaching the end of the handshake when the fixture or the handshake changes.
///
/// Regenerate with `COMMUCAT_WRITE_FUZZ_CORPUS=1 swift test --filter ConnectHelloFuzzTests`.
@Suite struct ConnectHelloFuzzTests {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/FuzzCorpus/ConnectHello")

    /// Every seed file and how its stream ends.
    static let outcomes: [String: ConnectHelloOutcome] = [
        "xk-established.bin": .established(.xk, frames: 1),
        "ik-established.bin": .established(.ik, frames: 1),
        "ik-user-certificate.bin": .established(.ik, frames: 1),
        "xk-refused.bin": .failed("pairing_required"),
        "ik-refused.bin": .failed("pairing_required"),
        "xk-hello-only.bin": .incomplete,
        "truncated-hello.bin": .incomplete,
        "garbled-proof.bin": .failed("proof"),
        "bad-hex.bin": .failed("decode"),
        "wrong-pattern.bin": .failed("pattern"),
        "version-2.bin": .failed("protocol_version"),
        "xk-bad-message3.bin": .failed("noise"),
        "msg-first.bin": .failed("decode"),
        "varint-garbage.bin": .frameError("varint_too_long"),
    ]

    static func run(_ bytes: [UInt8]) -> ConnectHelloOutcome {
        bytes.withUnsafeBytes { runConnectHello($0) }
    }

    @Test func corpusReplaysWithKnownOutcomes() throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: Self.directory.path).filter { $0.hasSuffix(".bin") }.sorted()
        #expect(Set(files) == Set(Self.outcomes.keys), "every corpus file needs an expected outcome")
        for file in files {
            let input = [UInt8](try Data(contentsOf: Self.directory.appendingPathComponent(file)))
            #expect(Self.run(input) == Self.outcomes[file], "\(file)")
            input.withUnsafeBytes { fuzzConnectHello($0) }
        }
    }

    /// Byte-level mutations of the seeds, as libFuzzer would start with: never a crash, and the
    /// mutants still reach refusals of every kind as well as completed handshakes.
    @Test func mutatedSeedsNeverCrash() throws {
        let seeds = try Self.outcomes.keys.sorted().map { [UInt8](try Data(contentsOf: Self.directory.appendingPathComponent($0))) }
        var random = ConnectHandshakeMutationTests.SplitMix(state: 7)
        var seen: Set<String> = []
        for iteration in 0..<1500 {
            var bytes = seeds[iteration % seeds.count]
            for _ in 0..<Int.random(in: 1...3, using: &random) where !bytes.isEmpty {
                let index = Int.random(in: 0..<bytes.count, using: &random)
                switch Int.random(in: 0..<4, using: &random) {
                case 0: bytes[index] ^= UInt8(1) << UInt8.random(in: 0..<8, using: &random)
                case 1: bytes.remove(at: index)
                case 2: bytes.insert(UInt8.random(in: 0...255, using: &random), at: index)
                default: bytes = Array(bytes.prefix(index))
                }
            }
            switch Self.run(bytes) {
            case .incomplete: seen.insert("incomplete")
            case .frameError: seen.insert("frame")
            case .failed(let code): seen.insert(code)
            case .established: seen.insert("established")
            }
        }
        for outcome in ["incomplete", "frame", "decode", "proof", "pairing_required", "established"] {
            #expect(seen.contains(outcome), "no mutant ended as \(outcome): \(seen.sorted())")
        }
    }

    // MARK: Making the corpus

    @Test(.enabled(if: ProcessInfo.processInfo.environment["COMMUCAT_WRITE_FUZZ_CORPUS"] == "1"))
    func writeCorpus() throws {
        try FileManager.default.createDirectory(at: Self.directory, withIntermediateDirectories: true)
        for (name, bytes) in try Self.makeCorpus() {
            try Data(bytes).write(to: Self.directory.appendingPathComponent(name))
        }
    }

    static func makeCorpus() throws -> [String: [UInt8]] {
        var corpus: [String: [UInt8]] = [:]
        corpus["xk-established.bin"] = try establishedStream(.xk)
        corpus["ik-established.bin"] = try establishedStream(.ik)
        var identity = DeviceIdentity.generate(deviceID: "fuzz-device-2")
        identity.certificate = Hex.encode((0..<176).map { UInt8(truncatingIfNeeded: $0 &* 7) })
        corpus["ik-user-certificate.bin"] = try establishedStream(
            .ik, identity: identity, user: .init(handle: "zoë", displayName: "Zoë \"Z\" \u{1F600}"))

        let xkHello = try hello(.xk)
        corpus["xk-hello-only.bin"] = encode([xkHello])
        corpus["truncated-hello.bin"] = Array(encode([xkHello]).prefix(90))
        corpus["xk-refused.bin"] = encode([resequenced(xkHello, 2)])
        corpus["ik-refused.bin"] = encode([resequenced(try hello(.ik), 2)])
        corpus["garbled-proof.bin"] = encode([try edited(xkHello) { $0.deviceProof = flipFirstDigit($0.deviceProof) }])
        corpus["bad-hex.bin"] = encode([try edited(xkHello) { $0.handshake = "zz" + $0.handshake.dropFirst(2) }])
        corpus["wrong-pattern.bin"] = encode([try edited(xkHello) { $0.pattern = "NN" }])
        corpus["version-2.bin"] = encode([try edited(xkHello) { $0.supportedVersions = [2] }])
        corpus["xk-bad-message3.bin"] = try badMessageThreeStream()
        corpus["msg-first.bin"] = encode([CCPFrame(type: .msg, channelID: 1, sequence: 1, payload: ByteBuffer(bytes: [1, 2, 3]))])
        corpus["varint-garbage.bin"] = [UInt8](repeating: 0xff, count: 11)
        return corpus
    }

    static func client(_ pattern: NoisePattern, identity: DeviceIdentity? = nil, user: HandshakeMessages.Hello.User? = nil) throws
        -> CCPClientConnection
    {
        let serverStatic = try NoiseKeyPair(privateKeyBytes: ConnectHelloFuzzFixture.serverStaticPrivate).publicKey
        return CCPClientConnection(
            identity: identity ?? .generate(deviceID: "fuzz-device"),
            options: .init(
                pattern: pattern, domain: ConnectHelloFuzzFixture.domain, prologue: String(decoding: ConnectHelloFuzzFixture.prologue, as: UTF8.self),
                serverStatic: serverStatic, user: user))
    }

    static func encode(_ frames: [CCPFrame]) -> [UInt8] {
        Array(ConnectConnection.encode(frames).readableBytesView)
    }

    static func hello(_ pattern: NoisePattern) throws -> CCPFrame {
        var client = try client(pattern)
        return try #require(try ConnectHandshakeTests.frames(client.start()).first)
    }

    static func resequenced(_ frame: CCPFrame, _ sequence: UInt32) -> CCPFrame {
        CCPFrame(type: frame.type, channelID: frame.channelID, sequence: sequence, payload: frame.payload)
    }

    static func edited(_ frame: CCPFrame, _ edit: (inout HandshakeMessages.Hello) -> Void) throws -> CCPFrame {
        var hello = try HandshakeMessages.decode(HandshakeMessages.Hello.self, from: frame)
        edit(&hello)
        return HandshakeMessages.frame(.hello, sequence: frame.sequence, hello)
    }

    static func flipFirstDigit(_ hex: String) -> String {
        (hex.first == "0" ? "1" : "0") + hex.dropFirst()
    }

    /// Hello, then (XK) the client's Auth, then the encrypted confirmation and one encrypted
    /// Keepalive: a whole successful stream against the fixture, whose fixed server ephemeral makes
    /// message 3 and the confirmation replayable.
    static func establishedStream(
        _ pattern: NoisePattern, identity: DeviceIdentity? = nil, user: HandshakeMessages.Hello.User? = nil
    ) throws -> [UInt8] {
        var client = try client(pattern, identity: identity, user: user)
        var stream = Array(try client.start().readableBytesView)
        var server = ConnectHandshake(configuration: try ConnectHelloFuzzFixture.configuration())
        var inbound = ByteBuffer(bytes: stream)
        for _ in 0..<8 {
            var action: ConnectHandshake.Action
            if server.expectsUnits {
                let next = server.receiveUnits(&inbound)
                action = try #require(next)
            } else {
                let frame = try #require(try ConnectHandshakeTests.frames(inbound).first)
                inbound.moveReaderIndex(forwardBy: frame.encodedSize)
                action = server.receive(frame)
            }
            if case .authorize(let request) = action { action = server.authorized(ConnectHelloFuzzFixture.device(for: request)) }
            if case .openSession = action { action = server.sessionOpened("fuzz-session") }
            switch action {
            case .send(let frames):
                let events = try client.receive(ConnectConnection.encode(frames))
                stream += events.outgoing.readableBytesView
                inbound.writeImmutableBuffer(events.outgoing)
            case .awaitConfirmation:
                continue
            case .complete(let units, _):
                _ = try client.receive(units)
                #expect(client.isEstablished)
                stream += try client.seal([CCPFrame(type: .keepalive, channelID: 0, sequence: 9, json: #"{"nonce":"seed"}"#)]).readableBytesView
                return stream
            case .authorize, .openSession, .fail, .failSealed:
                throw CCPClientError(code: "fixture", detail: "handshake refused")
            }
        }
        throw CCPClientError(code: "fixture", detail: "handshake did not complete")
    }

    /// Hello and an XK message 3 with its last byte changed.
    static func badMessageThreeStream() throws -> [UInt8] {
        // The plaintext frames at the front of the stream; the encrypted units after them are not frames.
        var buffer = ByteBuffer(bytes: try establishedStream(.xk))
        var decoder = CCPFrameDecoder()
        var frames: [CCPFrame] = []
        while frames.count < 2, case .frame(let frame) = try decoder.decode(buffer: &buffer) { frames.append(frame) }
        guard frames.count == 2 else { throw CCPClientError(code: "fixture", detail: "no message 3") }
        var auth = try HandshakeMessages.decode(HandshakeMessages.ClientAuth.self, from: frames[1])
        let last = auth.handshake.last == "0" ? "1" : "0"
        auth.handshake = auth.handshake.dropLast() + last
        return encode([frames[0], HandshakeMessages.frame(.auth, sequence: frames[1].sequence, auth)])
    }
}
