import Redis
import Testing

@Suite(.serialized, .enabled(if: RedisServerBinary.shouldRun, "redis-server not on PATH (set CI=true to require it)"))
struct RedisEphemeralStoreTests {
    @Test func keysAreNamespaced() async throws {
        try await withRedis { _, client throws in
            let store = RedisEphemeralStore(client: client)
            try await store.set(key: "node:a", value: [1], ttl: nil)
            try await store.setPresence(userID: "u", deviceID: "d", state: .online, ttl: .seconds(60))
            _ = try await store.hit(key: "ip", limit: 5, window: .seconds(60))
            _ = try await store.hit(key: "ip", limit: 5, window: .seconds(60), strategy: .slidingWindow)
            let keys = try await client.send(["KEYS", "*"]).array?.compactMap(\.string).sorted()
            #expect(keys == [
                "commucat:kv:node:a", "commucat:presence:device:d", "commucat:presence:user:u",
                "commucat:ratelimit:fixed:ip", "commucat:ratelimit:sliding:ip",
            ])
        }
    }

    @Test func presenceRoundTripAndUserIndex() async throws {
        try await withRedis { _, client throws in
            let store = RedisEphemeralStore(client: client)
            try await store.setPresence(userID: "u1", deviceID: "phone", state: .online, ttl: .seconds(60))
            try await store.setPresence(userID: "u1", deviceID: "laptop", state: .away, ttl: .seconds(60))
            try await store.setPresence(userID: "u2", deviceID: "tablet", state: .online, ttl: .seconds(60))
            #expect(try await store.presence(deviceID: "phone") == PresenceRecord(userID: "u1", deviceID: "phone", state: .online))
            #expect(try await store.presence(deviceID: "nope") == nil)
            #expect(try await store.presenceOfUser("u1") == [
                PresenceRecord(userID: "u1", deviceID: "laptop", state: .away),
                PresenceRecord(userID: "u1", deviceID: "phone", state: .online),
            ])
            try await store.clearPresence(deviceID: "laptop")
            #expect(try await store.presenceOfUser("u1").map(\.deviceID) == ["phone"])
            #expect(try await store.presence(deviceID: "laptop") == nil)
            #expect(try await store.presenceOfUser("u2").count == 1)
        }
    }

    @Test func presenceExpiresWithItsTTL() async throws {
        try await withRedis { _, client throws in
            let store = RedisEphemeralStore(client: client)
            // 2 s, not less: on a loaded 2-core CI machine the first read once came after a 300 ms TTL.
            try await store.setPresence(userID: "u1", deviceID: "short", state: .online, ttl: .seconds(2))
            try await store.setPresence(userID: "u1", deviceID: "long", state: .online, ttl: .seconds(60))
            #expect(try await store.presence(deviceID: "short") != nil)
            let expired = await eventually(timeout: .seconds(6)) {
                (try? await store.presence(deviceID: "short")) == .some(nil)
            }
            #expect(expired)
            #expect(try await store.presenceOfUser("u1").map(\.deviceID) == ["long"])
            // The stale member was dropped from the user's index by the read.
            #expect(try await client.smembers("commucat:presence:user:u1").map { String(buffer: $0) } == ["long"])
        }
    }

    @Test func fixedWindowRateLimit() async throws {
        try await withRedis { _, client throws in
            let store = RedisEphemeralStore(client: client)
            var decisions: [RateDecision] = []
            for _ in 0..<5 {
                decisions.append(try await store.hit(key: "pair:1.2.3.4", limit: 3, window: .seconds(30)))
            }
            #expect(decisions.map(\.allowed) == [true, true, true, false, false])
            #expect(decisions.map(\.remaining) == [2, 1, 0, 0, 0])
            let retry = decisions[3].retryAfter
            #expect(retry > .seconds(29) && retry <= .seconds(30))
            #expect(decisions[0].retryAfter == .zero)
            // Denied hits were not counted.
            #expect(try await client.get("commucat:ratelimit:fixed:pair:1.2.3.4").map { String(buffer: $0) } == "3")
        }
    }

    @Test func fixedWindowResetsAfterTheWindow() async throws {
        try await withRedis { _, client throws in
            let store = RedisEphemeralStore(client: client)
            #expect(try await store.hit(key: "k", limit: 1, window: .milliseconds(200)).allowed)
            #expect(try await store.hit(key: "k", limit: 1, window: .milliseconds(200)).allowed == false)
            let reset = await eventually(timeout: .seconds(3)) {
                (try? await store.hit(key: "k", limit: 1, window: .milliseconds(200)))?.allowed == true
            }
            #expect(reset)
        }
    }

    @Test func slidingWindowRateLimit() async throws {
        try await withRedis { _, client throws in
            let store = RedisEphemeralStore(client: client)
            var allowed = 0
            var lastDenied: RateDecision?
            for _ in 0..<6 {
                let decision = try await store.hit(key: "s", limit: 4, window: .seconds(10), strategy: .slidingWindow)
                if decision.allowed { allowed += 1 } else { lastDenied = decision }
            }
            #expect(allowed == 4)
            let denied = try #require(lastDenied)
            #expect(denied.remaining == 0)
            #expect(denied.retryAfter > .seconds(9) && denied.retryAfter <= .seconds(10))
            #expect(try await client.send(["ZCARD", "commucat:ratelimit:sliding:s"]) == .integer(4))
        }
    }

    /// Many clients hitting one key at once: the script is atomic, so exactly `limit` pass.
    @Test func concurrentHitsNeverExceedTheLimit() async throws {
        try await withRedis { _, client throws in
            let store = RedisEphemeralStore(client: client)
            for strategy in [RateLimitStrategy.fixedWindow, .slidingWindow] {
                let passed = try await withThrowingTaskGroup(of: Bool.self) { group in
                    for _ in 0..<200 {
                        group.addTask { try await store.hit(key: "burst", limit: 50, window: .seconds(60), strategy: strategy).allowed }
                    }
                    var passed = 0
                    for try await allowed in group where allowed { passed += 1 }
                    return passed
                }
                #expect(passed == 50, "\(strategy)")
            }
        }
    }

    @Test func valuesAndClaims() async throws {
        try await withRedis { _, client throws in
            let store = RedisEphemeralStore(client: client)
            let bytes: [UInt8] = [0, 13, 10, 255]
            try await store.set(key: "blob", value: bytes, ttl: nil)
            #expect(try await store.get(key: "blob") == bytes)
            #expect(try await store.setIfAbsent(key: "room:1", value: Array("node-a".utf8), ttl: .seconds(5)))
            #expect(try await store.setIfAbsent(key: "room:1", value: Array("node-b".utf8), ttl: .seconds(5)) == false)
            #expect(try await store.get(key: "room:1") == Array("node-a".utf8))
            #expect(try await store.delete(key: "room:1"))
            #expect(try await store.delete(key: "room:1") == false)
            try await store.set(key: "ttl", value: [1], ttl: .milliseconds(200))
            let gone = await eventually(timeout: .seconds(3)) { (try? await store.get(key: "ttl")) == .some(nil) }
            #expect(gone)
        }
    }

    @Test func healthFollowsTheConnection() async throws {
        try await withRedis { server, client throws in
            let store = RedisEphemeralStore(client: client)
            #expect(await store.health() == EphemeralHealth(backend: "redis", status: .connected))
            server.stop()
            let degraded = await eventually(timeout: .seconds(5)) { await !store.health().isHealthy }
            #expect(degraded)
            let error = await #expect(throws: RedisError.self) { try await store.get(key: "x") }
            #expect(error?.code == .disconnected)
            try await server.start()
            try await client.waitUntilConnected(timeout: .seconds(8))
            #expect(await store.health().isHealthy)
        }
    }
}
