import NIOCore
import Testing
@testable import SFUWire

@Suite struct RFC4571FramingTests {
    func framedStream(_ frames: [[UInt8]]) throws -> ByteBuffer {
        var stream = ByteBuffer()
        for frame in frames { try RFC4571FrameEncoder.write(frame: ByteBuffer(bytes: frame), to: &stream) }
        return stream
    }

    static let frames: [[UInt8]] = [[1, 2, 3], [], Array(repeating: 0xAB, count: 1500), [0x00, 0x01]]

    @Test func encodesLengthPrefix() throws {
        let stream = try framedStream([[0xAA, 0xBB]])
        #expect(bytes(stream) == [0x00, 0x02, 0xAA, 0xBB])
    }

    @Test func decodesAllAtOnce() throws {
        var stream = try framedStream(Self.frames)
        var decoder = RFC4571FrameDecoder()
        var decoded: [[UInt8]] = []
        while let frame = try decoder.decode(buffer: &stream) { decoded.append(bytes(frame)) }
        #expect(decoded == Self.frames)
        #expect(stream.readableBytes == 0)
    }

    /// Byte-by-byte delivery yields the same frames (the ByteToMessageDecoderVerifier property).
    @Test func decodesByteByByte() throws {
        let stream = try framedStream(Self.frames)
        var decoder = RFC4571FrameDecoder()
        var accumulated = ByteBuffer()
        var decoded: [[UInt8]] = []
        for byte in bytes(stream) {
            accumulated.writeInteger(byte)
            while let frame = try decoder.decode(buffer: &accumulated) { decoded.append(bytes(frame)) }
        }
        #expect(decoded == Self.frames)
        #expect(try decoder.decodeLast(buffer: &accumulated, seenEOF: true) == nil)
    }

    @Test func partialFrameAtEOFIsAnError() {
        var stream = ByteBuffer(bytes: [0x00, 0x05, 1, 2])
        var decoder = RFC4571FrameDecoder()
        #expect { _ = try decoder.decodeLast(buffer: &stream, seenEOF: true) } throws: {
            ($0 as? WireParseError)?.code == .truncated
        }
    }

    @Test func oversizedFramesAreRejected() throws {
        var stream = ByteBuffer(bytes: [0x05, 0xDD])  // 1501
        var decoder = RFC4571FrameDecoder(maximumFrameLength: 1500)
        #expect { _ = try decoder.decode(buffer: &stream) } throws: { ($0 as? WireParseError)?.code == .frameTooLarge }
        var out = ByteBuffer()
        let huge = ByteBuffer(repeating: 0, count: 65536)
        #expect { try RFC4571FrameEncoder.write(frame: huge, to: &out) } throws: {
            ($0 as? WireParseError)?.code == .frameTooLarge
        }
    }
}
