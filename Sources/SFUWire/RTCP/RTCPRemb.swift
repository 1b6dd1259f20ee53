import NIOCore

/// Receiver estimated maximum bitrate: PSFB (PT 206) FMT 15 "AFB" with the `REMB` identifier
/// (draft-alvestrand-rmcat-remb-03 §2.2). Bitrate = mantissa (18 bits) × 2^exponent (6 bits).
public struct RTCPRemb: Hashable, Sendable {
    public var senderSSRC: UInt32
    /// Bits per second. Values that do not fit 18 bits of mantissa are rounded down.
    public var bitrate: UInt64
    /// The SSRCs the estimate applies to (at most 255).
    public var ssrcs: [UInt32]

    public static let format: UInt8 = 15
    static let identifier: UInt32 = 0x5245_4D42  // "REMB"

    public init(senderSSRC: UInt32, bitrate: UInt64, ssrcs: [UInt32]) {
        self.senderSSRC = senderSSRC
        self.bitrate = bitrate
        self.ssrcs = ssrcs
    }

    /// `true` when the packet at `buffer`'s reader index carries the REMB identifier.
    static func isREMB(_ buffer: ByteBuffer) -> Bool {
        buffer.getInteger(at: buffer.readerIndex + 12, as: UInt32.self) == identifier
    }

    public init(parsing buffer: inout ByteBuffer) throws(WireParseError) {
        var (_, body) = try RTCPHeader.readPacket(from: &buffer, type: RTCPHeader.payloadFeedback, format: Self.format)
        senderSSRC = try body.readOrThrow(UInt32.self, "REMB")
        _ = try body.readOrThrow(UInt32.self, "REMB media source")  // always 0 (draft §2.2)
        guard try body.readOrThrow(UInt32.self, "REMB identifier") == Self.identifier else {
            throw WireParseError(.invalidFeedback, offset: 12, detail: "not REMB")
        }
        let word = try body.readOrThrow(UInt32.self, "REMB bitrate")
        let count = Int(word >> 24)
        let exponent = UInt64((word >> 18) & 0x3F)
        let mantissa = UInt64(word & 0x3_FFFF)
        // 18-bit mantissa shifted by up to 63 overflows; saturate.
        bitrate = UInt64(mantissa.leadingZeroBitCount) < exponent ? .max : mantissa << exponent
        var ssrcs: [UInt32] = []
        for _ in 0..<count { ssrcs.append(try body.readOrThrow(UInt32.self, "REMB ssrc")) }
        self.ssrcs = ssrcs
    }

    public var encodedSize: Int { 20 + 4 * min(ssrcs.count, 255) }

    @discardableResult
    public func write(to buffer: inout ByteBuffer) -> Int {
        let ssrcs = self.ssrcs.prefix(255)
        var mantissa = bitrate
        var exponent: UInt32 = 0
        while mantissa > 0x3_FFFF {
            mantissa >>= 1
            exponent += 1
        }
        RTCPHeader.write(count: Self.format, packetType: RTCPHeader.payloadFeedback, size: encodedSize, to: &buffer)
        buffer.writeInteger(senderSSRC)
        buffer.writeInteger(UInt32(0))
        buffer.writeInteger(Self.identifier)
        buffer.writeInteger(UInt32(ssrcs.count) << 24 | exponent << 18 | UInt32(mantissa))
        for ssrc in ssrcs { buffer.writeInteger(ssrc) }
        return encodedSize
    }
}
