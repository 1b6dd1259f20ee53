import NIOCore

/// Unsigned LEB128 varints as CCP-1 uses them (SPEC §4.1): 7 value bits per byte, least
/// significant group first, high bit set on every byte but the last, at most 10 bytes.
///
/// Decoding is strict (docs/PROTOCOL-CCP.md §1): a 10th byte with the continuation bit is
/// `varint_too_long`, a 10th byte above 0x01 is `varint_overflow` (the value would need more than
/// 64 bits), and a multi-byte encoding whose last byte is 0x00 is `varint_non_minimal`, so every
/// value has exactly one accepted encoding.
public enum CCPVarint {
    /// The longest accepted encoding.
    public static let maxLength = 10

    /// The result of reading a varint from a prefix of a buffer.
    public enum ReadResult: Hashable, Sendable {
        /// The bytes available end before the varint does (and are fewer than 10).
        case needMoreData
        /// The value and the number of bytes it occupied.
        case value(UInt64, length: Int)
    }

    /// The number of bytes `value` encodes to (1…10).
    @inlinable
    public static func encodedLength(_ value: UInt64) -> Int {
        let bits = 64 - value.leadingZeroBitCount
        return bits == 0 ? 1 : (bits + 6) / 7
    }

    /// Appends the minimal encoding of `value`.
    @inlinable
    public static func write(_ value: UInt64, to buffer: inout ByteBuffer) {
        var remaining = value
        while remaining >= 0x80 {
            buffer.writeInteger(UInt8(truncatingIfNeeded: remaining) | 0x80)
            remaining >>= 7
        }
        buffer.writeInteger(UInt8(truncatingIfNeeded: remaining))
    }

    /// Reads a varint starting at `index` without moving the reader index, looking at no byte at or
    /// beyond `limit` (an absolute index).
    public static func peek(
        in buffer: ByteBuffer,
        at index: Int,
        limit: Int
    ) throws(CCPError) -> ReadResult {
        var value: UInt64 = 0
        var offset = 0
        while offset < Self.maxLength {
            guard index + offset < limit, let byte = buffer.getInteger(at: index + offset, as: UInt8.self) else {
                return .needMoreData
            }
            let group = UInt64(byte & 0x7f)
            if offset == Self.maxLength - 1 {
                if byte & 0x80 != 0 { throw CCPError(.varintTooLong) }
                // 9 groups hold 63 bits; the 10th byte may only contribute bit 63.
                if byte > 0x01 { throw CCPError(.varintOverflow) }
            }
            value |= group << UInt64(7 * offset)
            if byte & 0x80 == 0 {
                if offset > 0 && byte == 0 { throw CCPError(.varintNonMinimal) }
                return .value(value, length: offset + 1)
            }
            offset += 1
        }
        // Unreachable: the 10th byte either ends the varint or throws.
        throw CCPError(.varintTooLong)
    }
}
