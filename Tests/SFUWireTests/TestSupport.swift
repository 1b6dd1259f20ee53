import Foundation
import NIOCore

/// Builds a buffer from hex text; whitespace and comments after `#` on a line are ignored, so
/// RFC vectors can be typed as they are printed.
func hexBuffer(_ text: String) -> ByteBuffer {
    var buffer = ByteBuffer()
    for line in text.split(separator: "\n") {
        let code = line.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
        let digits = code.filter { $0.isHexDigit }
        var index = digits.startIndex
        while index < digits.endIndex, let next = digits.index(index, offsetBy: 2, limitedBy: digits.endIndex) {
            if let byte = UInt8(digits[index..<next], radix: 16) { buffer.writeInteger(byte) }
            index = next
        }
    }
    return buffer
}

func bytes(_ buffer: ByteBuffer) -> [UInt8] {
    buffer.getBytes(at: buffer.readerIndex, length: buffer.readableBytes) ?? []
}

/// Reads a fixture file next to the tests (Tests/SFUWireTests/Fixtures/NAME).
func fixture(_ name: String, filePath: String = #filePath) throws -> String {
    var directory = URL(fileURLWithPath: filePath).deletingLastPathComponent()
    while directory.lastPathComponent != "SFUWireTests", directory.path != "/" {
        directory = directory.deletingLastPathComponent()
    }
    return try String(contentsOf: directory.appendingPathComponent("Fixtures").appendingPathComponent(name), encoding: .utf8)
}

/// Deterministic generator (SplitMix64) for fuzz-style tests.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
