import Testing
@testable import SFUCore

@Suite("KeyframeRequestThrottle")
struct KeyframeRequestThrottleTests {
    static let ms: UInt64 = 1_000_000

    @Test func atMostOneRequestPerSecondWithDeferredRelease() {
        var throttle = KeyframeRequestThrottle()
        var clock: UInt64 = 10_000 * Self.ms
        let r1 = throttle.request(nowNanoseconds: clock)
        #expect(r1)
        clock += 100 * Self.ms
        let r2 = throttle.request(nowNanoseconds: clock)
        #expect(!r2)
        let r3 = throttle.request(nowNanoseconds: clock + 1)
        #expect(!r3)
        #expect(throttle.pending)
        clock += 500 * Self.ms
        let r4 = throttle.poll(nowNanoseconds: clock)
        #expect(!r4)
        clock += 400 * Self.ms  // 1000 ms after the first
        let r5 = throttle.poll(nowNanoseconds: clock)
        #expect(r5)
        #expect(!throttle.pending)
        let r6 = throttle.poll(nowNanoseconds: clock + 5000 * Self.ms)
        #expect(!r6)
        #expect(throttle.sent == 2)
        #expect(throttle.suppressed == 1)
        clock += 1000 * Self.ms
        let r7 = throttle.request(nowNanoseconds: clock)
        #expect(r7)
    }

    @Test func keyframeAnswersPendingRequest() {
        var throttle = KeyframeRequestThrottle(intervalNanoseconds: 1000 * Self.ms)
        let r8 = throttle.request(nowNanoseconds: 0)
        #expect(r8)
        let r9 = throttle.request(nowNanoseconds: 10 * Self.ms)
        #expect(!r9)
        throttle.keyframeReceived()
        let r10 = throttle.poll(nowNanoseconds: 2000 * Self.ms)
        #expect(!r10)
        #expect(throttle.sent == 1)
    }
}
