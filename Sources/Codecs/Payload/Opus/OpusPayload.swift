import NIOCore

/// Opus packetizer (RFC 7587 §4.2): one Opus packet per RTP payload, unchanged. The marker bit is
/// set on the first packet after silence (RFC 7587 §4.1) when the caller says so.
public struct OpusPacketizer: RTPPacketizer {
    public var maxPayloadSize: Int
    /// Set before a `packetize` call that starts a talkspurt (after DTX); cleared after it.
    public var startsTalkspurt = false

    public init(maxPayloadSize: Int = 1200) { self.maxPayloadSize = maxPayloadSize }

    public mutating func packetize(
        frame: ByteBuffer, timestamp: UInt32, emit: (_ payload: ByteBuffer, _ marker: Bool) -> Void
    ) throws(PayloadError) {
        // RFC 7587 §4.2: a packet is never split; an Opus packet is at most 1275 bytes per frame.
        guard frame.readableBytes <= maxPayloadSize else {
            throw PayloadError(.valueOutOfRange, detail: "Opus packet larger than maxPayloadSize")
        }
        _ = try OpusPacketInfo(payload: frame)
        emit(frame, startsTalkspurt)
        startsTalkspurt = false
    }
}

/// Opus depacketizer: every payload is one frame (RFC 7587 §4.2). Gaps are reported as dropped
/// frames so the caller can run packet-loss concealment or FEC (RFC 6716 §2.1.7).
public struct OpusDepacketizer: RTPDepacketizer {
    private var tracker = FrameTracker()

    public init() {}

    public mutating func push(
        payload: ByteBuffer, sequenceNumber: UInt16, timestamp: UInt32, marker: Bool
    ) throws(PayloadError) -> DepacketizerOutput {
        guard tracker.admit(sequenceNumber: sequenceNumber, timestamp: timestamp, start: .yes) else {
            return DepacketizerOutput(dropped: tracker.takeDrops())
        }
        do throws(PayloadError) {
            _ = try OpusPacketInfo(payload: payload)
        } catch {
            tracker.markBroken(.malformed)
            _ = tracker.end()
            throw error
        }
        _ = tracker.end()
        let frame = AssembledFrame(
            data: payload, timestamp: timestamp, firstSequenceNumber: sequenceNumber,
            lastSequenceNumber: sequenceNumber, isKeyframe: true
        )
        return DepacketizerOutput(frames: [frame], dropped: tracker.takeDrops())
    }
}
