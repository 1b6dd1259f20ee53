import NIOCore

/// A cursor over a `ByteBuffer`'s readable bytes that never moves the buffer's own indices and
/// never allocates. Offsets are relative to the buffer's reader index.
struct PayloadReader {
    let buffer: ByteBuffer
    let base: Int
    let end: Int
    var offset: Int = 0

    init(_ buffer: ByteBuffer) {
        self.buffer = buffer
        self.base = buffer.readerIndex
        self.end = buffer.readableBytes
    }

    var remaining: Int { end - offset }

    @inline(__always)
    mutating func u8(_ what: StaticString = "") throws(PayloadError) -> UInt8 {
        guard offset < end, let value = buffer.getInteger(at: base + offset, as: UInt8.self) else {
            throw PayloadError(.truncated, offset: offset, detail: "\(what)")
        }
        offset += 1
        return value
    }

    @inline(__always)
    mutating func u16(_ what: StaticString = "") throws(PayloadError) -> UInt16 {
        guard offset + 2 <= end, let value = buffer.getInteger(at: base + offset, as: UInt16.self) else {
            throw PayloadError(.truncated, offset: offset, detail: "\(what)")
        }
        offset += 2
        return value
    }

    /// A slice of `length` bytes sharing the buffer's storage.
    mutating func slice(_ length: Int, _ what: StaticString = "") throws(PayloadError) -> ByteBuffer {
        guard length >= 0, length <= remaining, let slice = buffer.getSlice(at: base + offset, length: length) else {
            throw PayloadError(.truncated, offset: offset, detail: "\(what)")
        }
        offset += length
        return slice
    }

    /// The rest of the bytes as a slice.
    mutating func rest() -> ByteBuffer {
        let slice = buffer.getSlice(at: base + offset, length: remaining) ?? ByteBuffer()
        offset = end
        return slice
    }

    /// Unsigned LEB128 as used by AV1 (AV1 spec §4.10.5: at most 8 bytes, value < 2^32).
    mutating func leb128() throws(PayloadError) -> Int {
        var value: UInt64 = 0
        for index in 0..<8 {
            guard offset < end, let byte = buffer.getInteger(at: base + offset, as: UInt8.self) else {
                throw PayloadError(.badOBUSize, offset: offset, detail: "LEB128 runs past the end")
            }
            offset += 1
            value |= UInt64(byte & 0x7F) << (7 * UInt64(index))
            if byte & 0x80 == 0 {
                guard value <= UInt64(UInt32.max) else {
                    throw PayloadError(.badOBUSize, offset: offset, detail: "LEB128 value above 2^32-1")
                }
                return Int(value)
            }
        }
        throw PayloadError(.badOBUSize, offset: offset, detail: "LEB128 longer than 8 bytes")
    }
}

/// LEB128 helpers (AV1 spec §4.10.5).
enum LEB128 {
    static func size(_ value: Int) -> Int {
        var count = 1
        var rest = value >> 7
        while rest > 0 { count += 1; rest >>= 7 }
        return count
    }

    @discardableResult
    static func write(_ value: Int, to out: inout ByteBuffer) -> Int {
        var rest = UInt64(value)
        var count = 0
        repeat {
            var byte = UInt8(rest & 0x7F)
            rest >>= 7
            if rest != 0 { byte |= 0x80 }
            out.writeInteger(byte)
            count += 1
        } while rest != 0
        return count
    }
}

/// MSB-first bit reader over a `ByteBuffer` slice (AV1 `f(n)`, VP9 uncompressed header).
struct BitReader {
    let buffer: ByteBuffer
    let base: Int
    let bitCount: Int
    var position = 0

    init(_ buffer: ByteBuffer) {
        self.buffer = buffer
        self.base = buffer.readerIndex
        self.bitCount = buffer.readableBytes * 8
    }

    var remainingBits: Int { bitCount - position }

    mutating func bit() throws(PayloadError) -> Bool { try bits(1) == 1 }

    /// Reads `count` (0...32) bits, most significant first.
    mutating func bits(_ count: Int) throws(PayloadError) -> UInt32 {
        guard count <= remainingBits else {
            throw PayloadError(.truncated, offset: position / 8, detail: "bit field past the end")
        }
        var value: UInt32 = 0
        for _ in 0..<count {
            let byte = buffer.getInteger(at: base + position >> 3, as: UInt8.self) ?? 0
            value = value << 1 | UInt32(byte >> (7 - UInt8(position & 7)) & 1)
            position += 1
        }
        return value
    }

    /// AV1 `ns(n)` non-symmetric unsigned value in 0..<n (AV1 spec §4.10.7).
    mutating func nonSymmetric(_ n: Int) throws(PayloadError) -> Int {
        guard n > 1 else { return 0 }
        var w = 0
        var x = n
        while x != 0 { x >>= 1; w += 1 }
        let m = (1 << w) - n
        let v = Int(try bits(w - 1))
        if v < m { return v }
        let extra = Int(try bits(1))
        return (v << 1) - m + extra
    }
}

/// MSB-first bit writer that appends whole bytes to a `ByteBuffer`, zero-padding the last one.
struct BitWriter {
    private(set) var bytes: [UInt8] = []
    private var bitPosition = 0

    mutating func write(_ value: UInt32, bits count: Int) {
        var index = count
        while index > 0 {
            index -= 1
            if bitPosition & 7 == 0 { bytes.append(0) }
            if value >> UInt32(index) & 1 == 1 {
                bytes[bytes.count - 1] |= 0x80 >> UInt8(bitPosition & 7)
            }
            bitPosition += 1
        }
    }

    mutating func write(_ flag: Bool) { write(flag ? 1 : 0, bits: 1) }

    /// AV1 `ns(n)` (AV1 spec §4.10.7), the inverse of ``BitReader/nonSymmetric(_:)``.
    mutating func writeNonSymmetric(_ value: Int, _ n: Int) {
        guard n > 1 else { return }
        var w = 0
        var x = n
        while x != 0 { x >>= 1; w += 1 }
        let m = (1 << w) - n
        if value < m {
            write(UInt32(value), bits: w - 1)
        } else {
            let t = value + m
            write(UInt32(t >> 1), bits: w - 1)
            write(UInt32(t & 1), bits: 1)
        }
    }
}
