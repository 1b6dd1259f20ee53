import NIOCore

/// One RTCP packet of a compound packet, decoded by type.
public enum RTCPPacket: Hashable, Sendable {
    case senderReport(RTCPSenderReport)
    case receiverReport(RTCPReceiverReport)
    case sourceDescription(RTCPSourceDescription)
    case bye(RTCPBye)
    case nack(RTCPNack)
    case transportCC(RTCPTransportCC)
    case pictureLossIndication(RTCPPictureLossIndication)
    case fullIntraRequest(RTCPFullIntraRequest)
    case remb(RTCPRemb)
    /// Any other packet (APP, XR, unknown feedback), kept as its header and whole bytes.
    case unknown(RTCPHeader, ByteBuffer)

    /// Decodes one packet from `buffer` and advances past it.
    public init(parsing buffer: inout ByteBuffer) throws(WireParseError) {
        var peek = buffer
        let (header, _) = try RTCPHeader.readPacket(from: &peek)
        switch (header.packetType, header.count) {
        case (RTCPHeader.senderReport, _): self = .senderReport(try RTCPSenderReport(parsing: &buffer))
        case (RTCPHeader.receiverReport, _): self = .receiverReport(try RTCPReceiverReport(parsing: &buffer))
        case (RTCPHeader.sourceDescription, _): self = .sourceDescription(try RTCPSourceDescription(parsing: &buffer))
        case (RTCPHeader.bye, _): self = .bye(try RTCPBye(parsing: &buffer))
        case (RTCPHeader.transportFeedback, RTCPNack.format): self = .nack(try RTCPNack(parsing: &buffer))
        case (RTCPHeader.transportFeedback, RTCPTransportCC.format):
            self = .transportCC(try RTCPTransportCC(parsing: &buffer))
        case (RTCPHeader.payloadFeedback, RTCPPictureLossIndication.format):
            self = .pictureLossIndication(try RTCPPictureLossIndication(parsing: &buffer))
        case (RTCPHeader.payloadFeedback, RTCPFullIntraRequest.format):
            self = .fullIntraRequest(try RTCPFullIntraRequest(parsing: &buffer))
        case (RTCPHeader.payloadFeedback, RTCPRemb.format) where RTCPRemb.isREMB(buffer):
            self = .remb(try RTCPRemb(parsing: &buffer))
        default:
            let bytes = buffer.readSlice(length: header.packetSize) ?? ByteBuffer()
            self = .unknown(header, bytes)
        }
    }

    public var encodedSize: Int {
        switch self {
        case .senderReport(let packet): return packet.encodedSize
        case .receiverReport(let packet): return packet.encodedSize
        case .sourceDescription(let packet): return packet.encodedSize
        case .bye(let packet): return packet.encodedSize
        case .nack(let packet): return packet.encodedSize
        case .transportCC(let packet): return packet.encodedSize
        case .pictureLossIndication(let packet): return packet.encodedSize
        case .fullIntraRequest(let packet): return packet.encodedSize
        case .remb(let packet): return packet.encodedSize
        case .unknown(_, let bytes): return bytes.readableBytes
        }
    }

    @discardableResult
    public func write(to buffer: inout ByteBuffer) -> Int {
        switch self {
        case .senderReport(let packet): return packet.write(to: &buffer)
        case .receiverReport(let packet): return packet.write(to: &buffer)
        case .sourceDescription(let packet): return packet.write(to: &buffer)
        case .bye(let packet): return packet.write(to: &buffer)
        case .nack(let packet): return packet.write(to: &buffer)
        case .transportCC(let packet): return packet.write(to: &buffer)
        case .pictureLossIndication(let packet): return packet.write(to: &buffer)
        case .fullIntraRequest(let packet): return packet.write(to: &buffer)
        case .remb(let packet): return packet.write(to: &buffer)
        case .unknown(_, let bytes): return buffer.writeImmutableBuffer(bytes)
        }
    }
}

/// Iterates the packets of a compound RTCP packet (RFC 3550 §6.1).
///
/// `nextHeader()` walks headers only (no decoding, no allocation) for routing decisions;
/// `next()` decodes each packet.
public struct RTCPCompoundIterator: Sendable {
    public private(set) var remaining: ByteBuffer

    public init(_ buffer: ByteBuffer) {
        self.remaining = buffer
    }

    /// The next packet decoded, or `nil` at the end.
    public mutating func next() throws(WireParseError) -> RTCPPacket? {
        guard remaining.readableBytes > 0 else { return nil }
        return try RTCPPacket(parsing: &remaining)
    }

    /// The next packet's header and its whole bytes (header included) as a slice.
    public mutating func nextHeader() throws(WireParseError) -> (header: RTCPHeader, bytes: ByteBuffer)? {
        guard remaining.readableBytes > 0 else { return nil }
        let before = remaining
        let (header, _) = try RTCPHeader.readPacket(from: &remaining)
        return (header, before.getSlice(at: before.readerIndex, length: header.packetSize) ?? ByteBuffer())
    }

    /// Decodes every packet of `buffer`'s readable bytes.
    public static func parseAll(_ buffer: ByteBuffer) throws(WireParseError) -> [RTCPPacket] {
        var iterator = RTCPCompoundIterator(buffer)
        var packets: [RTCPPacket] = []
        while let packet = try iterator.next() { packets.append(packet) }
        return packets
    }
}
