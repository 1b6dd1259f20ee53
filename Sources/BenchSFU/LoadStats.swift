/// What the load generator's subscribers measured, aggregated over every peer of one event loop
/// (no locks: the loop owns it). Delays go into fixed 10 µs buckets up to 100 ms.
final class LoadStats {
    static let bucketMicroseconds = 10
    static let buckets = 10_000

    private(set) var packetsReceived: UInt64 = 0
    private(set) var bytesReceived: UInt64 = 0
    /// Sequence numbers never seen between the first and the highest of each stream.
    private(set) var packetsLost: UInt64 = 0
    private(set) var srtpFailures: UInt64 = 0
    private(set) var malformed: UInt64 = 0
    private(set) var packetsSent: UInt64 = 0
    private var delays = [UInt32](repeating: 0, count: LoadStats.buckets + 1)
    private var delaySamples: UInt64 = 0

    func sent(_ count: Int) { packetsSent &+= UInt64(count) }
    func srtpFailure() { srtpFailures &+= 1 }
    func malformedPacket() { malformed &+= 1 }

    func received(bytes: Int, delayNanoseconds: UInt64?) {
        packetsReceived &+= 1
        bytesReceived &+= UInt64(bytes)
        guard let delay = delayNanoseconds else { return }
        let bucket = min(Int(delay / UInt64(1_000 * Self.bucketMicroseconds)), Self.buckets)
        delays[bucket] &+= 1
        delaySamples &+= 1
    }

    func lost(_ count: UInt64) { packetsLost &+= count }

    /// The delay below which `fraction` of the samples fall, in milliseconds.
    func delayPercentile(_ fraction: Double) -> Double? {
        guard delaySamples > 0 else { return nil }
        let target = UInt64((Double(delaySamples) * fraction).rounded(.up))
        var seen: UInt64 = 0
        for (index, count) in delays.enumerated() {
            seen += UInt64(count)
            if seen >= target { return Double((index + 1) * Self.bucketMicroseconds) / 1_000 }
        }
        return Double(Self.buckets * Self.bucketMicroseconds) / 1_000
    }

    func reset() {
        packetsReceived = 0
        bytesReceived = 0
        packetsLost = 0
        srtpFailures = 0
        malformed = 0
        packetsSent = 0
        delaySamples = 0
        for index in delays.indices { delays[index] = 0 }
    }

    struct Snapshot: Sendable {
        var packetsReceived: UInt64
        var bytesReceived: UInt64
        var packetsLost: UInt64
        var srtpFailures: UInt64
        var malformed: UInt64
        var packetsSent: UInt64
        var delayP50: Double?
        var delayP99: Double?
    }

    func snapshot() -> Snapshot {
        Snapshot(
            packetsReceived: packetsReceived, bytesReceived: bytesReceived, packetsLost: packetsLost,
            srtpFailures: srtpFailures, malformed: malformed, packetsSent: packetsSent,
            delayP50: delayPercentile(0.5), delayP99: delayPercentile(0.99))
    }
}

/// Sequence tracking of one received stream (RFC 3550 §A.1 in miniature): loss is the count of
/// sequence numbers skipped forward; late or duplicate packets are not losses.
struct ReceivedStream {
    var highest: UInt16
    var started = false

    /// Returns how many sequence numbers this packet shows as lost.
    mutating func receive(_ sequence: UInt16) -> UInt64 {
        guard started else {
            started = true
            highest = sequence
            return 0
        }
        let delta = sequence &- highest
        guard delta != 0, delta < 0x8000 else { return 0 }
        highest = sequence
        return UInt64(delta - 1)
    }
}
