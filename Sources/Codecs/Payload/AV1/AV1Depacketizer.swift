import NIOCore

/// AV1 depacketizer (AV1 RTP payload spec v1.0 §4, §7): rebuilds each temporal unit (up to the
/// marker bit) as a low-overhead bitstream: every OBU gets `obu_has_size_field` = 1 and its
/// LEB128 size back, fragments are joined, temporal delimiters and tile lists are ignored (§5).
/// A continuation (Z=1) with no fragment open throws `fu_without_start`.
public struct AV1Depacketizer: RTPDepacketizer {
    private var tracker = FrameTracker()
    private var frame = ByteBuffer()
    private var fragment = ByteBuffer()
    private var fragmentOpen = false
    private var startsSequence = false
    private var hasSequenceHeader = false

    public init() {}

    public mutating func push(
        payload: ByteBuffer, sequenceNumber: UInt16, timestamp: UInt32, marker: Bool
    ) throws(PayloadError) -> DepacketizerOutput {
        guard let first = payload.getInteger(at: payload.readerIndex, as: UInt8.self) else {
            tracker.fail(sequenceNumber: sequenceNumber, timestamp: timestamp, ends: marker)
            throw PayloadError(.truncated, offset: 0, detail: "empty AV1 payload")
        }
        let header = AV1AggregationHeader(first)
        var output = DepacketizerOutput()
        if tracker.admit(sequenceNumber: sequenceNumber, timestamp: timestamp, start: .unknown) {
            if tracker.firstSequenceNumber == sequenceNumber {
                frame.clear()
                fragment.clear()
                fragmentOpen = false
                startsSequence = header.startsSequence
                hasSequenceHeader = false
            }
            if !tracker.broken {
                do throws(PayloadError) {
                    try append(payload)
                } catch {
                    fragmentOpen = false
                    tracker.fail(sequenceNumber: sequenceNumber, timestamp: timestamp, ends: marker)
                    throw error
                }
            }
            if marker {
                if fragmentOpen { tracker.markBroken(.missingPacket) }
                fragmentOpen = false
                if tracker.end() {
                    output.frames.append(
                        AssembledFrame(
                            data: frame, timestamp: timestamp, firstSequenceNumber: tracker.firstSequenceNumber,
                            lastSequenceNumber: sequenceNumber, isKeyframe: startsSequence && hasSequenceHeader
                        )
                    )
                    frame = ByteBuffer()
                }
            }
        }
        output.dropped = tracker.takeDrops()
        return output
    }

    private mutating func append(_ payload: ByteBuffer) throws(PayloadError) {
        let header = AV1AggregationHeader(payload.getInteger(at: payload.readerIndex, as: UInt8.self) ?? 0)
        if header.continuesFragment, !fragmentOpen {
            throw PayloadError(.fuWithoutStart, offset: 0, detail: "AV1 Z=1 without an open OBU fragment")
        }
        if !header.continuesFragment, fragmentOpen {
            throw PayloadError(.fuWithoutEnd, offset: 0, detail: "AV1 Z=0 while an OBU fragment is open")
        }
        _ = try AV1AggregationHeader.forEachElement(in: payload) { element, index, isLast throws(PayloadError) in
            let continuing = index == 0 && header.continuesFragment
            let continues = isLast && header.fragmentContinues
            if continuing || continues {
                if !continuing { fragment.clear() }
                fragment.writeImmutableBuffer(element)
                fragmentOpen = continues
                if !continues { try emitOBU(fragment) }
            } else {
                try emitOBU(element)
            }
        }
    }

    /// Appends one complete OBU element in low-overhead form.
    private mutating func emitOBU(_ element: ByteBuffer) throws(PayloadError) {
        var reader = PayloadReader(element)
        let header = try AV1OBUHeader(reader: &reader)
        if header.hasSizeField {
            // §4.3: an OBU may keep its size field; it must then match the element.
            let at = reader.offset
            let size = try reader.leb128()
            guard size == reader.remaining else {
                throw PayloadError(.badOBUSize, offset: at, detail: "obu_size disagrees with the OBU element length")
            }
        }
        // §5: temporal delimiters and tile lists are ignored by receivers.
        if header.type == .temporalDelimiter || header.type == .tileList { return }
        if header.type == .sequenceHeader { hasSequenceHeader = true }
        AV1OBU(header: header, payload: reader.rest()).writeLowOverhead(to: &frame)
    }
}
