import NIOCore

/// The start of a VP8 frame (RFC 6386 §9.1; the "VP8 payload header" of RFC 7741 §4.3):
///
/// ```
///  0 1 2 3 4 5 6 7
/// +-+-+-+-+-+-+-+-+
/// |Size0|H| VER |P|
/// +-+-+-+-+-+-+-+-+
/// |     Size1     |
/// +-+-+-+-+-+-+-+-+
/// |     Size2     |
/// +-+-+-+-+-+-+-+-+
/// ```
///
/// followed on keyframes by the start code `9d 01 2a` and 14-bit width and height with 2-bit
/// scaling (RFC 6386 §9.1). Never allocates.
public struct VP8FrameHeader: Hashable, Sendable {
    /// P = 0.
    public var isKeyframe: Bool
    /// VER, 0...3 (RFC 6386 §9.1).
    public var version: UInt8
    /// H: show_frame.
    public var showFrame: Bool
    /// Size of the first partition in bytes (19 bits).
    public var firstPartitionSize: Int
    /// Keyframes only: frame width and height (14 bits each) and their scaling codes.
    public var width: Int?
    public var height: Int?
    public var horizontalScale: UInt8?
    public var verticalScale: UInt8?

    /// Keyframe start code (RFC 6386 §9.1).
    public static let startCode: (UInt8, UInt8, UInt8) = (0x9D, 0x01, 0x2A)

    /// Parses the frame header at the start of `frame` (a whole frame or the first packet's VP8
    /// payload). Throws `truncated` or `invalid_descriptor` (bad keyframe start code).
    public init(frame: ByteBuffer) throws(PayloadError) {
        var reader = PayloadReader(frame)
        let b0 = try reader.u8("VP8 frame tag")
        let b1 = try reader.u8("VP8 frame tag")
        let b2 = try reader.u8("VP8 frame tag")
        isKeyframe = b0 & 0x01 == 0
        version = b0 >> 1 & 0x07
        showFrame = b0 & 0x10 != 0
        firstPartitionSize = Int(b0 >> 5) | Int(b1) << 3 | Int(b2) << 11
        width = nil
        height = nil
        horizontalScale = nil
        verticalScale = nil
        guard isKeyframe else { return }
        let c0 = try reader.u8("VP8 start code")
        let c1 = try reader.u8("VP8 start code")
        let c2 = try reader.u8("VP8 start code")
        guard (c0, c1, c2) == VP8FrameHeader.startCode else {
            throw PayloadError(.invalidDescriptor, offset: 3, detail: "VP8 keyframe start code")
        }
        let w = try reader.u16("VP8 width").byteSwapped  // little-endian on the wire (RFC 6386 §9.1)
        let h = try reader.u16("VP8 height").byteSwapped
        width = Int(w & 0x3FFF)
        horizontalScale = UInt8(w >> 14)
        height = Int(h & 0x3FFF)
        verticalScale = UInt8(h >> 14)
    }

    /// Writes a frame tag (and keyframe start code and dimensions), for building test frames.
    public static func write(
        keyframe: Bool, version: UInt8 = 0, showFrame: Bool = true, firstPartitionSize: Int,
        width: Int = 0, height: Int = 0, to out: inout ByteBuffer
    ) {
        let size = UInt32(truncatingIfNeeded: firstPartitionSize) & 0x7FFFF
        let b0 = UInt8(truncatingIfNeeded: size & 0x7) << 5 | (showFrame ? 0x10 : 0) | (version & 7) << 1 | (keyframe ? 0 : 1)
        out.writeInteger(b0)
        out.writeInteger(UInt8(truncatingIfNeeded: size >> 3))
        out.writeInteger(UInt8(truncatingIfNeeded: size >> 11))
        guard keyframe else { return }
        out.writeBytes([0x9D, 0x01, 0x2A])
        out.writeInteger(UInt16(truncatingIfNeeded: width & 0x3FFF).byteSwapped)
        out.writeInteger(UInt16(truncatingIfNeeded: height & 0x3FFF).byteSwapped)
    }
}
