import NIOCore
import SFUWire

// MARK: - RTP payload formats: the shape of the API
//
// Three layers, from hot to cold:
//
// 1. Descriptors and packet inspection (the SFU's forwarding path). Value types parsed from an
//    RTP payload `ByteBuffer` without allocating and without copying payload bytes:
//    `VP8PayloadDescriptor`, `VP9PayloadDescriptor`, `H264PacketInfo`, `AV1AggregationHeader`,
//    `DependencyDescriptor` (header extension), `OpusTOC`, `REDPayload.primaryBlock(in:)`.
//    `init(parsing: inout ByteBuffer)` consumes the descriptor and leaves the codec payload in the
//    buffer; `encodedSize` + `write(to:)` re-encode it (pion's `Unmarshal`/`MarshalTo` shape).
//    Keyframe / switch-point tests: `VideoPayloadCodec.isKeyframe(payload:)` dispatches to the
//    per-format rules. Layer-switch rewrites (VP8 picture id, TL0PICIDX, VP9 picture id) are
//    static functions that store into the packet's bytes in place.
//
// 2. Packetizers (`RTPPacketizer`): one frame (encoder output, the codec's own bitstream: VP8/VP9
//    frames, an H.264 Annex-B access unit, an AV1 low-overhead temporal unit, an Opus packet) in,
//    RTP payloads out through a non-escaping callback with the marker bit to set. Each payload is
//    a fresh buffer (descriptor + one copy of its share of the frame). The caller owns the RTP
//    header (sequence numbers, SSRC, payload type): `RTPPacket.write(to:…, payload:)` in SFUWire.
//
// 3. Depacketizers (`RTPDepacketizer`): RTP payloads in sequence order in, complete frames out in
//    the codec's bitstream format again, with losses reported, never guessed around. A frame with
//    a missing packet (sequence gap inside it, missing start, missing end) is dropped whole and
//    reported as a `DroppedFrame`; the next frame that begins cleanly is delivered. Duplicate
//    and late (older than the last seen) packets are ignored. Malformed payloads throw a typed
//    `PayloadError`; the frame they belonged to is then dropped at its end.
//
// Errors: every parser throws `PayloadError` (typed `throws(PayloadError)`) with a stable `code`.
// Nothing here traps on input: fuzz entry points in `Fuzz/` exercise every depacketizer.

/// A packetizer: splits one encoded frame into RTP payloads of at most `maxPayloadSize` bytes.
public protocol RTPPacketizer {
    /// The largest payload it produces (MTU minus RTP header, extensions and SRTP overhead).
    var maxPayloadSize: Int { get }

    /// Splits `frame` (the readable bytes) into payloads, calling `emit` for each in order with
    /// the marker bit to put in its RTP header. `timestamp` is the frame's RTP timestamp; formats
    /// that do not need it ignore it. Throws when the frame is not valid for the format (e.g. an
    /// AV1 OBU with a bad size) or `maxPayloadSize` is too small for any progress.
    mutating func packetize(
        frame: ByteBuffer, timestamp: UInt32, emit: (_ payload: ByteBuffer, _ marker: Bool) -> Void
    ) throws(PayloadError)
}

extension RTPPacketizer {
    /// Convenience for tests and tools: the payloads as an array.
    public mutating func packetize(frame: ByteBuffer, timestamp: UInt32 = 0) throws(PayloadError) -> [PacketizedPayload] {
        var out: [PacketizedPayload] = []
        try packetize(frame: frame, timestamp: timestamp) { payload, marker in
            out.append(PacketizedPayload(payload: payload, marker: marker))
        }
        return out
    }

    /// Convenience taking any byte collection.
    public mutating func packetize(bytes: some Collection<UInt8>, timestamp: UInt32 = 0) throws(PayloadError) -> [PacketizedPayload] {
        var buffer = ByteBuffer()
        buffer.writeBytes(bytes)
        return try packetize(frame: buffer, timestamp: timestamp)
    }
}

/// One payload produced by a packetizer.
public struct PacketizedPayload: Hashable, Sendable {
    public var payload: ByteBuffer
    public var marker: Bool

    public init(payload: ByteBuffer, marker: Bool) {
        self.payload = payload
        self.marker = marker
    }
}

/// A depacketizer: reassembles frames from RTP payloads pushed in sequence-number order.
public protocol RTPDepacketizer {
    /// Feeds one packet's payload (padding removed). Returns the frames this packet completed and
    /// the frames found lost. Throws when the payload is malformed; the depacketizer stays usable.
    mutating func push(
        payload: ByteBuffer, sequenceNumber: UInt16, timestamp: UInt32, marker: Bool
    ) throws(PayloadError) -> DepacketizerOutput
}

extension RTPDepacketizer {
    /// Feeds a parsed RTP packet.
    public mutating func push(_ packet: RTPPacket) throws(PayloadError) -> DepacketizerOutput {
        try push(
            payload: packet.payload, sequenceNumber: packet.sequenceNumber, timestamp: packet.timestamp,
            marker: packet.marker
        )
    }
}

/// What one `push` produced.
public struct DepacketizerOutput: Sendable, Equatable {
    /// Complete frames, in order.
    public var frames: [AssembledFrame] = []
    /// Frames known lost or unusable since the previous push.
    public var dropped: [DroppedFrame] = []

