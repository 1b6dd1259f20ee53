import Codecs
import CodecsGPL
import Testing

@Suite struct X264EncoderTests {
    @Test func firstFrameAndForcedFramesAreIDRsInAnnexB() throws {
        var settings = X264EncoderSettings(width: RoundTrip.width, height: RoundTrip.height)
        settings.bitrateKbps = 800
        let encoder = try X264Encoder(settings)
        let video = SyntheticVideo(width: RoundTrip.width, height: RoundTrip.height)
        let frame = try I420Frame(width: RoundTrip.width, height: RoundTrip.height)
        var keys: [Bool] = []
        for index in 0..<10 {
            try video.render(index, into: frame)
            let out = try encoder.encode(frame, pts: Int64(index), forceKeyframe: index == 6)
            #expect(out.count == 1, "zerolatency emits one access unit per picture")
            for encoded in out {
                #expect(Array(encoded.bytes.prefix(4)) == [0, 0, 0, 1])
                #expect(encoded.pts == Int64(index))
                keys.append(encoded.isKeyframe)
            }
        }
        #expect(keys == (0..<10).map { $0 == 0 || $0 == 6 })
        #expect(try encoder.flush().isEmpty)
    }

    @Test func badParametersThrow() throws {
        var settings = X264EncoderSettings(width: 321, height: 240)
        #expect(throws: CodecError.self) { try X264Encoder(settings) }
        settings = X264EncoderSettings(width: 320, height: 240)
        settings.preset = "warp-speed"
        let error = #expect(throws: CodecError.self) { try X264Encoder(settings) }
        #expect(error?.code == .invalidParameter)
        let encoder = try X264Encoder(X264EncoderSettings(width: 320, height: 240))
        #expect(throws: CodecError.self) { try encoder.encode(try I420Frame(width: 64, height: 64), pts: 0) }
    }
}
