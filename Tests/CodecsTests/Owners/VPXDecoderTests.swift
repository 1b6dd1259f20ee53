import Codecs
import Testing

@Suite struct VPXDecoderTests {
    @Test(arguments: VPXCodec.allCases)
    func garbageIsADecodeError(codec: VPXCodec) throws {
        let decoder = try VPXDecoder(codec: codec)
        var state: UInt32 = 7
        for length in [1, 3, 10, 100, 1_000] {
            let garbage = (0..<length).map { _ -> UInt8 in
                state = state &* 1_103_515_245 &+ 12_345
                return UInt8(truncatingIfNeeded: state >> 16)
            }
            let error = #expect(throws: CodecError.self) { try decoder.decode(garbage) { _ in } }
            #expect(error?.code == .decodeFailed)
            #expect(error?.library == .vpx)
        }
        #expect(throws: CodecError.self) { try decoder.decode([]) { _ in } }
    }

    @Test(arguments: VPXCodec.allCases)
    func corruptedStreamsNeverCrash(codec: VPXCodec) throws {
        let decoder = try VPXDecoder(codec: codec)
        let encoder = try VPXEncoder(VPXEncoderSettings(codec: codec, width: 160, height: 96))
        let rejected = try Mutation.survive(
            encode: { frame, index in try encoder.encode(frame, pts: Int64(index)) },
            decode: { bytes in try decoder.decode(bytes) { _ in } })
        // libvpx's VP8 decoder decodes through most corruption; VP9 rejects some of it.
        if codec == .vp9 { #expect(rejected > 0) }
    }

    @Test func zeroThreadsIsRejected() {
        #expect(throws: CodecError.self) { try VPXDecoder(codec: .vp8, threads: 0) }
    }
}
