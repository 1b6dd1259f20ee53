import SFUWire

/// Receive-side state of one incoming RTP stream (one SSRC of a producer): sequence tracking on
/// 64-bit extended numbers, loss, interarrival jitter, keyframes, and what a receiver report
/// block needs (RFC 3550 §6.4.1, §A.3, §A.8).
///
/// Pure: time comes in as monotonic nanoseconds; no allocation.
public struct RTPStreamRecv: Hashable, Sendable {
    /// How a packet relates to the stream.
    public enum Reception: Hashable, Sendable {
        /// Newer than every packet so far (possibly after a gap).
        case inOrder(extendedSequenceNumber: UInt64)
        /// Older than the highest: reordered, retransmitted or duplicated.
        case outOfOrder(extendedSequenceNumber: UInt64)
        /// Older than the first packet of the stream (across a wrap): ignored.
        case tooOld
    }

    public let ssrc: UInt32
    public let clockRate: UInt32
    /// RID of the encoding, if the producer uses simulcast RIDs.
    public let rid: String?

    private var unwrapper = SequenceUnwrapper()
    /// First extended sequence number received.
    public private(set) var baseSequenceNumber: UInt64 = 0
    public private(set) var packetsReceived: UInt64 = 0
    /// Payload bytes received.
    public private(set) var bytesReceived: UInt64 = 0
    /// Interarrival jitter in timestamp units (RFC 3550 §6.4.1, estimator of §A.8).
    public private(set) var jitter: Double = 0
    public private(set) var keyframesReceived: UInt64 = 0
    public private(set) var lastKeyframeAt: UInt64?
    /// The middle 32 bits of the NTP time of the last SR from the sender, and when it arrived.
    public private(set) var lastSenderReport: UInt32 = 0
    private var lastSenderReportArrival: UInt64 = 0
    private var lastTransit: Int64?
    private var expectedPrior: UInt64 = 0
    private var receivedPrior: UInt64 = 0

    public init(ssrc: UInt32, clockRate: UInt32, rid: String? = nil) {
        self.ssrc = ssrc
        self.clockRate = max(clockRate, 1)
        self.rid = rid
    }

    /// The highest extended sequence number received, `nil` before the first packet.
    public var highestSequenceNumber: UInt64? { unwrapper.highest }

    /// Packets expected from the first to the highest sequence number (RFC 3550 §A.3).
    public var packetsExpected: UInt64 {
        guard let highest = unwrapper.highest else { return 0 }
        return highest - baseSequenceNumber + 1
    }

    /// Expected minus received, never negative (duplicates can exceed the expected count).
    public var packetsLost: UInt64 {
        packetsExpected > packetsReceived ? packetsExpected - packetsReceived : 0
    }

    /// Records one packet. `arrivalNanoseconds` is monotonic; the jitter uses it converted to the
    /// stream's clock (RFC 3550 §A.8). Only in-order packets update the jitter.
    public mutating func receive(
        sequenceNumber: UInt16, timestamp: UInt32, payloadLength: Int, isKeyframe: Bool, arrivalNanoseconds: UInt64
    ) -> Reception {
        let first = unwrapper.highest == nil
        let previousHighest = unwrapper.highest
        guard let extended = unwrapper.unwrap(sequenceNumber) else { return .tooOld }
        if first { baseSequenceNumber = extended }
        packetsReceived += 1
        bytesReceived += UInt64(max(payloadLength, 0))
        if isKeyframe {
            keyframesReceived += 1
            lastKeyframeAt = arrivalNanoseconds
        }
        if let previousHighest, extended <= previousHighest {
            return .outOfOrder(extendedSequenceNumber: extended)
        }
        // Arrival time in timestamp units; wrapping arithmetic on 32 bits like the RTP clock.
        let arrival = UInt32(truncatingIfNeeded: (arrivalNanoseconds / 1000) &* UInt64(clockRate) / 1_000_000)
        let transit = Int64(Int32(bitPattern: arrival &- timestamp))
        if let lastTransit {
            let delta = Double(abs(transit - lastTransit))
            jitter += (delta - jitter) / 16
        }
        lastTransit = transit
        return .inOrder(extendedSequenceNumber: extended)
    }

    /// Records a sender report from the stream's sender (for LSR/DLSR in our receiver reports).
    public mutating func receivedSenderReport(compactNTP: UInt32, arrivalNanoseconds: UInt64) {
        lastSenderReport = compactNTP
        lastSenderReportArrival = arrivalNanoseconds
    }

    /// A report block for this stream (RFC 3550 §6.4.1, fraction lost per §A.3), and starts the
    /// next reporting interval.
    public mutating func makeReportBlock(nowNanoseconds: UInt64) -> RTCPReportBlock {
        let expected = packetsExpected
        let expectedInterval = expected - min(expectedPrior, expected)
        let receivedInterval = packetsReceived - min(receivedPrior, packetsReceived)
        expectedPrior = expected
        receivedPrior = packetsReceived
        let lostInterval = expectedInterval > receivedInterval ? expectedInterval - receivedInterval : 0
        let fraction = expectedInterval == 0 ? 0 : UInt8(min(lostInterval * 256 / expectedInterval, 255))
        var delay: UInt32 = 0
        if lastSenderReport != 0, nowNanoseconds > lastSenderReportArrival {
            // DLSR in 1/65536 s.
            delay = UInt32(truncatingIfNeeded: (nowNanoseconds - lastSenderReportArrival) * 65536 / 1_000_000_000)
        }
        let highest = unwrapper.highest ?? 0
        return RTCPReportBlock(
            ssrc: ssrc, fractionLost: fraction, cumulativeLost: Int32(clamping: packetsLost),
            extendedHighestSequenceNumber: UInt32(truncatingIfNeeded: highest),
            jitter: UInt32(jitter.rounded()), lastSenderReport: lastSenderReport,
            delaySinceLastSenderReport: delay)
    }
}
