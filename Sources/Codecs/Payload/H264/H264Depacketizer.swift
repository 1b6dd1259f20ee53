import NIOCore

/// H.264 depacketizer (RFC 6184 §5, packetization modes 0 and 1): rebuilds each access unit (all
/// packets up to the marker bit, §5.1) as an Annex-B stream with 4-byte start codes. An FU-A
/// continuation without its start throws `fu_without_start`; after a loss it is only dropped.
public struct H264Depacketizer: RTPDepacketizer {
    private var tracker = FrameTracker()
    private var frame = ByteBuffer()
    private var fragmentOpen = false
    private var containsIDR = false

    public init() {}

    public mutating func push(
        payload: ByteBuffer, sequenceNumber: UInt16, timestamp: UInt32, marker: Bool
    ) throws(PayloadError) -> DepacketizerOutput {
        let info: H264PacketInfo
        do throws(PayloadError) {
            info = try H264PacketInfo(payload: payload)
        } catch {
            tracker.fail(sequenceNumber: sequenceNumber, timestamp: timestamp, ends: marker)
            fragmentOpen = false
            throw error
        }
        var output = DepacketizerOutput()
        // Start is `.unknown` even for an FU-A continuation: after a gap the access unit is
        // dropped as lost; without one, a continuation with no open fragment is a sender error
        // and `append` throws `fu_without_start`.
        if tracker.admit(sequenceNumber: sequenceNumber, timestamp: timestamp, start: .unknown) {
            if tracker.firstSequenceNumber == sequenceNumber {
                frame.clear()
                fragmentOpen = false
                containsIDR = false
            }
            if !tracker.broken {
                do throws(PayloadError) {
                    try append(payload, info)
                } catch {
                    tracker.fail(sequenceNumber: sequenceNumber, timestamp: timestamp, ends: marker)
                    fragmentOpen = false
                    throw error
                }
            }
            if marker {
                // RFC 6184 §5.8: a fragmented unit must end within its access unit.
                if fragmentOpen { tracker.markBroken(.missingPacket) }
                if tracker.end() {
                    output.frames.append(
                        AssembledFrame(
                            data: frame, timestamp: timestamp, firstSequenceNumber: tracker.firstSequenceNumber,
                            lastSequenceNumber: sequenceNumber, isKeyframe: containsIDR
                        )
                    )
                    frame = ByteBuffer()
                }
                fragmentOpen = false
            }
        }
        output.dropped = tracker.takeDrops()
        return output
    }

    private mutating func append(_ payload: ByteBuffer, _ info: H264PacketInfo) throws(PayloadError) {
        var reader = PayloadReader(payload)
        switch info.packetType.rawValue {
        case 24:
            guard !fragmentOpen else { throw PayloadError(.fuWithoutEnd, offset: 0, detail: "STAP-A inside an FU-A") }
            _ = try reader.u8()
            while reader.remaining > 0 {
                let size = Int(try reader.u16())
                frame.writeBytes(H264AnnexB.startCode)
                frame.writeImmutableBuffer(try reader.slice(size))
            }
        case 28:
            let indicator = try reader.u8()
            let fu = try reader.u8()
            if info.fragmentStart {
                guard !fragmentOpen else { throw PayloadError(.fuWithoutEnd, offset: 1, detail: "FU-A start before the previous end") }
                frame.writeBytes(H264AnnexB.startCode)
                // RFC 6184 §5.8: the NAL header is F and NRI of the indicator with the FU type.
                frame.writeInteger(indicator & 0xE0 | fu & 0x1F)
                fragmentOpen = true
            } else if !fragmentOpen {
                throw PayloadError(.fuWithoutStart, offset: 1, detail: "FU-A continuation without a start")
            }
            frame.writeImmutableBuffer(reader.rest())
            if info.fragmentEnd { fragmentOpen = false }
        default:
            guard !fragmentOpen else { throw PayloadError(.fuWithoutEnd, offset: 0, detail: "NAL unit inside an FU-A") }
            frame.writeBytes(H264AnnexB.startCode)
            frame.writeImmutableBuffer(payload)
        }
        if info.containsIDR { containsIDR = true }
    }
}
