import NIOCore

/// Full intra request: PSFB (PT 206) FMT 4 (RFC 5104 §4.3.1). The media-source field is zero;
/// each FCI entry names a target SSRC and a command sequence number.
public struct RTCPFullIntraRequest: Hashable, Sendable {
    public struct Entry: Hashable, Sendable {
        public var ssrc: UInt32
        /// Incremented by the sender for each new request (RFC 5104 §4.3.1.2).
        public var sequenceNumber: UInt8

        public init(ssrc: UInt32, sequenceNumber: UInt8) {
            self.ssrc = ssrc
            self.sequenceNumber = sequenceNumber
        }
    }

    public var senderSSRC: UInt32
    public var mediaSSRC: UInt32
    public var entries: [Entry]

    public static let format: UInt8 = 4

    public init(senderSSRC: UInt32, mediaSSRC: UInt32 = 0, entries: [Entry]) {
        self.senderSSRC = senderSSRC
        self.mediaSSRC = mediaSSRC
        self.entries = entries
    }

    public init(parsing buffer: inout ByteBuffer) throws(WireParseError) {
        var (_, body) = try RTCPHeader.readPacket(from: &buffer, type: RTCPHeader.payloadFeedback, format: Self.format)
        senderSSRC = try body.readOrThrow(UInt32.self, "FIR")
        mediaSSRC = try body.readOrThrow(UInt32.self, "FIR")
        guard body.readableBytes % 8 == 0 else {
            throw WireParseError(.invalidFeedback, offset: body.readerIndex, detail: "FIR FCI not 8-byte entries")
        }
        var entries: [Entry] = []
        while body.readableBytes >= 8 {
            let ssrc = try body.readOrThrow(UInt32.self)
            let word = try body.readOrThrow(UInt32.self)
            entries.append(Entry(ssrc: ssrc, sequenceNumber: UInt8(word >> 24)))
        }
        self.entries = entries
    }

    public var encodedSize: Int { 12 + 8 * entries.count }

    @discardableResult
    public func write(to buffer: inout ByteBuffer) -> Int {
        RTCPHeader.write(count: Self.format, packetType: RTCPHeader.payloadFeedback, size: encodedSize, to: &buffer)
        buffer.writeInteger(senderSSRC)
        buffer.writeInteger(mediaSSRC)
        for entry in entries {
            buffer.writeInteger(entry.ssrc)
            buffer.writeInteger(UInt32(entry.sequenceNumber) << 24)
        }
        return encodedSize
    }
}
