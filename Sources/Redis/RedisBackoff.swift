/// Exponential reconnect backoff: `initial · multiplier^attempt`, capped at `maximum`, then
/// spread by up to ±`jitter` (a fraction) so that many nodes do not reconnect in lockstep.
public struct RedisBackoff: Sendable, Hashable {
    public var initial: Duration
    public var maximum: Duration
    public var multiplier: Double
    public var jitter: Double

    public init(initial: Duration = .milliseconds(100), maximum: Duration = .seconds(5), multiplier: Double = 2, jitter: Double = 0.1) {
        self.initial = initial
        self.maximum = max(initial, maximum)
        self.multiplier = max(1, multiplier)
        self.jitter = min(max(0, jitter), 1)
    }

    /// The delay before reconnect attempt number `attempt` (0 = first retry), without jitter.
    public func baseDelay(forAttempt attempt: Int) -> Duration {
        var delay = self.initial
        var step = 0
        // Bounded loop: stops at the cap, and at 64 steps whatever the multiplier.
        while step < max(0, attempt), delay < self.maximum, step < 64 {
            delay = delay * self.multiplier
            step += 1
        }
        return min(delay, self.maximum)
    }

    /// `baseDelay` spread by `jitter`, never above `maximum` and never negative.
    public func delay(forAttempt attempt: Int, using generator: inout some RandomNumberGenerator) -> Duration {
        let base = self.baseDelay(forAttempt: attempt)
        guard self.jitter > 0 else { return base }
        let factor = Double.random(in: (1 - self.jitter)...(1 + self.jitter), using: &generator)
        return max(.zero, min(base * factor, self.maximum))
    }

    public func delay(forAttempt attempt: Int) -> Duration {
        var generator = SystemRandomNumberGenerator()
        return self.delay(forAttempt: attempt, using: &generator)
    }
}
