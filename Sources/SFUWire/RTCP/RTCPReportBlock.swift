import NIOCore

/// A reception report block (RFC 3550 §6.4.1), 24 bytes.
public struct RTCPReportBlock: Hashable, Sendable {
    public var ssrc: UInt32
    /// Fraction lost since the last report, fixed point /256.
    public var fractionLost: UInt8
    /// Cumulative packets lost, a signed 24-bit value (−8388608...8388607).
    public var cumulativeLost: Int32
    public var extendedHighestSequenceNumber: UInt32
    public var jitter: UInt32
    /// Middle 32 bits of the last SR's NTP timestamp.
    public var lastSenderReport: UInt32
    /// Delay since last SR in units of 1/65536 s.
    public var delaySinceLastSenderReport: UInt32

    public static let size = 24

    public init(
        ssrc: UInt32, fractionLost: UInt8 = 0, cumulativeLost: Int32 = 0, extendedHighestSequenceNumber: UInt32 = 0,
        jitter: UInt32 = 0, lastSenderReport: UInt32 = 0, delaySinceLastSenderReport: UInt32 = 0
    ) {
        self.ssrc = ssrc
        self.fractionLost = fractionLost
        self.cumulativeLost = min(max(cumulativeLost, -0x80_0000), 0x7F_FFFF)
        self.extendedHighestSequenceNumber = extendedHighestSequenceNumber
        self.jitter = jitter
        self.lastSenderReport = lastSenderReport
        self.delaySinceLastSenderReport = delaySinceLastSenderReport
    }

    init(reading buffer: inout ByteBuffer) throws(WireParseError) {
        ssrc = try buffer.readOrThrow(UInt32.self, "report block")
        let lost = try buffer.readOrThrow(UInt32.self, "report block")
        fractionLost = UInt8(lost >> 24)
        // Sign-extend the 24-bit cumulative loss.
        cumulativeLost = Int32(bitPattern: lost << 8) >> 8
        extendedHighestSequenceNumber = try buffer.readOrThrow(UInt32.self, "report block")
        jitter = try buffer.readOrThrow(UInt32.self, "report block")
        lastSenderReport = try buffer.readOrThrow(UInt32.self, "report block")
        delaySinceLastSenderReport = try buffer.readOrThrow(UInt32.self, "report block")
    }

    func write(to buffer: inout ByteBuffer) {
        buffer.writeInteger(ssrc)
        buffer.writeInteger(UInt32(fractionLost) << 24 | UInt32(bitPattern: cumulativeLost) & 0x00FF_FFFF)
        buffer.writeInteger(extendedHighestSequenceNumber)
        buffer.writeInteger(jitter)
        buffer.writeInteger(lastSenderReport)
        buffer.writeInteger(delaySinceLastSenderReport)
    }
}

extension RTCPReportBlock {
    static func readBlocks(_ count: UInt8, from body: inout ByteBuffer) throws(WireParseError) -> [RTCPReportBlock] {
        var blocks: [RTCPReportBlock] = []
        blocks.reserveCapacity(Int(count))
        for _ in 0..<count { blocks.append(try RTCPReportBlock(reading: &body)) }
        return blocks
    }
}
