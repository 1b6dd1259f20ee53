import NIOCore

/// H.264 NAL unit types that matter to RTP (ITU-T H.264 Table 7-1, RFC 6184 Table 1).
public struct H264NALUnitType: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public var rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue & 0x1F }

    public static let slice = H264NALUnitType(rawValue: 1)
    public static let idr = H264NALUnitType(rawValue: 5)
    public static let sei = H264NALUnitType(rawValue: 6)
    public static let sps = H264NALUnitType(rawValue: 7)
    public static let pps = H264NALUnitType(rawValue: 8)
    public static let accessUnitDelimiter = H264NALUnitType(rawValue: 9)
    public static let stapA = H264NALUnitType(rawValue: 24)
    public static let stapB = H264NALUnitType(rawValue: 25)
    public static let mtap16 = H264NALUnitType(rawValue: 26)
    public static let mtap24 = H264NALUnitType(rawValue: 27)
    public static let fuA = H264NALUnitType(rawValue: 28)
    public static let fuB = H264NALUnitType(rawValue: 29)

    /// 1...23: a NAL unit of the H.264 bitstream itself (RFC 6184 §5.6).
    public var isSingleNALUnit: Bool { (1...23).contains(rawValue) }

    public var description: String {
        switch rawValue {
        case 1: "slice"
        case 5: "IDR"
        case 6: "SEI"
        case 7: "SPS"
        case 8: "PPS"
        case 9: "AUD"
        case 24: "STAP-A"
        case 25: "STAP-B"
        case 26: "MTAP16"
        case 27: "MTAP24"
        case 28: "FU-A"
        case 29: "FU-B"
        default: "type \(rawValue)"
        }
    }
}

/// The one-byte NAL unit header (RFC 6184 §1.3): `F(1) | NRI(2) | Type(5)`.
public struct H264NALHeader: Hashable, Sendable {
    public var byte: UInt8
    public init(_ byte: UInt8) { self.byte = byte }
    public init(forbidden: Bool = false, nri: UInt8, type: H264NALUnitType) {
        byte = (forbidden ? 0x80 : 0) | (nri & 3) << 5 | type.rawValue
    }

    public var forbiddenBit: Bool { byte & 0x80 != 0 }
    public var nri: UInt8 { byte >> 5 & 0x03 }
    public var type: H264NALUnitType { H264NALUnitType(rawValue: byte) }
}

/// What one H.264 RTP payload carries (RFC 6184 §5.2), found without allocating.
public struct H264PacketInfo: Hashable, Sendable {
    /// The payload's own NAL type (1...23, STAP-A or FU-A).
    public var packetType: H264NALUnitType
    public var containsSPS = false
    public var containsPPS = false
    /// An IDR slice begins in this packet (single NAL, inside a STAP-A, or an FU-A start).
    public var containsIDR = false
    /// FU-A only: S and E bits and the fragmented unit's type.
    public var fragmentStart = false
    public var fragmentEnd = false
    public var fragmentType: H264NALUnitType?

    /// Keyframe start on the forwarding path: an IDR slice begins here, or the packet carries both
    /// SPS and PPS (senders such as libwebrtc aggregate them in a STAP-A right before the IDR).
    public var isKeyframe: Bool { containsIDR || (containsSPS && containsPPS) }

