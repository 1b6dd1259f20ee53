// Objective quality: PSNR for video, SNR and tone level for audio.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Squared-error sums over pictures, turned into PSNR at the end. Sequence PSNR is computed from
/// the total squared error over all frames (not the mean of per-frame PSNRs), so one perfect frame
/// cannot make the sequence infinite. Identical pictures give `PSNR.maximum`.
public struct PSNRAccumulator: Sendable {
    public static let maximum = 100.0
    public private(set) var frames = 0
    private var squaredError: [UInt64] = [0, 0, 0]
    private var samples: [UInt64] = [0, 0, 0]

    public init() {}

    /// Adds one pair of pictures of equal size.
    public mutating func add(source: I420View, decoded: I420View) throws(CodecError) {
        guard source.width == decoded.width, source.height == decoded.height else {
            throw CodecError(.invalidFrameSize, library: .commucat,
                             "decoded \(decoded.width)x\(decoded.height) vs source \(source.width)x\(source.height)")
        }
        let pairs = [(source.y, decoded.y), (source.u, decoded.u), (source.v, decoded.v)]
        for (index, (a, b)) in pairs.enumerated() {
            var sum: UInt64 = 0
            for row in 0..<a.height {
                let left = a.base + row * a.stride, right = b.base + row * b.stride
                var rowSum: UInt32 = 0  // ≤ 16384 · 255² fits
                for x in 0..<a.width {
                    let d = Int32(left[x]) - Int32(right[x])
                    rowSum &+= UInt32(d * d)
                }
                sum += UInt64(rowSum)
            }
            squaredError[index] += sum
            samples[index] += UInt64(a.width * a.height)
        }
        frames += 1
    }

    private static func psnr(_ error: UInt64, _ count: UInt64) -> Double {
        guard count > 0 else { return 0 }
        guard error > 0 else { return maximum }
        let mse = Double(error) / Double(count)
        return min(maximum, 10 * log10(255 * 255 / mse))
    }

    /// Luma PSNR in dB.
    public var y: Double { Self.psnr(squaredError[0], samples[0]) }
    /// PSNR over all three planes, each sample weighted equally (4:2:0 → Y counts 4×, as ffmpeg's
    /// `psnr` filter "average").
    public var overall: Double { Self.psnr(squaredError.reduce(0, +), samples.reduce(0, +)) }
}

public enum AudioQuality {
    /// Signal-to-noise ratio in dB of `decoded` against `reference` (interleaved, same channel
    /// count), after finding the codec delay: the lag in 0...maxLag samples per channel that
    /// maximises SNR.
    public static func snr(reference: [Int16], decoded: [Int16], channels: Int, maxLag: Int = 1_000) -> (db: Double, lag: Int) {
        var best = (db: -Double.infinity, lag: 0)
        let frames = min(reference.count, decoded.count) / max(1, channels)
        guard frames > maxLag + 1 else { return (0, 0) }
        let span = (frames - maxLag) * channels
        for lag in 0...maxLag {
            var signal = 0.0, noise = 0.0
            let offset = lag * channels
            for i in stride(from: 0, to: span, by: 1) {
                let r = Double(reference[i]), d = Double(decoded[i + offset])
                signal += r * r
                noise += (r - d) * (r - d)
            }
            let db = noise == 0 ? 100 : 10 * log10(signal / noise)
            if db > best.db { best = (db, lag) }
        }
        return best
    }

    /// The amplitude (0...1 of full scale) of `frequency` in one channel, by the Goertzel algorithm.
    public static func toneLevel(_ samples: [Int16], channel: Int, channels: Int, frequency: Double, sampleRate: Double = 48_000) -> Double {
        let count = samples.count / max(1, channels)
        guard count > 0 else { return 0 }
        let coefficient = 2 * cos(2 * Double.pi * frequency / sampleRate)
        var s1 = 0.0, s2 = 0.0
        for i in 0..<count {
            let s0 = Double(samples[i * channels + channel]) / 32_768 + coefficient * s1 - s2
            s2 = s1
            s1 = s0
        }
        let power = s1 * s1 + s2 * s2 - coefficient * s1 * s2
        return 2 * sqrt(max(0, power)) / Double(count)
    }
}
