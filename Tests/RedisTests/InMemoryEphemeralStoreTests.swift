import Redis
import Testing

@Suite struct InMemoryEphemeralStoreTests {
    let clock = ManualEphemeralClock()
    var store: InMemoryEphemeralStore { InMemoryEphemeralStore(clock: self.clock, sweepInterval: 4) }

    @Test func presenceExpiresAfterItsTTL() async throws {
        let store = self.store
        try await store.setPresence(userID: "u1", deviceID: "d1", state: .online, ttl: .seconds(30))
        #expect(try await store.presence(deviceID: "d1") == PresenceRecord(userID: "u1", deviceID: "d1", state: .online))
        self.clock.advance(by: .seconds(29))
        #expect(try await store.presence(deviceID: "d1")?.state == .online)
        self.clock.advance(by: .seconds(1))
        #expect(try await store.presence(deviceID: "d1") == nil)
        #expect(try await store.presenceOfUser("u1") == [])
    }

    @Test func refreshingExtendsPresence() async throws {
        let store = self.store
        try await store.setPresence(userID: "u1", deviceID: "d1", state: .online, ttl: .seconds(10))
        self.clock.advance(by: .seconds(8))
        try await store.setPresence(userID: "u1", deviceID: "d1", state: .away, ttl: .seconds(10))
        self.clock.advance(by: .seconds(8))
        #expect(try await store.presence(deviceID: "d1")?.state == .away)
    }

    @Test func presenceOfUserListsOnlyTheirLiveDevices() async throws {
        let store = self.store
        try await store.setPresence(userID: "u1", deviceID: "phone", state: .online, ttl: .seconds(60))
        try await store.setPresence(userID: "u1", deviceID: "laptop", state: .away, ttl: .seconds(5))
        try await store.setPresence(userID: "u2", deviceID: "tablet", state: .online, ttl: .seconds(60))
        #expect(try await store.presenceOfUser("u1") == [
            PresenceRecord(userID: "u1", deviceID: "laptop", state: .away),
            PresenceRecord(userID: "u1", deviceID: "phone", state: .online),
        ])
        self.clock.advance(by: .seconds(5))
        #expect(try await store.presenceOfUser("u1").map(\.deviceID) == ["phone"])
        try await store.clearPresence(deviceID: "phone")
        #expect(try await store.presenceOfUser("u1") == [])
        #expect(try await store.presenceOfUser("u2").count == 1)
    }

    @Test func fixedWindowAllowsLimitThenDeniesUntilTheWindowEnds() async throws {
        let store = self.store
        for expectedRemaining in [2, 1, 0] {
            let decision = try await store.hit(key: "ip:1", limit: 3, window: .seconds(60))
            #expect(decision == RateDecision(allowed: true, remaining: expectedRemaining, retryAfter: .zero))
        }
        self.clock.advance(by: .seconds(20))
        #expect(try await store.hit(key: "ip:1", limit: 3, window: .seconds(60)) == RateDecision(allowed: false, remaining: 0, retryAfter: .seconds(40)))
        #expect(try await store.hit(key: "ip:2", limit: 3, window: .seconds(60)).allowed)
        self.clock.advance(by: .seconds(40))
        #expect(try await store.hit(key: "ip:1", limit: 3, window: .seconds(60)) == RateDecision(allowed: true, remaining: 2, retryAfter: .zero))
    }

    @Test func slidingWindowFreesOneSlotPerExpiredHit() async throws {
        let store = self.store
        let window = Duration.seconds(10)
        #expect(try await store.hit(key: "k", limit: 2, window: window, strategy: .slidingWindow).remaining == 1)
        self.clock.advance(by: .seconds(4))
        #expect(try await store.hit(key: "k", limit: 2, window: window, strategy: .slidingWindow).remaining == 0)
        self.clock.advance(by: .seconds(4))
        let denied = try await store.hit(key: "k", limit: 2, window: window, strategy: .slidingWindow)
        #expect(denied == RateDecision(allowed: false, remaining: 0, retryAfter: .seconds(2)))
        self.clock.advance(by: .seconds(2))
        // The first hit (t=0) left the window at t=10; the second (t=4) still counts.
        #expect(try await store.hit(key: "k", limit: 2, window: window, strategy: .slidingWindow) == RateDecision(allowed: true, remaining: 0, retryAfter: .zero))
        #expect(try await store.hit(key: "k", limit: 2, window: window, strategy: .slidingWindow).retryAfter == .seconds(4))
    }

    @Test func invalidArgumentsAreTypedErrors() async throws {
        let store = self.store
        let limit = await #expect(throws: RedisError.self) { try await store.hit(key: "k", limit: 0, window: .seconds(1)) }
        #expect(limit?.code == .invalidArgument)
        let window = await #expect(throws: RedisError.self) { try await store.hit(key: "k", limit: 1, window: .zero) }
        #expect(window?.code == .invalidArgument)
        let ttl = await #expect(throws: RedisError.self) {
            try await store.setPresence(userID: "u", deviceID: "d", state: .online, ttl: .milliseconds(-5))
        }
        #expect(ttl?.code == .invalidArgument)
    }

    @Test func valuesWithTTL() async throws {
        let store = self.store
        try await store.set(key: "node:a", value: Array("10.0.0.1".utf8), ttl: .seconds(5))
        try await store.set(key: "forever", value: [0, 1, 2], ttl: nil)
        #expect(try await store.get(key: "node:a") == Array("10.0.0.1".utf8))
        self.clock.advance(by: .seconds(5))
        #expect(try await store.get(key: "node:a") == nil)
        #expect(try await store.get(key: "forever") == [0, 1, 2])
        #expect(try await store.delete(key: "forever"))
        #expect(try await store.delete(key: "forever") == false)
    }

    @Test func setIfAbsentIsAClaimThatExpires() async throws {
        let store = self.store
        #expect(try await store.setIfAbsent(key: "room:1", value: Array("node-a".utf8), ttl: .seconds(5)))
        #expect(try await store.setIfAbsent(key: "room:1", value: Array("node-b".utf8), ttl: .seconds(5)) == false)
        #expect(try await store.get(key: "room:1") == Array("node-a".utf8))
        self.clock.advance(by: .seconds(5))
        #expect(try await store.setIfAbsent(key: "room:1", value: Array("node-b".utf8), ttl: .seconds(5)))
    }

    @Test func expiredEntriesAreSweptAway() async throws {
        let store = self.store
        for index in 0..<20 {
            try await store.set(key: "k\(index)", value: [1], ttl: .seconds(1))
        }
        #expect(store.storedEntryCount >= 16)
        self.clock.advance(by: .seconds(2))
        for index in 0..<4 {
            try await store.set(key: "live\(index)", value: [1], ttl: .seconds(10))
        }
        #expect(store.storedEntryCount <= 4)
    }

    @Test func healthIsAlwaysConnected() async {
        let health = await self.store.health()
        #expect(health == EphemeralHealth(backend: "memory", status: .connected))
        #expect(health.isHealthy)
    }
}
