import Foundation
import Signalling
import Testing

@Suite struct TokenCommandTests {
    let now = Date(timeIntervalSince1970: 1_800_000_000)

    @Test func parsesDurations() {
        #expect(TokenCommand.parseDuration("90s") == .seconds(90))
        #expect(TokenCommand.parseDuration("30m") == .seconds(1800))
        #expect(TokenCommand.parseDuration("1h") == .seconds(3600))
        #expect(TokenCommand.parseDuration("7d") == .seconds(604_800))
        #expect(TokenCommand.parseDuration("45") == .seconds(45))
        for bad in ["", "h", "0s", "-1h", "1.5h", "1w", "9999999999d", "400d"] {
            #expect(TokenCommand.parseDuration(bad) == nil, "\(bad)")
        }
    }

    @Test func tokenGrantsWhatWasAsked() async throws {
        let tokens = AccessTokens(apiKey: "k", apiSecret: "0123456789abcdef0123456789abcdef")
        let publishOnly = try await TokenCommand(room: "r", identity: "i", publish: true, subscribe: false, ttl: "2h")
            .run(apiKey: "k", apiSecret: "0123456789abcdef0123456789abcdef", now: now)
        let claims = try await tokens.verify(publishOnly, room: "r", need: .publish, now: now)
        #expect(claims.identity == "i")
        #expect(!claims.subscribe)
        #expect(claims.exp.value == now.addingTimeInterval(7200))
        let neither = try await TokenCommand(room: "r", identity: "i", publish: false, subscribe: false)
            .run(apiKey: "k", apiSecret: "0123456789abcdef0123456789abcdef", now: now)
        let both = try await tokens.verify(neither, room: "r", need: .subscribe, now: now)
        #expect(both.publish && both.subscribe)
    }

    @Test func usageErrors() async {
        await #expect(throws: TokenCommand.UsageError.self) {
            _ = try await TokenCommand(room: "r", identity: "i", publish: true, subscribe: false, ttl: "soon")
                .run(apiKey: "k", apiSecret: "s", now: now)
        }
        await #expect(throws: TokenCommand.UsageError.self) {
            _ = try await TokenCommand(room: "", identity: "i", publish: true, subscribe: false).run(apiKey: "k", apiSecret: "s", now: now)
        }
    }
}
