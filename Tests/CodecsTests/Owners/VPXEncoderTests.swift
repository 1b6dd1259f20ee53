import Codecs
import Testing

@Suite struct VPXEncoderTests {
    static func settings(_ codec: VPXCodec, layers: Int = 1) -> VPXEncoderSettings {
        var settings = VPXEncoderSettings(codec: codec, width: RoundTrip.width, height: RoundTrip.height)
        settings.bitrateKbps = 800
        settings.temporalLayers = layers
        return settings
    }

    @Test(arguments: [(VPXCodec.vp8, 30.0), (VPXCodec.vp9, 30.0)])
    func roundTripKeepsQuality(codec: VPXCodec, minimumPSNR: Double) throws {
        let encoder = try VPXEncoder(Self.settings(codec))
        let decoder = try VPXDecoder(codec: codec)
        let result = try RoundTrip.run(
            encode: { frame, index in try encoder.encode(frame, pts: Int64(index)) },
            decode: { bytes, sink in try decoder.decode(bytes, sink) })
        #expect(result.decodedFrames == RoundTrip.frames)
        #expect(result.psnr.y >= minimumPSNR, "\(codec) Y-PSNR \(result.psnr.y)")
        #expect(result.psnr.overall >= minimumPSNR)
    }

    @Test(arguments: VPXCodec.allCases)
    func firstFrameAndForcedFramesAreKeyframes(codec: VPXCodec) throws {
        let encoder = try VPXEncoder(Self.settings(codec))
        let video = SyntheticVideo(width: RoundTrip.width, height: RoundTrip.height)
        let frame = try I420Frame(width: RoundTrip.width, height: RoundTrip.height)
        var keys: [Bool] = []
        for index in 0..<12 {
            try video.render(index, into: frame)
            let out = try encoder.encode(frame, pts: Int64(index), forceKeyframe: index == 9)
            #expect(out.count == 1)
            keys += out.map(\.isKeyframe)
        }
        #expect(keys == (0..<12).map { $0 == 0 || $0 == 9 })
    }

    @Test(arguments: [(VPXCodec.vp8, 2), (VPXCodec.vp8, 3), (VPXCodec.vp9, 2), (VPXCodec.vp9, 3)])
    func temporalLayersFollowThePattern(codec: VPXCodec, layers: Int) throws {
        let encoder = try VPXEncoder(Self.settings(codec, layers: layers))
        let decoder = try VPXDecoder(codec: codec)
        let video = SyntheticVideo(width: RoundTrip.width, height: RoundTrip.height)
        let frame = try I420Frame(width: RoundTrip.width, height: RoundTrip.height)
        var ids: [Int?] = []
        var baseOnly = 0
        for index in 0..<8 {
            try video.render(index, into: frame)
            for encoded in try encoder.encode(frame, pts: Int64(index)) {
                ids.append(encoded.temporalLayer)
                // A receiver of only the base layer still decodes every base frame.
                if encoded.temporalLayer == 0 { baseOnly += try decoder.decode(encoded.bytes) { _ in } }
            }
        }
        let pattern = layers == 2 ? [0, 1] : [0, 2, 1, 2]
        #expect(ids == (0..<8).map { pattern[$0 % pattern.count] })
        #expect(baseOnly == 8 / pattern.count)
    }

    @Test func badParametersAndSizesThrow() throws {
        var settings = Self.settings(.vp8)
        settings.width = 4
        #expect(throws: CodecError.self) { try VPXEncoder(settings) }
        settings = Self.settings(.vp9)
        settings.cpuUsed = 12
        let error = #expect(throws: CodecError.self) { try VPXEncoder(settings) }
        #expect(error?.code == .invalidParameter)
        let encoder = try VPXEncoder(Self.settings(.vp8))
        let wrong = try I420Frame(width: 64, height: 64)
        let sizeError = #expect(throws: CodecError.self) { try encoder.encode(wrong, pts: 0) }
        #expect(sizeError?.code == .invalidFrameSize)
    }
}
