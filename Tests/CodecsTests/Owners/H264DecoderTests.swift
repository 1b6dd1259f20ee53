import Codecs
import CodecsGPL
import Testing

@Suite struct H264DecoderTests {
    @Test func x264OutputDecodesWithOpenH264() throws {
        var settings = X264EncoderSettings(width: RoundTrip.width, height: RoundTrip.height)
        settings.bitrateKbps = 800
        let encoder = try X264Encoder(settings)
        let decoder = try H264Decoder()
        let result = try RoundTrip.run(
            encode: { frame, index in try encoder.encode(frame, pts: Int64(index)) },
            decode: { bytes, sink in try decoder.decode(bytes, sink) })
        #expect(result.decodedFrames == RoundTrip.frames)
        #expect(result.psnr.y >= 30, "H.264 Y-PSNR \(result.psnr.y)")
    }

    @Test func garbageIsADecodeError() throws {
        let decoder = try H264Decoder()
        // Start code + a NAL header claiming a slice with nothing decodable behind it, and noise.
        let inputs: [[UInt8]] = [[0, 0, 0, 1, 0x65, 0xFF, 0x00, 0x13], (0..<300).map { UInt8(($0 * 91) & 0xFF) }]
        for garbage in inputs {
            let error = #expect(throws: CodecError.self) { try decoder.decode(garbage) { _ in } }
            #expect(error?.code == .decodeFailed)
        }
        // A broken SPS alone is dropped by openh264: no picture, no error.
        #expect(try decoder.decode([0, 0, 1, 0x67, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF]) { _ in } == 0)
        #expect(throws: CodecError.self) { try decoder.decode([]) { _ in } }
        #expect(throws: CodecError.self) { try H264Decoder(threads: 0) }
    }

    @Test func corruptedStreamsNeverCrash() throws {
        let decoder = try H264Decoder()
        let encoder = try X264Encoder(X264EncoderSettings(width: 160, height: 96))
        let rejected = try Mutation.survive(
            encode: { frame, index in try encoder.encode(frame, pts: Int64(index)) },
            decode: { bytes in try decoder.decode(bytes) { _ in } })
        #expect(rejected > 0)
    }
}
