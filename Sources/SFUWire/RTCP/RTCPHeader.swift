import NIOCore

/// The common RTCP header (RFC 3550 §6.4.1): V=2, P, a 5-bit count (RC/SC, or FMT for feedback
/// per RFC 4585 §6.1), packet type, and length in 32-bit words minus one.
public struct RTCPHeader: Hashable, Sendable {
    public var padding: Bool
    /// Reception report / source count, or feedback message type (FMT).
    public var count: UInt8
    public var packetType: UInt8
    /// Length field as on the wire: words minus one.
    public var length: UInt16

    public init(padding: Bool = false, count: UInt8, packetType: UInt8, length: UInt16) {
        self.padding = padding
        self.count = count
        self.packetType = packetType
        self.length = length
    }

    /// Total packet size in bytes, header included.
    public var packetSize: Int { (Int(length) + 1) * 4 }

    public static let senderReport: UInt8 = 200
    public static let receiverReport: UInt8 = 201
    public static let sourceDescription: UInt8 = 202
    public static let bye: UInt8 = 203
    public static let applicationDefined: UInt8 = 204
    /// Transport-layer feedback (RFC 4585 §6.2).
    public static let transportFeedback: UInt8 = 205
    /// Payload-specific feedback (RFC 4585 §6.3).
    public static let payloadFeedback: UInt8 = 206

    /// Reads one packet: returns its header and its body (after the 4-byte header, padding
    /// removed) as a slice, and advances `buffer` past the whole packet.
    static func readPacket(from buffer: inout ByteBuffer) throws(WireParseError) -> (RTCPHeader, ByteBuffer) {
        guard let first = buffer.getInteger(at: buffer.readerIndex, as: UInt8.self),
              let type = buffer.getInteger(at: buffer.readerIndex + 1, as: UInt8.self),
              let length = buffer.getInteger(at: buffer.readerIndex + 2, as: UInt16.self)
        else { throw WireParseError(.truncated, offset: 0, detail: "RTCP header") }
        guard first >> 6 == 2 else { throw WireParseError(.invalidVersion, offset: 0) }
        let header = RTCPHeader(padding: first & 0x20 != 0, count: first & 0x1F, packetType: type, length: length)
        guard var packet = buffer.getSlice(at: buffer.readerIndex, length: header.packetSize) else {
            throw WireParseError(.truncated, offset: 2, detail: "RTCP length exceeds buffer")
        }
        if header.padding {
            // RFC 3550 §6.4.1: the last octet counts the padding octets, itself included.
            guard let count = packet.getInteger(at: packet.writerIndex - 1, as: UInt8.self),
                  count >= 1, Int(count) <= header.packetSize - 4
            else { throw WireParseError(.invalidPadding, offset: header.packetSize - 1) }
            packet.moveWriterIndex(to: packet.writerIndex - Int(count))
        }
        packet.moveReaderIndex(forwardBy: 4)
        buffer.moveReaderIndex(forwardBy: header.packetSize)
        return (header, packet)
    }

    /// Reads a packet and checks its type (and, for feedback, its FMT).
    static func readPacket(
        from buffer: inout ByteBuffer, type: UInt8, format: UInt8? = nil
    ) throws(WireParseError) -> (RTCPHeader, ByteBuffer) {
        var copy = buffer
        let (header, body) = try readPacket(from: &copy)
        guard header.packetType == type, format == nil || header.count == format else {
            throw WireParseError(.unknownPacketType, offset: 1)
        }
        buffer = copy
        return (header, body)
    }

    /// Writes a header for a packet of `size` bytes (a multiple of 4, header included).
    static func write(count: UInt8, packetType: UInt8, size: Int, padding: Bool = false, to buffer: inout ByteBuffer) {
        buffer.writeInteger(0x80 | (padding ? 0x20 : 0) | count & 0x1F)
        buffer.writeInteger(packetType)
        buffer.writeInteger(UInt16(truncatingIfNeeded: size / 4 - 1))
    }
}

extension ByteBuffer {
    /// Reads an integer or throws `truncated` with the offset relative to `origin`.
    @inline(__always)
    mutating func readOrThrow<T: FixedWidthInteger>(_: T.Type = T.self, _ detail: String = "") throws(WireParseError) -> T {
        guard let value = readInteger(as: T.self) else {
            throw WireParseError(.truncated, offset: readerIndex, detail: detail)
        }
        return value
    }

    /// Reads exactly `length` bytes into an array or throws `truncated`.
    mutating func readBytesOrThrow(_ length: Int, _ detail: String = "") throws(WireParseError) -> [UInt8] {
        guard let bytes = readBytes(length: length) else {
            throw WireParseError(.truncated, offset: readerIndex, detail: detail)
        }
        return bytes
    }
}
