// Shared helper for the encode → decode round-trip tests: 320×240, 30 frames of the synthetic
// sequence, PSNR of every decoded picture against its source.
import Codecs
import Testing

struct RoundTripResult {
    var psnr = PSNRAccumulator()
    var encoded: [EncodedFrame] = []
    var decodedFrames = 0
}

enum RoundTrip {
    static let width = 320
    static let height = 240
    static let frames = 30

    /// `encode(frame, index)` returns the encoded frames; `decode(bytes, sink)` decodes one.
    static func run(
        width: Int = width, height: Int = height, frames: Int = frames,
        encode: (I420Frame, Int) throws -> [EncodedFrame],
        decode: ([UInt8], (I420View) -> Void) throws -> Void
    ) throws -> RoundTripResult {
        let video = SyntheticVideo(width: width, height: height)
        let source = try I420Frame(width: width, height: height)
        var sources: [Int64: I420Frame] = [:]
        var result = RoundTripResult()
        for index in 0..<frames {
            try video.render(index, into: source)
            let kept = try I420Frame(width: width, height: height)
            try kept.copy(from: source.view())
            sources[Int64(index)] = kept
            for frame in try encode(source, index) {
                result.encoded.append(frame)
                var failure: CodecError?
                try decode(frame.bytes) { picture in
                    guard let original = sources[frame.pts] else { return }
                    do { try result.psnr.add(source: original.view(), decoded: picture) } catch { failure = error as? CodecError }
                    result.decodedFrames += 1
                }
                if let failure { throw failure }
            }
        }
        return result
    }
}
