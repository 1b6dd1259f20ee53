import Foundation
import NIOCore
import Testing

@testable import CCP

/// Deterministic random and mutation inputs for the frame decoder and the Noise responder.
@Suite struct FuzzEntryPointsTests {
    static let seedFrames: [CCPFrame] = [
        CCPFrame(type: .ack, channelID: 0, sequence: 2, json: #"{"ack":1}"#),
        CCPFrame(type: .msg, channelID: 300, sequence: 70_000, payload: ByteBuffer(bytes: [0, 1, 2, 0xff])),
        CCPFrame(type: .keepalive, channelID: UInt32.max, sequence: 1, json: #"{"nonce":"n\u00e9"}"#),
        CCPFrame(type: .groupCreate, channelID: 9, sequence: 9, json: #"{"members":["a","b"],"roles":{"a":"owner"},"n":-1.5e-3}"#),
        CCPFrame(type: .voiceFrame, channelID: 1, sequence: 128, payload: ByteBuffer(repeating: 0x80, count: 40)),
    ]

    static func encode(_ frame: CCPFrame) -> [UInt8] {
        var buffer = ByteBuffer()
        frame.write(to: &buffer)
        return Array(buffer.readableBytesView)
    }

    static func mutate(_ input: [UInt8], using rng: inout SplitMix64) -> [UInt8] {
        var bytes = input
        for _ in 0...Int.random(in: 0..<4, using: &rng) {
            let position = bytes.isEmpty ? 0 : Int.random(in: 0..<bytes.count, using: &rng)
            switch Int.random(in: 0..<7, using: &rng) {
            case 0 where !bytes.isEmpty: bytes[position] ^= UInt8(1) << UInt8.random(in: 0..<8, using: &rng)
            case 1 where !bytes.isEmpty: bytes[position] = [0x00, 0x7f, 0x80, 0xff, 0x22, 0x7b][Int.random(in: 0..<6, using: &rng)]
            case 2: bytes.insert(UInt8.random(in: 0...255, using: &rng), at: position)
            case 3 where !bytes.isEmpty: bytes.remove(at: position)
            case 4: bytes = Array(bytes.prefix(position))
            case 5: bytes += Self.encode(Self.seedFrames[Int.random(in: 0..<Self.seedFrames.count, using: &rng)])
            default: bytes.insert(contentsOf: [UInt8](repeating: 0xff, count: Int.random(in: 1...11, using: &rng)), at: position)
            }
        }
        return bytes
    }

    /// Decodes all frames; each decoded frame must re-encode to exactly the bytes it consumed
    /// (strict varints make the encoding canonical).
    static func checkDecoder(_ input: [UInt8]) -> (frames: Int, error: CCPError?) {
        var decoder = CCPFrameDecoder()
        var buffer = ByteBuffer(bytes: input)
        var frames = 0
        for _ in 0...input.count {
            let start = buffer.readerIndex
            do {
                guard case .frame(let frame) = try decoder.decode(buffer: &buffer) else { return (frames, nil) }
                frames += 1
                #expect(Self.encode(frame) == Array(input[start..<buffer.readerIndex]))
            } catch {
                #expect(buffer.readerIndex == start)
                return (frames, error)
            }
        }
        return (frames, nil)
    }

    @Test func twentyThousandMutatedAndRandomInputs() {
        var rng = SplitMix64(seed: 0xC0FF_EE00_CC01)
        let seeds = Self.seedFrames.map(Self.encode)
        var codes: [String: Int] = [:]
        var decodedFrames = 0
        for iteration in 0..<20_000 {
            let input: [UInt8]
            if iteration % 4 == 0 {
                input = (0..<Int.random(in: 0..<48, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
            } else {
                input = Self.mutate(seeds[iteration % seeds.count], using: &rng)
            }
            let (frames, error) = Self.checkDecoder(input)
            decodedFrames += frames
            if let error { codes[error.code.rawValue, default: 0] += 1 }
            input.withUnsafeBytes { fuzzCCPFrameDecoder($0) }
        }
        // The corpus reaches the decoder's main outcomes, not just one early rejection.
        #expect(decodedFrames > 1000)
        for code in ["unknown_frame_type", "invalid_json", "payload_length_mismatch", "truncated_header", "varint_non_minimal"] {
            #expect(codes[code, default: 0] > 0, "no input hit \(code): \(codes)")
        }
    }

    @Test func noiseResponderSurvivesRandomAndMutatedMessages() throws {
        var rng = SplitMix64(seed: 42)
        // Genuine first messages for the fuzz responder's fixed key, to mutate.
        let responderKey = try NoiseKeyPair(privateKeyBytes: [UInt8](repeating: 0x42, count: 32)).publicKey
        var seeds: [[UInt8]] = []
        for pattern in NoisePattern.allCases {
            var initiator = try NoiseHandshakeState(
                configuration: .init(
                    pattern: pattern, role: .initiator, prologue: Array("commucat".utf8),
                    localStatic: NoiseKeyPair.generate(), remoteStatic: responderKey
                )
            )
            let first = try #require(try initiator.writeMessage(payload: [1, 2, 3]).message)
            seeds.append([pattern == .xk ? 0 : 1] + first)
        }
        for seed in seeds {
            var responder = try NoiseHandshakeState(
                configuration: .init(
                    pattern: seed[0] == 0 ? .xk : .ik, role: .responder, prologue: Array("commucat".utf8),
                    localStatic: try NoiseKeyPair(privateKeyBytes: [UInt8](repeating: 0x42, count: 32))
                )
            )
            #expect(try responder.readMessage(Array(seed.dropFirst())).payload == [1, 2, 3])
        }
        for iteration in 0..<2000 {
            let input: [UInt8]
            if iteration % 2 == 0 {
                input = (0..<Int.random(in: 0..<160, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
            } else {
                input = Self.mutate(seeds[iteration % seeds.count], using: &rng)
            }
            input.withUnsafeBytes { fuzzNoiseResponder($0) }
        }
        for seed in seeds {
            seed.withUnsafeBytes { fuzzNoiseResponder($0) }
        }
    }

    /// Expected outcome of each checked-in frame corpus file: frames decoded, then the error code (if any).
    static let frameCorpus: [String: (Int, String?)] = [
        "spec-ack.bin": (1, nil),
        "two-frames.bin": (2, nil),
        "opaque-msg.bin": (1, nil),
        "non-minimal-length.bin": (0, "varint_non_minimal"),
        "varint-overflow.bin": (0, "varint_overflow"),
        "varint-too-long.bin": (0, "varint_too_long"),
        "json-too-deep.bin": (0, "invalid_json"),
        "unknown-type.bin": (0, "unknown_frame_type"),
        "bad-utf8.bin": (0, "invalid_json"),
    ]

    @Test func frameCorpusReplaysWithKnownOutcomes() throws {
        let directory = fixturesDirectory.appendingPathComponent("FuzzCorpus/CCPFrameDecoder")
        let files = try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted()
        #expect(Set(files) == Set(Self.frameCorpus.keys), "every corpus file needs an expected outcome")
        for file in files {
            let input = [UInt8](try Data(contentsOf: directory.appendingPathComponent(file)))
            let (frames, error) = Self.checkDecoder(input)
            let expected = Self.frameCorpus[file]
            #expect(frames == expected?.0, "\(file)")
            #expect(error?.code.rawValue == expected?.1, "\(file)")
            input.withUnsafeBytes { fuzzCCPFrameDecoder($0) }
        }
    }

    @Test func noiseResponderCorpusReplays() throws {
        let directory = fixturesDirectory.appendingPathComponent("FuzzCorpus/NoiseResponder")
        let files = try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted()
        #expect(files.count >= 4)
        let responderStatic = try NoiseKeyPair(privateKeyBytes: [UInt8](repeating: 0x42, count: 32))
        for file in files {
            let input = [UInt8](try Data(contentsOf: directory.appendingPathComponent(file)))
            input.withUnsafeBytes { fuzzNoiseResponder($0) }
            guard file.hasSuffix("-message1.bin") else { continue }
            // The genuine first messages from noiseprotocol authenticate and carry "hello".
            var responder = try NoiseHandshakeState(
                configuration: .init(
                    pattern: input.first == 0 ? .xk : .ik, role: .responder, prologue: Array("commucat".utf8),
                    localStatic: responderStatic
                )
            )
            #expect(try responder.readMessage(Array(input.dropFirst())).payload == Array("hello".utf8), "\(file)")
        }
    }
}