    public init(frames: [AssembledFrame] = [], dropped: [DroppedFrame] = []) {
        self.frames = frames
        self.dropped = dropped
    }

    public var isEmpty: Bool { frames.isEmpty && dropped.isEmpty }
}

/// A frame rebuilt from RTP packets, in the codec's bitstream format (VP8/VP9 frame, H.264
/// Annex B with 4-byte start codes, AV1 low-overhead OBUs with size fields, Opus packet).
public struct AssembledFrame: Sendable, Equatable {
    public var data: ByteBuffer
    public var timestamp: UInt32
    public var firstSequenceNumber: UInt16
    public var lastSequenceNumber: UInt16
    /// Decodable without earlier frames (per the format's keyframe rule; always true for Opus).
    public var isKeyframe: Bool
    /// VP9 spatial layer (SID) of this layer frame; `nil` for other formats.
    public var spatialID: UInt8?
    /// VP8/VP9 temporal layer (TID) when the descriptor carries one.
    public var temporalID: UInt8?

    public init(
        data: ByteBuffer, timestamp: UInt32, firstSequenceNumber: UInt16, lastSequenceNumber: UInt16,
        isKeyframe: Bool, spatialID: UInt8? = nil, temporalID: UInt8? = nil
    ) {
        self.data = data
        self.timestamp = timestamp
        self.firstSequenceNumber = firstSequenceNumber
        self.lastSequenceNumber = lastSequenceNumber
        self.isKeyframe = isKeyframe
        self.spatialID = spatialID
        self.temporalID = temporalID
    }

    /// Number of RTP packets the frame was carried in.
    public var packetCount: Int { Int(lastSequenceNumber &- firstSequenceNumber) + 1 }
}

/// A frame the depacketizer could not deliver.
public struct DroppedFrame: Sendable, Hashable {
    public enum Reason: String, Sendable, Hashable {
        /// A sequence gap fell inside the frame.
        case missingPacket = "missing_packet"
        /// The frame's first packet never arrived (it began after a gap with a non-start packet).
        case missingStart = "missing_start"
        /// The frame's last packet never arrived (the next frame began first).
        case missingEnd = "missing_end"
        /// Whole frames were lost in a gap between two frames; `timestamp` is `nil`.
        case lostInGap = "lost_in_gap"
        /// One of its payloads was malformed (the push threw).
        case malformed
    }

    public var reason: Reason
    /// The frame's RTP timestamp, when any packet of it arrived.
    public var timestamp: UInt32?
    /// Number of sequence numbers missing in the gap that caused the drop (0 when not a gap).
    public var missingPackets: Int

    public init(reason: Reason, timestamp: UInt32?, missingPackets: Int = 0) {
        self.reason = reason
        self.timestamp = timestamp
        self.missingPackets = missingPackets
    }
}

/// The video formats, for per-packet keyframe detection on the forwarding path.
public enum VideoPayloadCodec: String, Sendable, Hashable, CaseIterable {
    case vp8, vp9, h264, av1

    /// Whether `payload` (one RTP payload) begins a keyframe, by the format's rule: VP8 S=1,
    /// PID=0 and P=0 (RFC 7741 §4.3, RFC 6386 §9.1); VP9 !P && B && SID=0 (RFC 9628 §4.2); H.264
    /// an IDR slice start or SPS+PPS (RFC 6184 §5); AV1 N=1 with a sequence header OBU (AV1 RTP
    /// spec §4.4). Malformed payloads are not keyframes. Never allocates.
    public func isKeyframe(payload: ByteBuffer) -> Bool {
        switch self {
        case .vp8: return VP8PayloadDescriptor.isKeyframe(payload: payload)
        case .vp9: return VP9PayloadDescriptor.isKeyframe(payload: payload)
        case .h264: return (try? H264PacketInfo(payload: payload))?.isKeyframe ?? false
        case .av1: return AV1AggregationHeader.isKeyframe(payload: payload)
        }
    }

    /// The picture size a keyframe's first packet announces: VP8 from its frame header (RFC 6386
    /// §9.1), VP9 from its uncompressed header (§7.2 `frame_size()`); `nil` for H.264 and AV1
    /// (sizes live in parameter sets and sequence headers, not parsed here), for packets that do
    /// not start a keyframe and for malformed ones. Called once per keyframe, not per packet.
    public func keyframeResolution(payload: ByteBuffer) -> (width: Int, height: Int)? {
        var rest = payload
        switch self {
        case .vp8:
            guard let descriptor = try? VP8PayloadDescriptor(parsing: &rest), descriptor.startsFrame,
                let header = try? VP8FrameHeader(frame: rest), header.isKeyframe, let width = header.width,
                let height = header.height, width > 0, height > 0
            else { return nil }
            return (width, height)
        case .vp9:
            guard let descriptor = try? VP9PayloadDescriptor(parsing: &rest, parseScalabilityStructure: false),
                descriptor.startsKeyframe, let header = try? VP9FrameHeader(frame: rest), header.isKeyframe,
                let width = header.width, let height = header.height
            else { return nil }
            return (width, height)
        case .h264, .av1:
            return nil
        }
    }
}
