import Foundation
import Testing

@testable import Signalling

/// `/rtc` limits of issue 14 item 13: a bounded send queue that closes a client instead of
/// dropping messages, and the display name taken from the token.
@Suite struct RoomLimitsTests {
    @Test func aClientThatFallsBehindOverflowsOnceAndNothingIsDroppedSilently() async {
        let queue = RoomSendQueue(limit: 3)
        for index in 0..<3 { queue.send("m\(index)") }
        #expect(!queue.hasOverflowed)
        queue.send("m3")  // the fourth does not fit: the queue ends instead of losing it quietly
        #expect(queue.hasOverflowed)
        queue.send("m4")
        var signals = 0
        for await _ in queue.overflowed {
            signals += 1
            break
        }
        #expect(signals == 1)
        // What was queued before the overflow is still in order; nothing after it.
        var received: [String] = []
        for await text in queue.messages { received.append(text) }
        #expect(received == ["m0", "m1", "m2"])
    }

    @Test func aClientThatKeepsUpNeverOverflows() async {
        let queue = RoomSendQueue(limit: 4)
        var received = 0
        for round in 0..<100 {
            queue.send("m\(round)")
            for await _ in queue.messages {
                received += 1
                break
            }
        }
        #expect(received == 100)
        #expect(!queue.hasOverflowed)
        queue.finish()
        for await _ in queue.overflowed { Issue.record("no overflow expected") }
    }

    @Test func theDisplayNameComesFromTheTokenThenTheQueryThenTheIdentity() {
        let issued = Date(timeIntervalSince1970: 1_800_000_000)
        func claims(name: String?) -> AccessTokenClaims {
            AccessTokenClaims(
                issuer: "key", identity: "alice", room: "r", publish: true, subscribe: true, notBefore: issued,
                expires: issued.addingTimeInterval(60), name: name)
        }
        #expect(RoomRoutes.displayName(claims: claims(name: "Alice A."), query: "Mallory", identity: "alice") == "Alice A.")
        #expect(RoomRoutes.displayName(claims: claims(name: nil), query: "Ally", identity: "alice") == "Ally")
        #expect(RoomRoutes.displayName(claims: claims(name: ""), query: nil, identity: "alice") == "alice")
        #expect(RoomRoutes.displayName(claims: nil, query: nil, identity: "anonymous") == "anonymous")
        #expect(RoomRoutes.displayName(claims: nil, query: "a\u{0}b\u{1B}[31mc", identity: "x") == "ab[31mc")
        #expect(RoomRoutes.displayName(claims: nil, query: String(repeating: "n", count: 500), identity: "x").count == 64)
    }

    @Test func theNameClaimRoundTripsThroughASignedToken() async throws {
        let tokens = AccessTokens(apiKey: "key", apiSecret: "0123456789abcdef0123456789abcdef")
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        let named = try await tokens.issue(
            identity: "alice", room: "r", publish: false, subscribe: true, ttl: .seconds(60), now: now, name: "Alice")
        #expect(try await tokens.verify(named, room: "r", need: .subscribe, now: now).name == "Alice")
        let plain = try await tokens.issue(identity: "bob", room: "r", publish: false, subscribe: true, ttl: .seconds(60), now: now)
        #expect(try await tokens.verify(plain, room: "r", need: .subscribe, now: now).name == nil)
    }
}
