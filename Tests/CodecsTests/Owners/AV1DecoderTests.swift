import Codecs
import Testing

@Suite struct AV1DecoderTests {
    @Test func garbageIsADecodeError() throws {
        let decoder = try AV1Decoder()
        // An OBU header announcing a sequence header with a size past the end, then random bytes.
        // and an OBU with the forbidden bit set (AV1 §6.2.1).
        for garbage: [UInt8] in [[0x0A, 0x7F, 0x00], [0xFF, 0xFF, 0xFF, 0xFF]] {
            let error = #expect(throws: CodecError.self) { try decoder.decode(garbage) { _ in } }
            #expect(error?.library == .dav1d)
        }
        #expect(throws: CodecError.self) { try decoder.decode([]) { _ in } }
        // Reserved OBU types are skipped (AV1 §6.2.2): no picture, no error.
        #expect(try decoder.decode((0..<200).map { UInt8(($0 * 37) & 0xFF) }) { _ in } == 0)
    }

    @Test func corruptedStreamsNeverCrash() throws {
        let decoder = try AV1Decoder()
        var settings = AV1EncoderSettings(width: 160, height: 96)
        settings.cpuUsed = 10
        let encoder = try AV1Encoder(settings)
        let rejected = try Mutation.survive(
            encode: { frame, index in try encoder.encode(frame, pts: Int64(index)) },
            decode: { bytes in try decoder.decode(bytes) { _ in } })
        #expect(rejected > 0)
    }

    @Test func framePipeliningDrainsOnFlush() throws {
        let encoder = try AV1Encoder(AV1EncoderTests.settings())
        let decoder = try AV1Decoder(threads: 2, maxFrameDelay: 0)
        let video = SyntheticVideo(width: RoundTrip.width, height: RoundTrip.height)
        let frame = try I420Frame(width: RoundTrip.width, height: RoundTrip.height)
        var pictures = 0
        for index in 0..<6 {
            try video.render(index, into: frame)
            for encoded in try encoder.encode(frame, pts: Int64(index)) {
                pictures += try decoder.decode(encoded.bytes, pts: encoded.pts) { _ in }
            }
        }
        pictures += try decoder.flush { _ in }
        #expect(pictures == 6)
    }
}
