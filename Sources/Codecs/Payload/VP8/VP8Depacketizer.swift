import NIOCore

/// VP8 depacketizer (RFC 7741 §4): strips descriptors and concatenates the VP8 payloads of one
/// frame, from the packet with S=1, PID=0 to the one with the marker bit. A frame with a missing
/// packet is dropped and reported.
public struct VP8Depacketizer: RTPDepacketizer {
    private var tracker = FrameTracker()
    private var frame = ByteBuffer()
    private var temporalID: UInt8?

    public init() {}

    public mutating func push(
        payload: ByteBuffer, sequenceNumber: UInt16, timestamp: UInt32, marker: Bool
    ) throws(PayloadError) -> DepacketizerOutput {
        var rest = payload
        let descriptor: VP8PayloadDescriptor
        do throws(PayloadError) {
            descriptor = try VP8PayloadDescriptor(parsing: &rest)
        } catch {
            tracker.fail(sequenceNumber: sequenceNumber, timestamp: timestamp, ends: marker)
            throw error
        }
        var output = DepacketizerOutput()
        let admitted = tracker.admit(
            sequenceNumber: sequenceNumber, timestamp: timestamp, start: descriptor.startsFrame ? .yes : .no
        )
        if admitted {
            if tracker.firstSequenceNumber == sequenceNumber {
                frame.clear()
                temporalID = descriptor.temporalLayerID
            }
            if !tracker.broken { frame.writeImmutableBuffer(rest) }
            if marker, tracker.end() {
                let isKeyframe = frame.getInteger(at: frame.readerIndex, as: UInt8.self).map { $0 & 1 == 0 } ?? false
                output.frames.append(
                    AssembledFrame(
                        data: frame, timestamp: timestamp, firstSequenceNumber: tracker.firstSequenceNumber,
                        lastSequenceNumber: sequenceNumber, isKeyframe: isKeyframe, temporalID: temporalID
                    )
                )
                frame = ByteBuffer()
            }
        }
        output.dropped = tracker.takeDrops()
        return output
    }
}
