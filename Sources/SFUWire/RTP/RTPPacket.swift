import NIOCore

/// An RTP packet (RFC 3550 §5.1) as a view over its bytes: parsing records offsets only, reads
/// come straight from the buffer, and the SFU's rewrites (SSRC, sequence number, timestamp,
/// payload type, marker, extension values) are stored into the same bytes.
///
/// Zero-copy rewriting needs the packet to be the only owner of its storage: hand the datagram
/// over with ``init(buffer:)`` (or ``init(parsing:)``, which leaves the source empty) and drop
/// other references; otherwise `ByteBuffer` copies on the first write, which is still correct.
public struct RTPPacket: Sendable {
    /// The packet bytes; `readableBytes` is the packet length.
    public private(set) var buffer: ByteBuffer
    /// Offset of the payload from the start of the packet.
    public let payloadOffset: Int
    /// Number of padding bytes at the end, including the count byte (RFC 3550 §5.1); 0 when P=0.
    public let paddingLength: Int
    // Extension block: element area from `extensionStart` to `extensionEnd`; both 0 when X=0.
    private let extensionStart: Int
    private let extensionEnd: Int

    /// Fixed header size (RFC 3550 §5.1).
    public static let fixedHeaderSize = 12

    /// Parses the readable bytes of `buffer` as one packet, moving them into the packet (the
    /// reader index ends at the writer index).
    public init(parsing buffer: inout ByteBuffer) throws(WireParseError) {
        let bytes = buffer.readSlice(length: buffer.readableBytes) ?? ByteBuffer()
        buffer = ByteBuffer()
        try self.init(buffer: bytes)
    }

    /// Parses `buffer`'s readable bytes as one packet and keeps the buffer.
    public init(buffer: ByteBuffer) throws(WireParseError) {
        let base = buffer.readerIndex
        let size = buffer.readableBytes
        guard size >= RTPPacket.fixedHeaderSize, let first = buffer.getInteger(at: base, as: UInt8.self) else {
            throw WireParseError(.truncated, offset: 0, detail: "RTP fixed header")
        }
        guard first >> 6 == 2 else { throw WireParseError(.invalidVersion, offset: 0) }
        var offset = RTPPacket.fixedHeaderSize + 4 * Int(first & 0x0F)
        guard offset <= size else { throw WireParseError(.truncated, offset: 12, detail: "CSRC list") }
        var extensionStart = 0
        var extensionEnd = 0
        if first & 0x10 != 0 {
            // RFC 3550 §5.3.1: 16-bit profile, 16-bit length in 32-bit words, then the data.
            guard offset + 4 <= size,
                  let profile = buffer.getInteger(at: base + offset, as: UInt16.self),
                  let words = buffer.getInteger(at: base + offset + 2, as: UInt16.self)
            else { throw WireParseError(.truncated, offset: offset, detail: "extension header") }
            extensionStart = offset + 4
            extensionEnd = extensionStart + 4 * Int(words)
            guard extensionEnd <= size else {
                throw WireParseError(.truncated, offset: offset + 2, detail: "extension length")
            }
            let form = RTPHeaderExtensionForm(profile: profile)
            var position = extensionStart
            validation: while true {
                switch RTPHeaderExtensionIterator.step(buffer, form, &position, extensionEnd) {
                case .element: continue
                case .end: break validation
                case .malformed: throw WireParseError(.invalidHeaderExtension, offset: position)
                }
            }
            offset = extensionEnd
        }
        var padding = 0
        if first & 0x20 != 0 {
            // RFC 3550 §5.1: the last octet counts the padding octets, itself included.
            guard size > offset, let count = buffer.getInteger(at: base + size - 1, as: UInt8.self) else {
                throw WireParseError(.invalidPadding, offset: size - 1, detail: "no room for padding")
            }
            guard count >= 1, Int(count) <= size - offset else {
                throw WireParseError(.invalidPadding, offset: size - 1)
            }
            padding = Int(count)
        }
        self.buffer = buffer
        self.payloadOffset = offset
        self.paddingLength = padding
        self.extensionStart = extensionStart
        self.extensionEnd = extensionEnd
    }

