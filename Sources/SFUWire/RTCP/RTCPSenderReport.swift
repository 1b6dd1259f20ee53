import NIOCore

/// Sender report, PT 200 (RFC 3550 §6.4.1).
public struct RTCPSenderReport: Hashable, Sendable {
    public var ssrc: UInt32
    /// 64-bit NTP timestamp (seconds since 1900 in the high 32 bits, fraction in the low 32).
    public var ntpTimestamp: UInt64
    public var rtpTimestamp: UInt32
    public var packetCount: UInt32
    public var octetCount: UInt32
    /// At most 31 blocks (the RC field is 5 bits); extra blocks are not written.
    public var reportBlocks: [RTCPReportBlock]
    /// Profile-specific extension bytes after the blocks (RFC 3550 §6.4.1), kept verbatim.
    public var profileExtension: [UInt8]

    public static let packetType = RTCPHeader.senderReport

    public init(
        ssrc: UInt32, ntpTimestamp: UInt64, rtpTimestamp: UInt32, packetCount: UInt32, octetCount: UInt32,
        reportBlocks: [RTCPReportBlock] = [], profileExtension: [UInt8] = []
    ) {
        self.ssrc = ssrc
        self.ntpTimestamp = ntpTimestamp
        self.rtpTimestamp = rtpTimestamp
        self.packetCount = packetCount
        self.octetCount = octetCount
        self.reportBlocks = reportBlocks
        self.profileExtension = profileExtension
    }

    public init(parsing buffer: inout ByteBuffer) throws(WireParseError) {
        var (header, body) = try RTCPHeader.readPacket(from: &buffer, type: Self.packetType)
        ssrc = try body.readOrThrow(UInt32.self, "SR sender info")
        ntpTimestamp = try body.readOrThrow(UInt64.self, "SR sender info")
        rtpTimestamp = try body.readOrThrow(UInt32.self, "SR sender info")
        packetCount = try body.readOrThrow(UInt32.self, "SR sender info")
        octetCount = try body.readOrThrow(UInt32.self, "SR sender info")
        reportBlocks = try RTCPReportBlock.readBlocks(header.count, from: &body)
        profileExtension = body.readBytes(length: body.readableBytes) ?? []
    }

    /// The middle 32 bits of the NTP timestamp, echoed as LSR in report blocks.
    public var compactNTP: UInt32 { UInt32(truncatingIfNeeded: ntpTimestamp >> 16) }

    public var encodedSize: Int {
        28 + RTCPReportBlock.size * min(reportBlocks.count, 31) + (profileExtension.count + 3) / 4 * 4
    }

    @discardableResult
    public func write(to buffer: inout ByteBuffer) -> Int {
        let blocks = reportBlocks.prefix(31)
        RTCPHeader.write(count: UInt8(blocks.count), packetType: Self.packetType, size: encodedSize, to: &buffer)
        buffer.writeInteger(ssrc)
        buffer.writeInteger(ntpTimestamp)
        buffer.writeInteger(rtpTimestamp)
        buffer.writeInteger(packetCount)
        buffer.writeInteger(octetCount)
        for block in blocks { block.write(to: &buffer) }
        buffer.writeBytes(profileExtension)
        buffer.writeRepeatingByte(0, count: (4 - profileExtension.count % 4) % 4)
        return encodedSize
    }
}