    /// Inspects one payload. Throws for an empty payload, a set F bit, type 0, a STAP-A whose
    /// sizes run past the end (`invalid_length`), a short FU-A, and STAP-B/MTAP/FU-B (`unsupported`,
    /// not in packetization mode 1, RFC 6184 §6.3).
    public init(payload: ByteBuffer) throws(PayloadError) {
        var reader = PayloadReader(payload)
        let header = H264NALHeader(try reader.u8("H.264 NAL header"))
        guard !header.forbiddenBit, header.type.rawValue != 0 else {
            throw PayloadError(.invalidNALUnit, offset: 0, detail: "H.264 F bit set or type 0")
        }
        packetType = header.type
        switch header.type.rawValue {
        case 1...23:
            note(header.type)
        case 24:
            // RFC 6184 §5.7.1: 16-bit NALU size, then the NAL unit; repeated to the end.
            guard reader.remaining > 0 else { throw PayloadError(.truncated, offset: 1, detail: "empty STAP-A") }
            while reader.remaining > 0 {
                guard reader.remaining >= 2 else {
                    throw PayloadError(.invalidLength, offset: reader.offset, detail: "STAP-A size field cut")
                }
                let size = Int(try reader.u16("STAP-A size"))
                guard size > 0, size <= reader.remaining else {
                    throw PayloadError(.invalidLength, offset: reader.offset - 2, detail: "STAP-A NAL size past the end")
                }
                let inner = H264NALHeader(try reader.u8("STAP-A NAL"))
                guard !inner.forbiddenBit, inner.type.isSingleNALUnit else {
                    throw PayloadError(.invalidNALUnit, offset: reader.offset - 1, detail: "STAP-A inner NAL type")
                }
                note(inner.type)
                _ = try reader.slice(size - 1)
            }
        case 28:
            // RFC 6184 §5.8: FU indicator, FU header `S|E|R|Type`, then at least one byte.
            let fu = try reader.u8("FU-A header")
            guard reader.remaining > 0 else { throw PayloadError(.truncated, offset: 2, detail: "FU-A without data") }
            fragmentStart = fu & 0x80 != 0
            fragmentEnd = fu & 0x40 != 0
            let type = H264NALUnitType(rawValue: fu)
            guard type.isSingleNALUnit, !(fragmentStart && fragmentEnd) else {
                throw PayloadError(.invalidNALUnit, offset: 1, detail: "FU-A header invalid")
            }
            fragmentType = type
            if fragmentStart { note(type) }
        default:
            throw PayloadError(.unsupported, offset: 0, detail: "H.264 packet type outside packetization mode 1")
        }
    }

    private mutating func note(_ type: H264NALUnitType) {
        switch type {
        case .sps: containsSPS = true
        case .pps: containsPPS = true
        case .idr: containsIDR = true
        default: break
        }
    }
}

/// Annex B byte streams (ITU-T H.264 Annex B): NAL units separated by 3- or 4-byte start codes.
public enum H264AnnexB {
    /// The 4-byte start code the depacketizer writes.
    public static let startCode: [UInt8] = [0, 0, 0, 1]

    /// The NAL units of `stream` as slices sharing its storage, in order. Bytes before the first
    /// start code are ignored, trailing zero bytes of each unit (`trailing_zero_8bits`, and the
    /// leading zero of a 4-byte start code) are trimmed, and empty units are skipped.
    public static func nalUnits(in stream: ByteBuffer) -> [ByteBuffer] {
        var units: [ByteBuffer] = []
        stream.withUnsafeReadableBytes { bytes in
            let count = bytes.count
            var index = 0
            var unitStart = -1
            func close(at end: Int) {
                guard unitStart >= 0 else { return }
                var last = end
                while last > unitStart, bytes[last - 1] == 0 { last -= 1 }
                if last > unitStart, let slice = stream.getSlice(at: stream.readerIndex + unitStart, length: last - unitStart) {
                    units.append(slice)
                }
            }
            while index + 2 < count {
                if bytes[index + 2] > 1 {
                    index += 3
                } else if bytes[index] == 0, bytes[index + 1] == 0, bytes[index + 2] == 1 {
                    close(at: index)
                    index += 3
                    unitStart = index
                } else {
                    index += 1
                }
            }
            close(at: count)
        }
        return units
    }

    /// Writes `units` as an Annex B stream with 4-byte start codes.
    public static func write(_ units: [ByteBuffer], to out: inout ByteBuffer) {
        for unit in units {
            out.writeBytes(startCode)
            out.writeImmutableBuffer(unit)
        }
    }
}
