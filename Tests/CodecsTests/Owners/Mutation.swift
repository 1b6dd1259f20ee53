// Seeded corruption of real encoder output: decoders must answer with CodecError or a picture,
// never crash. Bounded: a fixed number of mutated copies per stream.
import Codecs

enum Mutation {
    /// `count` copies of `frame`, each with a few bytes overwritten (deterministic per seed).
    static func corrupted(_ frame: [UInt8], count: Int, seed: UInt32 = 0x5EED) -> [[UInt8]] {
        var state = seed
        func next() -> Int {
            state ^= state << 13
            state ^= state >> 17
            state ^= state << 5
            return Int(state & 0x7FFF_FFFF)
        }
        return (0..<count).map { _ in
            var copy = frame
            for _ in 0..<(1 + next() % 8) where !copy.isEmpty {
                copy[next() % copy.count] = UInt8(truncatingIfNeeded: next())
            }
            if next() % 4 == 0 { copy = Array(copy.prefix(max(1, next() % copy.count))) }
            return copy
        }
    }

    /// Encodes six frames with `encode`, then feeds 60 corrupted copies of them to `decode`.
    /// Returns how many of the corrupted inputs were rejected with CodecError.
    static func survive(encode: (I420Frame, Int) throws -> [EncodedFrame], decode: ([UInt8]) throws -> Void) throws -> Int {
        let video = SyntheticVideo(width: 160, height: 96)
        let frame = try I420Frame(width: 160, height: 96)
        var stream: [[UInt8]] = []
        for index in 0..<6 {
            try video.render(index, into: frame)
            stream += try encode(frame, index).map(\.bytes)
        }
        var rejected = 0
        for (index, bytes) in stream.enumerated() {
            for corrupted in corrupted(bytes, count: 10, seed: UInt32(index + 1)) {
                do { try decode(corrupted) } catch is CodecError { rejected += 1 }
            }
        }
        return rejected
    }
}
