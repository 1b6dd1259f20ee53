import Redis
import Testing

@Suite struct RedisBackoffTests {
    @Test func doublesFrom100msAndCapsAt5s() {
        let backoff = RedisBackoff()
        let delays = (0..<10).map { backoff.baseDelay(forAttempt: $0) }
        #expect(delays == [
            .milliseconds(100), .milliseconds(200), .milliseconds(400), .milliseconds(800),
            .milliseconds(1600), .milliseconds(3200), .seconds(5), .seconds(5), .seconds(5), .seconds(5),
        ])
        #expect(backoff.baseDelay(forAttempt: Int.max) == .seconds(5))
        #expect(backoff.baseDelay(forAttempt: -3) == .milliseconds(100))
    }

    @Test func jitterStaysWithinItsBandAndTheCap() {
        let backoff = RedisBackoff(jitter: 0.2)
        var random = SplitMix64(seed: 7)
        for attempt in 0..<12 {
            for _ in 0..<50 {
                let base = backoff.baseDelay(forAttempt: attempt)
                let delay = backoff.delay(forAttempt: attempt, using: &random)
                #expect(delay >= base * 0.8 && delay <= min(base * 1.2, .seconds(5)))
            }
        }
    }
}
