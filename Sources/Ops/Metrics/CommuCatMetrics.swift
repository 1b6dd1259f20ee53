import Foundation
import CoreMetrics
import Prometheus
import Synchronization

/// The process-wide Prometheus registry behind swift-metrics.
///
/// Every module records metrics through swift-metrics (`Counter(label:dimensions:)`); this factory
/// turns them into Prometheus families with a HELP line (promtool rejects families without one).
/// Names must already be Prometheus names (`commucat_…`, counters ending in `_total`).
public enum CommuCatMetrics {
    public static let registry = PrometheusCollectorRegistry()
    private static let bootstrapped = Mutex(false)

    /// Installs the factory once per process; later calls (several servers in one test process) do nothing.
    public static func bootstrap() {
        bootstrapped.withLock { done in
            guard !done else { return }
            done = true
            MetricsSystem.bootstrap(HelpfulPrometheusFactory(registry: registry))
        }
    }

    /// The Prometheus text exposition of every metric.
    public static func exposition() -> [UInt8] {
        var buffer: [UInt8] = []
        buffer.reserveCapacity(16 * 1024)
        registry.emit(into: &buffer)
        return buffer
    }

    /// HELP texts, by metric name. A metric not listed gets a generic text derived from its name.
    static let help: [String: String] = [
        "commucat_build_info": "CommuCat build information (always 1).",
        "commucat_http_requests_total": "HTTP requests answered, by method and status code.",
        "commucat_http_rejections_total": "Requests rejected with a stable error code, by code.",
        "commucat_http_request_duration_seconds": "Time to answer an HTTP request.",
        "commucat_storage_up": "1 when the storage backend answered the last readiness check.",
        "commucat_redis_up": "1 when Redis is configured and connected; 0 when configured and down.",
        "commucat_ledger_records_total": "Ledger records written, by scope.",
        "commucat_config_reloads_total": "Configuration loads.",
        "commucat_messaging_frames_total": "CCP-1 frames handed to messaging, by frame type.",
        "commucat_messaging_rejections_total": "Messaging frames refused with an Error frame, by code.",
        "commucat_messaging_delivered_total": "Inbox entries pushed to live sessions (first delivery and redelivery after reconnect).",
        "commucat_messaging_purged_total": "Inbox entries removed after limits.relay_ttl.",
        "commucat_sfu_active_transports": "WebRTC transports (publishers and subscribers) open on this node.",
        "commucat_sfu_packets_in_total": "RTP packets received from publishers, by kind.",
        "commucat_sfu_bytes_in_total": "RTP bytes received from publishers, by kind.",
        "commucat_sfu_packets_out_total": "RTP packets sent to subscribers (retransmissions included), by kind.",
        "commucat_sfu_bytes_out_total": "RTP bytes sent to subscribers, by kind.",
        "commucat_sfu_forwarding_latency_seconds": "Time from a datagram's arrival to its last copy handed to the socket.",
        "commucat_sfu_nacks_received_total": "Generic NACK feedback packets received from subscribers.",
        "commucat_sfu_nacked_packets_total": "Sequence numbers named by subscribers' NACKs.",
        "commucat_sfu_retransmissions_total": "Answers to NACKs: sent from the retransmission ring, or missing from it.",
        "commucat_sfu_plis_total": "Keyframe requests (PLI/FIR) received from subscribers and sent to publishers after throttling.",
        "commucat_sfu_dropped_packets_total": "Media packets dropped after ICE, by reason.",
        "commucat_sfu_srtp_failures_total": "SRTP/SRTCP packets refused by libsrtp, by reason.",
        "commucat_sfu_ice_dropped_total": "Datagrams on the media port dropped unanswered by the ICE layer, by reason.",
    ]
}

/// A swift-metrics factory over a Prometheus registry that supplies HELP texts.
struct HelpfulPrometheusFactory: MetricsFactory {
    let registry: PrometheusCollectorRegistry

    /// The full name is the metric name (unit included); the descriptor only carries the HELP text.
    private func describe(_ name: String) -> MetricNameDescriptor {
        MetricNameDescriptor(
            metricName: name, unitName: "",
            helpText: CommuCatMetrics.help[name] ?? "CommuCat metric " + name.replacingOccurrences(of: "_", with: " ") + ".")
    }

    func makeCounter(label: String, dimensions: [(String, String)]) -> any CounterHandler {
        registry.makeCounter(descriptor: describe(label), labels: dimensions)
    }

    func makeFloatingPointCounter(label: String, dimensions: [(String, String)]) -> any FloatingPointCounterHandler {
        registry.makeCounter(descriptor: describe(label), labels: dimensions)
    }

    func makeRecorder(label: String, dimensions: [(String, String)], aggregate: Bool) -> any RecorderHandler {
        if aggregate {
            return registry.makeValueHistogram(descriptor: describe(label), labels: dimensions,
                buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 50, 100, 500, 1000])
        }
        return registry.makeGauge(descriptor: describe(label), labels: dimensions)
    }

    func makeMeter(label: String, dimensions: [(String, String)]) -> any MeterHandler {
        registry.makeGauge(descriptor: describe(label), labels: dimensions)
    }

    func makeTimer(label: String, dimensions: [(String, String)]) -> any TimerHandler {
        registry.makeDurationHistogram(descriptor: describe(label), labels: dimensions,
            buckets: [
                .microseconds(100), .microseconds(500), .milliseconds(1), .milliseconds(5), .milliseconds(10),
                .milliseconds(50), .milliseconds(100), .milliseconds(500), .seconds(1), .seconds(5),
            ])
    }

    func destroyCounter(_ handler: any CounterHandler) {
        if let counter = handler as? Prometheus.Counter { registry.unregisterCounter(counter) }
    }

    func destroyFloatingPointCounter(_ handler: any FloatingPointCounterHandler) {
        if let counter = handler as? Prometheus.Counter { registry.unregisterCounter(counter) }
    }

    func destroyRecorder(_ handler: any RecorderHandler) {
        if let gauge = handler as? Prometheus.Gauge { registry.unregisterGauge(gauge) }
        if let histogram = handler as? Histogram<Double> { registry.unregisterValueHistogram(histogram) }
    }

    func destroyMeter(_ handler: any MeterHandler) {
        if let gauge = handler as? Prometheus.Gauge { registry.unregisterGauge(gauge) }
    }

    func destroyTimer(_ handler: any TimerHandler) {
        if let histogram = handler as? Histogram<Duration> { registry.unregisterDurationHistogram(histogram) }
    }
}