    // MARK: Header fields

    @inline(__always)
    private func byte(_ offset: Int) -> UInt8 {
        buffer.getInteger(at: buffer.readerIndex + offset, as: UInt8.self) ?? 0
    }

    /// Always 2 for a parsed packet.
    public var version: UInt8 { byte(0) >> 6 }
    public var hasPadding: Bool { byte(0) & 0x20 != 0 }
    public var hasExtension: Bool { byte(0) & 0x10 != 0 }
    public var csrcCount: Int { Int(byte(0) & 0x0F) }

    public var marker: Bool {
        get { byte(1) & 0x80 != 0 }
        set {
            let value = newValue ? byte(1) | 0x80 : byte(1) & 0x7F
            buffer.setInteger(value, at: buffer.readerIndex + 1)
        }
    }

    /// 7-bit payload type; setting keeps the marker bit.
    public var payloadType: UInt8 {
        get { byte(1) & 0x7F }
        set { buffer.setInteger(byte(1) & 0x80 | newValue & 0x7F, at: buffer.readerIndex + 1) }
    }

    public var sequenceNumber: UInt16 {
        get { buffer.getInteger(at: buffer.readerIndex + 2, as: UInt16.self) ?? 0 }
        set { buffer.setInteger(newValue, at: buffer.readerIndex + 2) }
    }

    public var timestamp: UInt32 {
        get { buffer.getInteger(at: buffer.readerIndex + 4, as: UInt32.self) ?? 0 }
        set { buffer.setInteger(newValue, at: buffer.readerIndex + 4) }
    }

    public var ssrc: UInt32 {
        get { buffer.getInteger(at: buffer.readerIndex + 8, as: UInt32.self) ?? 0 }
        set { buffer.setInteger(newValue, at: buffer.readerIndex + 8) }
    }

    /// The CSRC at `index` (0..<csrcCount).
    public func csrc(at index: Int) -> UInt32? {
        guard index >= 0, index < csrcCount else { return nil }
        return buffer.getInteger(at: buffer.readerIndex + 12 + 4 * index, as: UInt32.self)
    }

    /// Rewrites the four per-subscriber fields at once (the forwarding hot path).
    @inlinable
    public mutating func rewrite(ssrc: UInt32, sequenceNumber: UInt16, timestamp: UInt32, payloadType: UInt8) {
        self.ssrc = ssrc
        self.sequenceNumber = sequenceNumber
        self.timestamp = timestamp
        self.payloadType = payloadType
    }

    // MARK: Payload

    /// Payload length, padding excluded.
    public var payloadLength: Int { buffer.readableBytes - payloadOffset - paddingLength }

    /// The payload (padding excluded) as a slice sharing the packet's storage.
    public var payload: ByteBuffer {
        buffer.getSlice(at: buffer.readerIndex + payloadOffset, length: payloadLength) ?? ByteBuffer()
    }

    /// Header bytes (fixed header, CSRCs, extension block).
    public var headerLength: Int { payloadOffset }

    // MARK: Header extensions

    /// The extension block's form, or `nil` when X=0.
    public var extensionForm: RTPHeaderExtensionForm? {
        guard hasExtension,
              let profile = buffer.getInteger(at: buffer.readerIndex + extensionStart - 4, as: UInt16.self)
        else { return nil }
        return RTPHeaderExtensionForm(profile: profile)
    }

    /// The RFC 8285 elements (empty for no block or a non-8285 profile).
    public var extensions: RTPHeaderExtensions {
        RTPHeaderExtensions(
            buffer: buffer, form: extensionForm ?? .other(profile: 0), start: extensionStart, end: extensionEnd
        )
    }

    /// The raw extension data (RFC 3550 §5.3.1, after the 4-byte header), for other profiles.
    public var extensionData: ByteBuffer? {
        guard hasExtension else { return nil }
        return buffer.getSlice(at: buffer.readerIndex + extensionStart, length: extensionEnd - extensionStart)
    }

