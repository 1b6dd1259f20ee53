import SFUWire

/// The receive side of transport-wide congestion control
/// (draft-holmer-rmcat-transport-wide-cc-extensions-01): when each of a publisher's packets
/// arrived, by its transport-wide sequence number, returned as feedback that the sender's
/// bandwidth estimator (GoogCC in browsers) runs on. Without it a browser publisher never learns
/// that the path carries more than its start bitrate, its estimate decays, and it never turns on
/// its larger simulcast encodings.
///
/// Recording is per packet and allocation-free (a fixed ring of arrival times); feedback is built
/// on the RTCP timer (every 100 ms), where the RTCP packet's own arrays are allocated.
struct TransportCCRecorder {
    /// Sequence numbers kept between two feedbacks (a power of two).
    static let capacity = 4096
    /// Statuses per feedback packet: about 1.2 KB of RTCP at most.
    static let maxPacketsPerFeedback = 1000

    /// Arrival in nanoseconds since `epoch` + 1 by ring slot; 0: not received.
    private var arrivals: [UInt64]
    private var unwrapper = SequenceUnwrapper()
    /// The first extended sequence number not reported yet, and the highest recorded.
    private var nextToReport: UInt64?
    private var highest: UInt64?
    private var feedbackCount: UInt8 = 0
    private let epoch: UInt64

    init(epochNanoseconds: UInt64) {
        arrivals = [UInt64](repeating: 0, count: Self.capacity)
        epoch = epochNanoseconds
    }

    /// One packet's transport-wide sequence number. Packets older than what was already reported
    /// are ignored (they were reported as not received; senders accept that).
    mutating func record(sequenceNumber: UInt16, arrivalNanoseconds now: UInt64) {
        guard let extended = unwrapper.unwrap(sequenceNumber) else { return }
        let next = nextToReport ?? extended
        guard extended >= next else { return }
        if extended - next >= UInt64(Self.capacity) {
            // A jump beyond the ring (a long silence or a reset sender): start over from here.
            for index in arrivals.indices { arrivals[index] = 0 }
            nextToReport = extended
            highest = extended
        } else {
            nextToReport = next
        }
        arrivals[Int(extended & UInt64(Self.capacity - 1))] = (now > epoch ? now - epoch : 0) + 1
        if highest.map({ extended > $0 }) ?? true { highest = extended }
    }

    /// Feedback for up to ``maxPacketsPerFeedback`` sequence numbers recorded since the last
    /// call, `nil` when there is nothing new. Call again until `nil` to drain a backlog.
    mutating func makeFeedback(senderSSRC: UInt32, mediaSSRC: UInt32) -> RTCPTransportCC? {
        guard let next = nextToReport, let highest, highest >= next else { return nil }
        let count = Int(min(highest - next + 1, UInt64(Self.maxPacketsPerFeedback)))
        var list: [Int64?] = []
        list.reserveCapacity(count)
        for offset in 0..<count {
            let slot = Int((next + UInt64(offset)) & UInt64(Self.capacity - 1))
            let arrival = arrivals[slot]
            arrivals[slot] = 0
            list.append(arrival == 0 ? nil : Int64((arrival - 1) / 1000))
        }
        nextToReport = next + UInt64(count)
        let feedback = try? RTCPTransportCC(
            senderSSRC: senderSSRC, mediaSSRC: mediaSSRC, baseSequenceNumber: UInt16(truncatingIfNeeded: next),
            feedbackPacketCount: feedbackCount, arrivalsMicroseconds: list)
        feedbackCount &+= 1
        // A delta beyond ±8 s (a stall inside one batch) cannot be encoded: that batch is skipped.
        return feedback ?? makeFeedback(senderSSRC: senderSSRC, mediaSSRC: mediaSSRC)
    }
}
