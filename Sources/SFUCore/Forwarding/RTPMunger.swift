/// Per-consumer sequence number and timestamp rewriting (LiveKit's `rtpmunger` idea): the
/// subscriber sees one continuous RTP stream with its own SSRC whatever happens upstream — the
/// producer's stream replaced by another SSRC (simulcast layer, republish), a pause, packets
/// dropped while waiting for a keyframe.
///
/// The output is made of *segments*. A segment starts at the first packet after ``init``, an SSRC
/// change or ``markSwitch()``; within a segment, output = input + offset (so reordering and
/// duplicates pass through unchanged relative to each other), and packets older than the
/// segment's first packet are dropped. A new segment continues at the highest sequence number sent
/// + 1; its timestamp continues from the last one sent plus the wall-clock time elapsed since
/// then (at least one tick) when the source changed, and keeps the old offset when the same source
/// resumes (its timestamps already advanced with real time).
///
/// Pure: no clock reads, no allocation; time comes in as monotonic nanoseconds.
public struct RTPMunger: Hashable, Sendable {
    /// What to send.
    public struct Output: Hashable, Sendable {
        public var sequenceNumber: UInt16
        public var timestamp: UInt32
        /// The output sequence number extended to 64 bits (for the retransmission ring).
        public var extendedSequenceNumber: UInt64
    }

    public let clockRate: UInt32
    private var started = false
    private var switchPending = true
    private var sourceSSRC: UInt32 = 0
    private var unwrapper = SequenceUnwrapper()
    /// First input (extended) of the current segment; older input is dropped.
    private var segmentStart: UInt64 = 0
    /// output extended = input extended &+ sequenceOffset.
    private var sequenceOffset: UInt64 = 0
    private var timestampOffset: UInt32 = 0
    private let firstSequence: UInt64
    private let initialTimestamp: UInt32
    /// Highest output sent (extended), its timestamp and when.
    public private(set) var highestSent: UInt64?
    public private(set) var lastTimestamp: UInt32 = 0
    public private(set) var lastSentNanoseconds: UInt64 = 0

    /// - Parameters:
    ///   - clockRate: RTP clock in Hz, to convert elapsed time into timestamp ticks.
    ///   - initialSequenceNumber / initialTimestamp: the first output values (random in practice,
    ///     RFC 3550 §5.1).
    public init(clockRate: UInt32, initialSequenceNumber: UInt16, initialTimestamp: UInt32) {
        self.clockRate = max(clockRate, 1)
        // Start high enough that every 16-bit input maps without wrapping below zero.
        self.firstSequence = (1 << 16) + UInt64(initialSequenceNumber)
        self.initialTimestamp = initialTimestamp
    }

    /// The next packet starts a new segment (pause → resume, keyframe-gated restart, layer switch).
    public mutating func markSwitch() {
        switchPending = true
    }

    /// Rewrites one packet of source `ssrc`; `nil` means drop (older than the current segment).
    public mutating func rewrite(
        ssrc: UInt32, sequenceNumber: UInt16, timestamp: UInt32, arrivalNanoseconds: UInt64
    ) -> Output? {
        if !started || switchPending || ssrc != sourceSSRC {
            startSegment(ssrc: ssrc, sequenceNumber: sequenceNumber, timestamp: timestamp, now: arrivalNanoseconds)
        }
        guard let extended = unwrapper.unwrap(sequenceNumber), extended >= segmentStart else { return nil }
        let outExtended = extended &+ sequenceOffset
        let outTimestamp = timestamp &+ timestampOffset
        if highestSent.map({ outExtended > $0 }) ?? true {
            highestSent = outExtended
            lastTimestamp = outTimestamp
            lastSentNanoseconds = arrivalNanoseconds
        }
        return Output(
            sequenceNumber: UInt16(truncatingIfNeeded: outExtended), timestamp: outTimestamp,
            extendedSequenceNumber: outExtended)
    }

    private mutating func startSegment(ssrc: UInt32, sequenceNumber: UInt16, timestamp: UInt32, now: UInt64) {
        let sameSource = started && ssrc == sourceSSRC
        unwrapper = SequenceUnwrapper()
        // Input numbering restarts at 2^16 + seq so a slightly older packet of the segment still
        // maps (it is then dropped by `segmentStart`).
        let first = (1 << 16) + UInt64(sequenceNumber)
        unwrapper = SequenceUnwrapper(highest: first)
        segmentStart = first
        let target = highestSent.map { $0 + 1 } ?? firstSequence
        sequenceOffset = target &- first
        if !started {
            timestampOffset = initialTimestamp &- timestamp
        } else if !sameSource {
            // A new source: continue from the last timestamp by the time that passed.
            // Elapsed time capped at an hour keeps the product within 64 bits.
            let elapsedMicros = min(now > lastSentNanoseconds ? now - lastSentNanoseconds : 0, 3_600_000_000_000) / 1000
            let ticks = elapsedMicros * UInt64(clockRate) / 1_000_000
            let advance = UInt32(truncatingIfNeeded: max(ticks, 1))
            timestampOffset = (lastTimestamp &+ advance) &- timestamp
        }
        started = true
        switchPending = false
        sourceSSRC = ssrc
    }
}
