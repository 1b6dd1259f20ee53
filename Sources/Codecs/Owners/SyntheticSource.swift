// Deterministic test material for codec tests and `commucat-bench codecs` (docs/BENCHMARKS.md,
// "Method"). Frame N of a given size and seed is the same on every run and machine:
//
// Video, per pixel (x, y) of frame n on a W×H picture (integer arithmetic only):
//   Y = 16 + 160·x/W + 64·y/H                       a diagonal gradient,
//     + 40 where ((x + 4n) / (W/16)) is even          vertical bars sliding right 4 px per frame,
//     inside a W/5 × H/5 box bouncing at (3, 2) px per frame: 200 + 30 on a 16-px checkerboard,
//     + noise in −3…+4 from xorshift32 seeded by (seed ⊕ n·0x9E3779B9), one draw per luma pixel
//       in raster order, clamped to 0…255;
//   U = 96 + 64·x/Wc + n mod 32,  V = 176 − 64·y/Hc   (box: U = 60, V = 200).
// Audio (48 kHz, interleaved): sample t = 0.3·sin(2π·440·t/48000) + noise uniform in ±0.02 from
// xorshift32 seeded by (seed ⊕ block·0x9E3779B9), both as Int16 full scale; the right channel is
// the left one shifted by 1/8 of a period of the tone.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

@inline(__always) private func xorshift(_ state: inout UInt32) -> UInt32 {
    state ^= state << 13
    state ^= state >> 17
    state ^= state << 5
    return state
}

private func seedState(_ seed: UInt32, _ index: Int) -> UInt32 {
    let mixed = seed ^ (UInt32(truncatingIfNeeded: index) &* 0x9E37_79B9)
    return mixed == 0 ? 0x1234_5678 : mixed
}

/// The synthetic video sequence: any size, any frame, reproducible from (size, seed, index).
public struct SyntheticVideo: Sendable {
    public let width: Int
    public let height: Int
    public let seed: UInt32

    public init(width: Int, height: Int, seed: UInt32 = 0xC0FF_EE42) {
        self.width = width
        self.height = height
        self.seed = seed
    }

    /// Writes frame `index` into `frame` (which must have this sequence's size).
    public func render(_ index: Int, into frame: I420Frame) throws(CodecError) {
        guard frame.width == width, frame.height == height else {
            throw CodecError(.invalidFrameSize, library: .commucat, "frame is \(frame.width)x\(frame.height), sequence is \(width)x\(height)")
        }
        let n = max(0, index)
        let barWidth = max(1, width / 16)
        let boxWidth = max(1, width / 5), boxHeight = max(1, height / 5)
        let boxX = bounce(3 * n, range: width - boxWidth), boxY = bounce(2 * n, range: height - boxHeight)
        var state = seedState(seed, n)
        let luma = frame.plane(0), lumaStride = frame.stride(0)
        for y in 0..<height {
            let row = luma + y * lumaStride
            let rowBase = 16 + 64 * y / height
            let inBoxRow = y >= boxY && y < boxY + boxHeight
            for x in 0..<width {
                var value: Int
                if inBoxRow, x >= boxX, x < boxX + boxWidth {
                    value = ((x - boxX) / 16 + (y - boxY) / 16) % 2 == 0 ? 230 : 200
                } else {
                    value = rowBase + 160 * x / width
                    if ((x + 4 * n) / barWidth) % 2 == 0 { value += 40 }
                }
                value += Int(xorshift(&state) & 7) - 3
                row[x] = UInt8(clamping: value)
            }
        }
        let chromaWidth = frame.chromaWidth, chromaHeight = frame.chromaHeight
        let u = frame.plane(1), v = frame.plane(2), chromaStride = frame.stride(1)
        for y in 0..<chromaHeight {
            let inBoxRow = 2 * y >= boxY && 2 * y < boxY + boxHeight
            let vValue = UInt8(clamping: 176 - 64 * y / chromaHeight)
            for x in 0..<chromaWidth {
                let inBox = inBoxRow && 2 * x >= boxX && 2 * x < boxX + boxWidth
                u[y * chromaStride + x] = inBox ? 60 : UInt8(clamping: 96 + 64 * x / chromaWidth + n % 32)
                v[y * chromaStride + x] = inBox ? 200 : vValue
            }
        }
    }

    /// A triangle wave over 0...range.
    private func bounce(_ position: Int, range: Int) -> Int {
        guard range > 0 else { return 0 }
        let period = 2 * range
        let phase = position % period
        return phase <= range ? phase : period - phase
    }
}

/// The synthetic audio signal: a 440 Hz tone plus seeded noise at 48 kHz.
public struct SyntheticAudio: Sendable {
    public static let sampleRate = 48_000
    public static let toneFrequency = 440.0
    public let channels: Int
    public let seed: UInt32

    public init(channels: Int, seed: UInt32 = 0xC0FF_EE42) {
        self.channels = channels
        self.seed = seed
    }

    /// Block `index` of `frameSize` samples per channel (samples index·frameSize ..< (index+1)·frameSize).
    public func block(_ index: Int, frameSize: Int) -> [Int16] {
        var out = [Int16](repeating: 0, count: frameSize * channels)
        var state = seedState(seed, index)
        let step = 2 * Double.pi * Self.toneFrequency / Double(Self.sampleRate)
        for i in 0..<frameSize {
            let t = Double(index * frameSize + i)
            for channel in 0..<channels {
                let phase = t * step + (channel == 1 ? Double.pi / 4 : 0)
                let noise = (Double(xorshift(&state) & 0xFFFF) / 65_535 - 0.5) * 0.04
                out[i * channels + channel] = Int16(clamping: Int((0.3 * sin(phase) + noise) * 32_767))
            }
        }
        return out
    }
}
