import NIOCore

/// The first fields of a VP9 uncompressed header (VP9 bitstream spec §6.2, §7.2): enough to tell a
/// keyframe and read its size. Never allocates.
public struct VP9FrameHeader: Hashable, Sendable {
    public var profile: Int
    public var showExistingFrame: Bool
    /// frame_type == KEY_FRAME (0).
    public var isKeyframe: Bool
    public var showFrame: Bool
    /// Keyframes only: frame_width_minus_1 + 1, frame_height_minus_1 + 1.
    public var width: Int?
    public var height: Int?

    public init(frame: ByteBuffer) throws(PayloadError) {
        var bits = BitReader(frame)
        guard try bits.bits(2) == 2 else {
            throw PayloadError(.invalidDescriptor, offset: 0, detail: "VP9 frame_marker is not 2")
        }
        let low = try bits.bits(1)
        let high = try bits.bits(1)
        profile = Int(high << 1 | low)
        if profile == 3 { _ = try bits.bits(1) }
        showExistingFrame = try bits.bit()
        width = nil
        height = nil
        if showExistingFrame {
            isKeyframe = false
            showFrame = true
            return
        }
        isKeyframe = try bits.bits(1) == 0
        showFrame = try bits.bit()
        _ = try bits.bit()  // error_resilient_mode
        guard isKeyframe else { return }
        guard try bits.bits(24) == 0x49_83_42 else {
            throw PayloadError(.invalidDescriptor, offset: 1, detail: "VP9 frame_sync_code")
        }
        // color_config() (§6.2.2).
        if profile >= 2 { _ = try bits.bits(1) }
        let colorSpace = try bits.bits(3)
        if colorSpace != 7 {
            _ = try bits.bits(1)
            if profile == 1 || profile == 3 { _ = try bits.bits(3) }
        } else if profile == 1 || profile == 3 {
            _ = try bits.bits(1)
        }
        // frame_size() (§6.2.3).
        width = Int(try bits.bits(16)) + 1
        height = Int(try bits.bits(16)) + 1
    }

    /// Writes a minimal profile-0 uncompressed-header prefix, for building test frames.
    public static func writePrefix(keyframe: Bool, width: Int = 0, height: Int = 0, to out: inout ByteBuffer) {
        var bits = BitWriter()
        bits.write(2, bits: 2)  // frame_marker
        bits.write(0, bits: 2)  // profile 0
        bits.write(false)  // show_existing_frame
        bits.write(keyframe ? 0 : 1, bits: 1)
        bits.write(true)  // show_frame
        bits.write(false)  // error_resilient_mode
        if keyframe {
            bits.write(0x49_83_42, bits: 24)
            bits.write(1, bits: 3)  // CS_BT_601
            bits.write(0, bits: 1)  // color_range
            bits.write(UInt32(truncatingIfNeeded: max(width, 1) - 1), bits: 16)
            bits.write(UInt32(truncatingIfNeeded: max(height, 1) - 1), bits: 16)
        }
        out.writeBytes(bits.bytes)
    }
}
