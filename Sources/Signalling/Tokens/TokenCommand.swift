#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The library side of `commucat token --room R --identity I [--publish] [--subscribe] [--ttl 1h]`
/// (SPEC §1): the CLI parses flags and prints what ``run(apiKey:apiSecret:now:)`` returns.
public struct TokenCommand: Sendable, Hashable {
    public var room: String
    public var identity: String
    public var publish: Bool
    public var subscribe: Bool
    /// `--ttl` text: `90s`, `30m`, `1h`, `7d`, or plain seconds.
    public var ttl: String
    /// Optional display name (the token's `name` claim, shown in `/rtc` rooms).
    public var name: String?

    public init(room: String, identity: String, publish: Bool, subscribe: Bool, ttl: String = "1h", name: String? = nil) {
        self.name = name
        self.room = room
        self.identity = identity
        self.publish = publish
        self.subscribe = subscribe
        self.ttl = ttl
    }

    /// A usage error for the CLI (exit code 2).
    public struct UsageError: Error, Hashable, Sendable, CustomStringConvertible {
        public var description: String
    }

    /// The token, signed with the server's key. With neither `--publish` nor `--subscribe`, the
    /// token grants both (a token that allows nothing is never what the caller wants).
    public func run(apiKey: String, apiSecret: String, now: Date) async throws -> String {
        guard !room.isEmpty else { throw UsageError(description: "--room must not be empty") }
        guard !identity.isEmpty else { throw UsageError(description: "--identity must not be empty") }
        guard let duration = Self.parseDuration(ttl) else {
            throw UsageError(description: "--ttl \(ttl): expected a duration such as 90s, 30m, 1h or 7d")
        }
        let both = !publish && !subscribe
        return try await AccessTokens(apiKey: apiKey, apiSecret: apiSecret).issue(
            identity: identity, room: room, publish: publish || both, subscribe: subscribe || both, ttl: duration, now: now,
            name: name
        )
    }

    /// Parses `90s`, `30m`, `1h`, `7d` or a plain number of seconds; positive, at most one year.
    public static func parseDuration(_ text: String) -> Duration? {
        guard let last = text.last else { return nil }
        let multiplier: Int64
        var digits = Substring(text)
        switch last {
        case "s": multiplier = 1
        case "m": multiplier = 60
        case "h": multiplier = 3600
        case "d": multiplier = 86400
        case _ where last.isASCII && last.isNumber: multiplier = 1
        default: return nil
        }
        if !last.isNumber { digits = digits.dropLast() }
        guard !digits.isEmpty, digits.count <= 9, digits.allSatisfy({ $0.isASCII && $0.isNumber }), let value = Int64(digits) else { return nil }
        let seconds = value * multiplier
        guard seconds > 0, seconds <= 366 * 86400 else { return nil }
        return .seconds(seconds)
    }
}
