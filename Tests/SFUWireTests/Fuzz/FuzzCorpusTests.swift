import Foundation
import NIOCore
import Testing
@testable import SFUWire

/// Replays the checked-in seed corpora (Fixtures/fuzz-corpus) through their parsers: seeds are
/// valid inputs, so each must parse; future crash reproducers placed there must not crash.
@Suite struct FuzzCorpusTests {
    func corpus(_ directory: String) throws -> [(String, [UInt8])] {
        let base = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/fuzz-corpus/\(directory)")
        let names = try FileManager.default.contentsOfDirectory(atPath: base.path).sorted()
        return try names.map { ($0, Array(try Data(contentsOf: base.appendingPathComponent($0)))) }
    }

    @Test func stunSeedsParse() throws {
        for (name, input) in try corpus("stun") {
            #expect(throws: Never.self, "\(name)") { _ = try STUNMessage(bytes: ByteBuffer(bytes: input)) }
            input.withUnsafeBytes { fuzzSTUN($0) }
        }
    }

    @Test func rtpSeedsParse() throws {
        for (name, input) in try corpus("rtp") {
            #expect(throws: Never.self, "\(name)") { _ = try RTPPacket(buffer: ByteBuffer(bytes: input)) }
            input.withUnsafeBytes { fuzzRTP($0) }
        }
    }

    @Test func rtcpSeedsParse() throws {
        for (name, input) in try corpus("rtcp") {
            #expect(throws: Never.self, "\(name)") { _ = try RTCPCompoundIterator.parseAll(ByteBuffer(bytes: input)) }
            input.withUnsafeBytes { fuzzRTCP($0) }
        }
    }

    @Test func framingAndSDPSeedsParse() throws {
        for (_, input) in try corpus("rfc4571") {
            var buffer = ByteBuffer(bytes: input)
            var decoder = RFC4571FrameDecoder()
            var frames = 0
            while try decoder.decode(buffer: &buffer) != nil { frames += 1 }
            #expect(frames == 2)
        }
        for (name, input) in try corpus("sdp") {
            #expect(throws: Never.self, "\(name)") { _ = try SessionDescription(parsing: String(decoding: input, as: UTF8.self)) }
            input.withUnsafeBytes { fuzzSDP($0) }
        }
    }
}
