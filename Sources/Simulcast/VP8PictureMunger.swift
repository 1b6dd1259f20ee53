/// Keeps the VP8 payload descriptor's PictureID and TL0PICIDX (RFC 7741 §4.2) continuous for a
/// subscriber when its consumer switches between simulcast encodings: each encoding numbers its
/// pictures on its own, and receivers (libwebrtc's reference finder and frame buffer) take a jump
/// backwards as old frames. Within a segment, output = input + offset (modulo the field width);
/// a new segment continues at the last output + 1. mediasoup and LiveKit do the same.
///
/// Pure, in place on the packet's bytes, no allocation. Packets without the fields pass unchanged.
public struct VP8PictureMunger: Hashable, Sendable {
    public init() {}

    private var switchPending = true
    private var pictureOffset: UInt16 = 0
    private var tl0Offset: UInt8 = 0
    private var lastPictureID: UInt16?
    private var lastTL0: UInt8?

    /// The next packet starts a new segment (another encoding, or a restart after a pause).
    public mutating func markSwitch() {
        switchPending = true
    }

    /// Rewrites the descriptor at `payloadOffset` of the RTP packet in `bytes`. Returns `false`
    /// when the descriptor is truncated (the packet is then left as it was).
    @discardableResult
    public mutating func rewrite(_ bytes: UnsafeMutableRawBufferPointer, payloadOffset: Int) -> Bool {
        var position = payloadOffset
        guard position < bytes.count else { return false }
        guard bytes[position] & 0x80 != 0 else { return true }  // X = 0: no PictureID, no TL0PICIDX
        position += 1
        guard position < bytes.count else { return false }
        let flags = bytes[position]
        position += 1
        var pictureAt: Int?
        var longPicture = false
        if flags & 0x80 != 0 {  // I
            guard position < bytes.count else { return false }
            longPicture = bytes[position] & 0x80 != 0
            guard !longPicture || position + 1 < bytes.count else { return false }
            pictureAt = position
            position += longPicture ? 2 : 1
        }
        var tl0At: Int?
        if flags & 0x40 != 0 {  // L
            guard position < bytes.count else { return false }
            tl0At = position
        }
        let mask: UInt16 = longPicture ? 0x7FFF : 0x7F
        let pictureIn: UInt16? = pictureAt.map { at in
            longPicture ? (UInt16(bytes[at] & 0x7F) << 8 | UInt16(bytes[at + 1])) : UInt16(bytes[at] & 0x7F)
        }
        let tl0In: UInt8? = tl0At.map { bytes[$0] }
        if switchPending {
            switchPending = false
            if let pictureIn { pictureOffset = lastPictureID.map { ($0 &+ 1) &- pictureIn } ?? 0 }
            if let tl0In { tl0Offset = lastTL0.map { ($0 &+ 1) &- tl0In } ?? 0 }
        }
        if let pictureAt, let pictureIn {
            let out = (pictureIn &+ pictureOffset) & mask
            lastPictureID = out
            if longPicture {
                bytes[pictureAt] = 0x80 | UInt8(out >> 8)
                bytes[pictureAt + 1] = UInt8(truncatingIfNeeded: out)
            } else {
                bytes[pictureAt] = UInt8(out)
            }
        }
        if let tl0At, let tl0In {
            let out = tl0In &+ tl0Offset
            lastTL0 = out
            bytes[tl0At] = out
        }
        return true
    }
}
