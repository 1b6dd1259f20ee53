import Codecs
import Testing

@Suite struct SyntheticSourceTests {
    @Test func framesAreReproducibleAndMove() throws {
        let video = SyntheticVideo(width: 96, height: 64)
        let a = try I420Frame(width: 96, height: 64), b = try I420Frame(width: 96, height: 64)
        try video.render(7, into: a)
        try video.render(3, into: b)
        try video.render(7, into: b)
        #expect(a.packedBytes() == b.packedBytes())
        try video.render(8, into: b)
        #expect(a.packedBytes() != b.packedBytes())
        var psnr = PSNRAccumulator()
        try psnr.add(source: a.view(), decoded: a.view())
        #expect(psnr.y == PSNRAccumulator.maximum)
    }

    @Test func oddSizesWorkAndMismatchThrows() throws {
        let video = SyntheticVideo(width: 33, height: 17)
        let frame = try I420Frame(width: 33, height: 17)
        try video.render(0, into: frame)
        #expect(frame.packedBytes().count == 33 * 17 + 2 * 17 * 9)
        #expect(throws: CodecError.self) { try video.render(0, into: try I420Frame(width: 32, height: 17)) }
        #expect(throws: CodecError.self) { try I420Frame(width: 0, height: 10) }
    }

    @Test func audioIsReproducibleAndHoldsTheTone() {
        let audio = SyntheticAudio(channels: 2)
        #expect(audio.block(4, frameSize: 960) == audio.block(4, frameSize: 960))
        let level = AudioQuality.toneLevel((0..<10).flatMap { audio.block($0, frameSize: 960) }, channel: 1, channels: 2, frequency: 440)
        #expect(abs(level - 0.3) < 0.01)
    }
}
