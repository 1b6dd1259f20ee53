/// Rate-limits keyframe requests (PLI/FIR) toward one producer stream: at most one per
/// ``interval`` (1 s by default, as mediasoup and LiveKit do) however many subscribers ask. A
/// request inside the interval is not lost: it stays pending and ``poll(nowNanoseconds:)``
/// releases it once the interval has passed.
///
/// Pure: the caller passes monotonic nanoseconds (a manual clock in tests).
public struct KeyframeRequestThrottle: Hashable, Sendable {
    public let interval: UInt64
    private var lastSent: UInt64?
    /// A request arrived inside the interval and waits.
    public private(set) var pending = false
    /// Requests sent upstream.
    public private(set) var sent: UInt64 = 0
    /// Requests merged into an earlier or later one.
    public private(set) var suppressed: UInt64 = 0

    public init(intervalNanoseconds: UInt64 = 1_000_000_000) {
        self.interval = intervalNanoseconds
    }

    /// A subscriber asks for a keyframe: `true` means send a request upstream now.
    public mutating func request(nowNanoseconds: UInt64) -> Bool {
        if let lastSent, nowNanoseconds &- lastSent < interval {
            if pending { suppressed += 1 }
            pending = true
            return false
        }
        lastSent = nowNanoseconds
        pending = false
        sent += 1
        return true
    }

    /// `true` when a pending request may go now (call it from a timer).
    public mutating func poll(nowNanoseconds: UInt64) -> Bool {
        guard pending else { return false }
        if let lastSent, nowNanoseconds &- lastSent < interval { return false }
        lastSent = nowNanoseconds
        pending = false
        sent += 1
        return true
    }

    /// A keyframe arrived: pending requests are answered.
    public mutating func keyframeReceived() {
        if pending { suppressed += 1 }
        pending = false
    }
}
