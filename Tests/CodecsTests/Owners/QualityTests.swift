import Codecs
import Testing

@Suite struct QualityTests {
    @Test func psnrOfAKnownError() throws {
        let a = try I420Frame(width: 16, height: 16), b = try I420Frame(width: 16, height: 16)
        // Every luma sample off by 1 → MSE 1 → 48.13 dB; chroma identical.
        for row in 0..<16 { for x in 0..<16 { b.plane(0)[row * b.stride(0) + x] = 1 } }
        var psnr = PSNRAccumulator()
        try psnr.add(source: a.view(), decoded: b.view())
        #expect(abs(psnr.y - 48.1308) < 0.001)
        // Overall: 256 errors over 384 samples → MSE 2/3 → 49.89 dB.
        #expect(abs(psnr.overall - 49.8917) < 0.001)
        #expect(throws: CodecError.self) { try psnr.add(source: a.view(), decoded: try I420Frame(width: 8, height: 16).view()) }
    }

    @Test func snrFindsTheDelay() {
        let reference = (0..<4_000).map { Int16(truncatingIfNeeded: ($0 * 7919) % 20_000 - 10_000) }
        let delayed = [Int16](repeating: 0, count: 37) + reference
        let result = AudioQuality.snr(reference: reference, decoded: delayed, channels: 1, maxLag: 100)
        #expect(result.lag == 37)
        #expect(result.db == 100)
    }
}