    /// The first element with `id`; ids are unique per packet (RFC 8285 §4.1).
    public func extensionElement(id: UInt8) -> RTPHeaderExtensionElement? {
        for element in extensions where element.id == id { return element }
        return nil
    }

    /// The value of extension `id` as a slice.
    public func extensionValue(id: UInt8) -> ByteBuffer? {
        guard let element = extensionElement(id: id) else { return nil }
        return buffer.getSlice(at: buffer.readerIndex + element.valueOffset, length: element.length)
    }

    /// Reads extension `id` as a big-endian integer of exactly `T`'s size.
    public func extensionInteger<T: FixedWidthInteger>(id: UInt8, as: T.Type = T.self) -> T? {
        guard let element = extensionElement(id: id), element.length == MemoryLayout<T>.size else { return nil }
        return buffer.getInteger(at: buffer.readerIndex + element.valueOffset, as: T.self)
    }

    /// Overwrites extension `id`'s value in place. Returns `false` (and writes nothing) when the
    /// element is absent or its length differs from `value.count`.
    @discardableResult
    public mutating func setExtensionValue(id: UInt8, to value: some Collection<UInt8>) -> Bool {
        guard let element = extensionElement(id: id), element.length == value.count else { return false }
        buffer.setBytes(value, at: buffer.readerIndex + element.valueOffset)
        return true
    }

    /// Overwrites extension `id` with a big-endian integer (e.g. a transport-wide sequence number,
    /// UInt16). Returns `false` when absent or when the element is not `T`-sized.
    @discardableResult
    public mutating func setExtensionInteger<T: FixedWidthInteger>(id: UInt8, to value: T) -> Bool {
        guard let element = extensionElement(id: id), element.length == MemoryLayout<T>.size else { return false }
        buffer.setInteger(value, at: buffer.readerIndex + element.valueOffset)
        return true
    }

    /// Overwrites a 3-byte extension (e.g. abs-send-time) with the low 24 bits of `value`.
    @discardableResult
    public mutating func setExtensionUInt24(id: UInt8, to value: UInt32) -> Bool {
        guard let element = extensionElement(id: id), element.length == 3 else { return false }
        let at = buffer.readerIndex + element.valueOffset
        buffer.setInteger(UInt8(truncatingIfNeeded: value >> 16), at: at)
        buffer.setInteger(UInt16(truncatingIfNeeded: value), at: at + 1)
        return true
    }

    // MARK: Encoding

    /// Bytes on the wire.
    public var encodedSize: Int { buffer.readableBytes }

    /// Appends the packet's bytes to `out`.
    @discardableResult
    public func write(to out: inout ByteBuffer) -> Int { out.writeImmutableBuffer(buffer) }

    /// Writes a new packet (RFC 3550 §5.1). CSRCs beyond 15 are dropped; `paddingLength` 0 means
    /// no padding, otherwise that many bytes (1...255) with the count in the last one.
    @discardableResult
    public static func write(
        to out: inout ByteBuffer, marker: Bool = false, payloadType: UInt8, sequenceNumber: UInt16,
        timestamp: UInt32, ssrc: UInt32, csrcs: [UInt32] = [], extensions: RTPHeaderExtensionsBuilder? = nil,
        payload: ByteBuffer, paddingLength: UInt8 = 0
    ) -> Int {
        let start = out.writerIndex
        let csrcCount = min(csrcs.count, 15)
        var first: UInt8 = 0x80 | UInt8(csrcCount)
        if paddingLength > 0 { first |= 0x20 }
        if extensions != nil { first |= 0x10 }
        out.writeInteger(first)
        out.writeInteger((marker ? 0x80 : 0) | payloadType & 0x7F)
        out.writeInteger(sequenceNumber)
        out.writeInteger(timestamp)
        out.writeInteger(ssrc)
        for csrc in csrcs.prefix(csrcCount) { out.writeInteger(csrc) }
        extensions?.write(to: &out)
        out.writeImmutableBuffer(payload)
        if paddingLength > 0 {
            out.writeRepeatingByte(0, count: Int(paddingLength) - 1)
            out.writeInteger(paddingLength)
        }
        return out.writerIndex - start
    }
}
