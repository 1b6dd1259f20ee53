import NIOCore

/// Goodbye, PT 203 (RFC 3550 §6.6).
public struct RTCPBye: Hashable, Sendable {
    /// At most 31 sources.
    public var sources: [UInt32]
    /// Optional reason, at most 255 bytes.
    public var reason: [UInt8]?

    public static let packetType = RTCPHeader.bye

    public init(sources: [UInt32], reason: String? = nil) {
        self.sources = sources
        self.reason = reason.map { Array($0.utf8.prefix(255)) }
    }

    public init(parsing buffer: inout ByteBuffer) throws(WireParseError) {
        var (header, body) = try RTCPHeader.readPacket(from: &buffer, type: Self.packetType)
        var sources: [UInt32] = []
        for _ in 0..<header.count { sources.append(try body.readOrThrow(UInt32.self, "BYE source")) }
        self.sources = sources
        if let length = body.readInteger(as: UInt8.self) {
            reason = try body.readBytesOrThrow(Int(length), "BYE reason")
        } else {
            reason = nil
        }
    }

    public var reasonText: String? { reason.map { String(decoding: $0, as: UTF8.self) } }

    public var encodedSize: Int {
        4 + 4 * min(sources.count, 31) + (reason.map { ($0.count + 1 + 3) / 4 * 4 } ?? 0)
    }

    @discardableResult
    public func write(to buffer: inout ByteBuffer) -> Int {
        let sources = self.sources.prefix(31)
        RTCPHeader.write(count: UInt8(sources.count), packetType: Self.packetType, size: encodedSize, to: &buffer)
        for source in sources { buffer.writeInteger(source) }
        if let reason {
            let bytes = reason.prefix(255)
            buffer.writeInteger(UInt8(bytes.count))
            buffer.writeBytes(bytes)
            buffer.writeRepeatingByte(0, count: (4 - (bytes.count + 1) % 4) % 4)
        }
        return encodedSize
    }
}
