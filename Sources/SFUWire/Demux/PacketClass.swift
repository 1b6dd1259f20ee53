import NIOCore

/// What kind of packet arrived on the shared media port, from its first bytes (RFC 7983 §7).
public enum PacketClass: Sendable, Hashable {
    case stun
    case dtls
    case rtp
    case rtcp
    case turnChannel
    case unknown

    /// Classifies by the first two bytes; `nil` bytes mean the datagram was shorter.
    ///
    /// RFC 7983 §7: 0...3 STUN, 16...19 ZRTP (unsupported → unknown), 20...63 DTLS, 64...79 TURN
    /// channel data, 128...191 RTP/RTCP. RTP and RTCP are told apart by the second byte per
    /// RFC 5761 §4: RTCP packet types 192...223 (RTP payload types 64...95 with marker) are RTCP.
    @inlinable
    public static func classify(firstByte: UInt8, secondByte: UInt8?) -> PacketClass {
        switch firstByte {
        case 0...3: return .stun
        case 20...63: return .dtls
        case 64...79: return .turnChannel
        case 128...191:
            guard let secondByte else { return .unknown }
            return (192...223).contains(secondByte) ? .rtcp : .rtp
        default: return .unknown
        }
    }

    /// Classifies the readable bytes of `buffer` without moving its reader index.
    @inlinable
    public init(classifying buffer: ByteBuffer) {
        guard let first = buffer.getInteger(at: buffer.readerIndex, as: UInt8.self) else {
            self = .unknown
            return
        }
        let second = buffer.getInteger(at: buffer.readerIndex + 1, as: UInt8.self)
        self = PacketClass.classify(firstByte: first, secondByte: second)
    }
}
