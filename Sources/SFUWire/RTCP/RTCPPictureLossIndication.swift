import NIOCore

/// Picture loss indication: PSFB (PT 206) FMT 1, no FCI (RFC 4585 §6.3.1).
public struct RTCPPictureLossIndication: Hashable, Sendable {
    public var senderSSRC: UInt32
    public var mediaSSRC: UInt32

    public static let format: UInt8 = 1

    public init(senderSSRC: UInt32, mediaSSRC: UInt32) {
        self.senderSSRC = senderSSRC
        self.mediaSSRC = mediaSSRC
    }

    public init(parsing buffer: inout ByteBuffer) throws(WireParseError) {
        var (_, body) = try RTCPHeader.readPacket(from: &buffer, type: RTCPHeader.payloadFeedback, format: Self.format)
        senderSSRC = try body.readOrThrow(UInt32.self, "PLI")
        mediaSSRC = try body.readOrThrow(UInt32.self, "PLI")
    }

    public var encodedSize: Int { 12 }

    @discardableResult
    public func write(to buffer: inout ByteBuffer) -> Int {
        RTCPHeader.write(count: Self.format, packetType: RTCPHeader.payloadFeedback, size: 12, to: &buffer)
        buffer.writeInteger(senderSSRC)
        buffer.writeInteger(mediaSSRC)
        return 12
    }
}
