import Metrics

/// The media core's metrics (swift-metrics, `commucat_sfu_*`). Handles are created once — per
/// worker here, per stream in ``StreamCounters`` — and never looked up by label per packet
/// (STYLE §3).
final class SFUMetrics {
    /// `commucat_sfu_active_transports`.
    let activeTransports: Meter
    /// `commucat_sfu_forwarding_latency_seconds`: from the datagram's arrival to the last copy
    /// handed to the socket, per forwarded ingress packet.
    let forwardingLatency: Timer
    /// `commucat_sfu_nacks_received_total`: NACK feedback packets from subscribers.
    let nacksReceived: Counter
    /// `commucat_sfu_nacked_packets_total`: sequence numbers those NACKs named.
    let nackedPackets: Counter
    /// `commucat_sfu_plis_total{direction}`: keyframe requests (PLI/FIR) received from
    /// subscribers, and sent to publishers after throttling.
    let keyframeRequestsReceived: Counter
    let keyframeRequestsSent: Counter
    /// `commucat_sfu_retransmissions_total{result}`.
    let retransmitted: Counter
    let retransmissionMissing: Counter
    /// `commucat_sfu_transport_feedback_total`: transport-wide CC feedback packets sent to publishers.
    let transportFeedbackSent: Counter
    /// `commucat_sfu_limit_exceeded_total{limit}`: consumers refused because the retransmission
    /// budget was exhausted.
    let limitExceeded: Counter
    private let dropped: [Counter]
    private var srtpFailures: [String: Counter] = [:]

    init() {
        activeTransports = Meter(label: "commucat_sfu_active_transports")
        forwardingLatency = Timer(label: "commucat_sfu_forwarding_latency_seconds", preferredDisplayUnit: .seconds)
        nacksReceived = Counter(label: "commucat_sfu_nacks_received_total")
        nackedPackets = Counter(label: "commucat_sfu_nacked_packets_total")
        keyframeRequestsReceived = Counter(label: "commucat_sfu_plis_total", dimensions: [("direction", "from_consumer")])
        keyframeRequestsSent = Counter(label: "commucat_sfu_plis_total", dimensions: [("direction", "to_producer")])
        retransmitted = Counter(label: "commucat_sfu_retransmissions_total", dimensions: [("result", "sent")])
        retransmissionMissing = Counter(label: "commucat_sfu_retransmissions_total", dimensions: [("result", "missing")])
        transportFeedbackSent = Counter(label: "commucat_sfu_transport_feedback_total")
        limitExceeded = Counter(label: "commucat_sfu_limit_exceeded_total", dimensions: [("limit", "retransmission_budget")])
        dropped = SFUDropReason.allCases.map {
            Counter(label: "commucat_sfu_dropped_packets_total", dimensions: [("reason", $0.rawValue)])
        }
    }

    func drop(_ reason: SFUDropReason) {
        let index = SFUDropReason.allCases.firstIndex(of: reason) ?? 0
        dropped[index].increment()
    }

    /// SRTP failures by libsrtp reason; the handle is made on the first failure of each reason
    /// (an error path, never the forwarding path).
    func srtpFailure(_ error: SRTPError, rtcp: Bool) {
        drop(.srtp)
        let key = "\(error.code)|\(rtcp)"
        if let counter = srtpFailures[key] {
            counter.increment()
            return
        }
        let counter = Counter(
            label: "commucat_sfu_srtp_failures_total",
            dimensions: [("reason", error.code.description), ("protocol", rtcp ? "srtcp" : "srtp")])
        srtpFailures[key] = counter
        counter.increment()
    }
}

/// Packet and byte counters of one stream, bound once when the stream is created:
/// `commucat_sfu_{packets,bytes}_{in,out}_total{kind}`.
struct StreamCounters {
    let packets: Counter
    let bytes: Counter

    init(kind: MediaKind, inbound: Bool) {
        let direction = inbound ? "in" : "out"
        packets = Counter(label: "commucat_sfu_packets_\(direction)_total", dimensions: [("kind", kind.rawValue)])
        bytes = Counter(label: "commucat_sfu_bytes_\(direction)_total", dimensions: [("kind", kind.rawValue)])
    }

    @inline(__always)
    func record(bytes count: Int) {
        packets.increment()
        bytes.increment(by: count)
    }
}
