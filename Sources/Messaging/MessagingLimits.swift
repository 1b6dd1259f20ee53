/// A token bucket (pure; the caller passes the time): `rate` tokens per second up to `burst`, one
/// token per frame. `limits.messages_per_second` / `limits.messages_burst` per device.
public struct TokenBucket: Sendable, Hashable {
    public let rate: Double
    public let burst: Double
    public private(set) var tokens: Double
    private var last: ContinuousClock.Instant

    public init(rate: Double, burst: Int, now: ContinuousClock.Instant) {
        self.rate = max(0, rate)
        self.burst = Double(max(1, burst))
        self.tokens = self.burst
        self.last = now
    }

    /// Takes one token if there is one; returns whether the frame may pass.
    public mutating func take(now: ContinuousClock.Instant) -> Bool {
        if now > last {
            let (seconds, attoseconds) = (now - last).components
            tokens = min(burst, tokens + (Double(seconds) + Double(attoseconds) / 1e18) * rate)
            last = now
        }
        guard tokens >= 1 else { return false }
        tokens -= 1
        return true
    }
}

/// Per-device token buckets (every live session of a device shares one). Bounded by the devices
/// with a live session: a device's bucket is forgotten when its last session closes.
struct DeviceRateLimiter: Sendable {
    let rate: Double
    let burst: Int
    private var buckets: [String: TokenBucket] = [:]

    init(rate: Double, burst: Int) {
        self.rate = rate
        self.burst = burst
    }

    /// Whether `device` may send one more frame now. A rate ≤ 0 means no limit.
    mutating func allow(device: String, now: ContinuousClock.Instant) -> Bool {
        guard rate > 0 else { return true }
        var bucket = buckets[device] ?? TokenBucket(rate: rate, burst: burst, now: now)
        let allowed = bucket.take(now: now)
        buckets[device] = bucket
        return allowed
    }

    mutating func forget(device: String) { buckets[device] = nil }

    var count: Int { buckets.count }
}
