import NIOCore

/// VP9 depacketizer (RFC 9628 §4): rebuilds each layer frame from B to E. Spatial layers of one
/// picture come out as separate frames with their `spatialID`.
public struct VP9Depacketizer: RTPDepacketizer {
    private var tracker = FrameTracker()
    private var frame = ByteBuffer()
    private var first: VP9PayloadDescriptor?

    public init() {}

    public mutating func push(
        payload: ByteBuffer, sequenceNumber: UInt16, timestamp: UInt32, marker: Bool
    ) throws(PayloadError) -> DepacketizerOutput {
        var rest = payload
        let descriptor: VP9PayloadDescriptor
        do throws(PayloadError) {
            descriptor = try VP9PayloadDescriptor(parsing: &rest, parseScalabilityStructure: false)
            guard rest.readableBytes > 0 else { throw PayloadError(.truncated, detail: "VP9 payload empty") }
        } catch {
            tracker.fail(sequenceNumber: sequenceNumber, timestamp: timestamp, ends: marker)
            throw error
        }
        var output = DepacketizerOutput()
        if tracker.admit(sequenceNumber: sequenceNumber, timestamp: timestamp, start: descriptor.startOfFrame ? .yes : .no) {
            if tracker.firstSequenceNumber == sequenceNumber {
                frame.clear()
                first = descriptor
            }
            if !tracker.broken { frame.writeImmutableBuffer(rest) }
            if descriptor.endOfFrame || marker, tracker.end(), let first {
                output.frames.append(
                    AssembledFrame(
                        data: frame, timestamp: timestamp, firstSequenceNumber: tracker.firstSequenceNumber,
                        lastSequenceNumber: sequenceNumber, isKeyframe: first.startsKeyframe,
                        spatialID: first.layer?.spatialID ?? 0, temporalID: first.layer?.temporalID
                    )
                )
                frame = ByteBuffer()
            }
        }
        output.dropped = tracker.takeDrops()
        return output
    }
}
