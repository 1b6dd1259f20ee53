import Codecs
import Testing

@Suite struct AV1EncoderTests {
    static func settings() -> AV1EncoderSettings {
        var settings = AV1EncoderSettings(width: RoundTrip.width, height: RoundTrip.height)
        settings.bitrateKbps = 800
        settings.cpuUsed = 10
        return settings
    }

    @Test func roundTripThroughDav1dKeepsQuality() throws {
        let encoder = try AV1Encoder(Self.settings())
        let decoder = try AV1Decoder()
        let result = try RoundTrip.run(
            encode: { frame, index in try encoder.encode(frame, pts: Int64(index)) },
            decode: { bytes, sink in try decoder.decode(bytes, pts: 0, sink) })
        #expect(result.decodedFrames == RoundTrip.frames)
        #expect(result.psnr.y >= 30, "AV1 Y-PSNR \(result.psnr.y)")
    }

    @Test func firstFrameAndForcedFramesAreKeyframes() throws {
        let encoder = try AV1Encoder(Self.settings())
        let video = SyntheticVideo(width: RoundTrip.width, height: RoundTrip.height)
        let frame = try I420Frame(width: RoundTrip.width, height: RoundTrip.height)
        var keys: [Bool] = []
        for index in 0..<8 {
            try video.render(index, into: frame)
            keys += try encoder.encode(frame, pts: Int64(index), forceKeyframe: index == 5).map(\.isKeyframe)
        }
        #expect(keys == (0..<8).map { $0 == 0 || $0 == 5 })
    }

    @Test func badParametersThrow() throws {
        var settings = Self.settings()
        settings.cpuUsed = 11
        #expect(throws: CodecError.self) { try AV1Encoder(settings) }
        settings = Self.settings()
        settings.height = 0
        let error = #expect(throws: CodecError.self) { try AV1Encoder(settings) }
        #expect(error?.code == .invalidFrameSize)
    }
}
