import NIOCore

/// Receiver report, PT 201 (RFC 3550 §6.4.2).
public struct RTCPReceiverReport: Hashable, Sendable {
    public var ssrc: UInt32
    /// At most 31 blocks; extra blocks are not written.
    public var reportBlocks: [RTCPReportBlock]
    /// Profile-specific extension bytes, kept verbatim.
    public var profileExtension: [UInt8]

    public static let packetType = RTCPHeader.receiverReport

    public init(ssrc: UInt32, reportBlocks: [RTCPReportBlock] = [], profileExtension: [UInt8] = []) {
        self.ssrc = ssrc
        self.reportBlocks = reportBlocks
        self.profileExtension = profileExtension
    }

    public init(parsing buffer: inout ByteBuffer) throws(WireParseError) {
        var (header, body) = try RTCPHeader.readPacket(from: &buffer, type: Self.packetType)
        ssrc = try body.readOrThrow(UInt32.self, "RR ssrc")
        reportBlocks = try RTCPReportBlock.readBlocks(header.count, from: &body)
        profileExtension = body.readBytes(length: body.readableBytes) ?? []
    }

    public var encodedSize: Int {
        8 + RTCPReportBlock.size * min(reportBlocks.count, 31) + (profileExtension.count + 3) / 4 * 4
    }

    @discardableResult
    public func write(to buffer: inout ByteBuffer) -> Int {
        let blocks = reportBlocks.prefix(31)
        RTCPHeader.write(count: UInt8(blocks.count), packetType: Self.packetType, size: encodedSize, to: &buffer)
        buffer.writeInteger(ssrc)
        for block in blocks { block.write(to: &buffer) }
        buffer.writeBytes(profileExtension)
        buffer.writeRepeatingByte(0, count: (4 - profileExtension.count % 4) % 4)
        return encodedSize
    }
}
