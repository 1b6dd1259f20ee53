import Synchronization

/// What the server keeps only for a while: presence, rate-limit counters and small values with a
/// time to live (cluster registrations, room claims). `RedisEphemeralStore` shares it between
/// nodes; `InMemoryEphemeralStore` serves a single node without Redis.
///
/// Both implementations behave the same for the same calls (the tests run one suite of
/// expectations against each), except that Redis measures time with the server's clock.
public protocol EphemeralStore: Sendable {
    // MARK: Presence
    /// Records `state` for the device, owned by `userID`, for `ttl` (refreshed by calling again).
    func setPresence(userID: String, deviceID: String, state: PresenceState, ttl: Duration) async throws(RedisError)
    /// The device's presence, or `nil` when none was set or it expired.
    func presence(deviceID: String) async throws(RedisError) -> PresenceRecord?
    /// The presence of every device of the user that has not expired, sorted by `deviceID`.
    func presenceOfUser(_ userID: String) async throws(RedisError) -> [PresenceRecord]
    /// Forgets the device's presence (disconnect).
    func clearPresence(deviceID: String) async throws(RedisError)

    // MARK: Rate limiting
    /// Counts one hit on `key` and says whether it is within `limit` hits per `window`.
    /// Denied hits are not counted. Atomic across nodes on Redis.
    func hit(key: String, limit: Int, window: Duration, strategy: RateLimitStrategy) async throws(RedisError) -> RateDecision

    // MARK: Values with a time to live
    /// Stores `value` under `key`, replacing any value; `ttl == nil` keeps it until deleted.
    func set(key: String, value: [UInt8], ttl: Duration?) async throws(RedisError)
    /// Stores `value` only if `key` holds nothing; returns whether it did (an atomic claim).
    func setIfAbsent(key: String, value: [UInt8], ttl: Duration?) async throws(RedisError) -> Bool
    func get(key: String) async throws(RedisError) -> [UInt8]?
    /// Returns whether the key existed.
    @discardableResult
    func delete(key: String) async throws(RedisError) -> Bool

    // MARK: Health
    func health() async -> EphemeralHealth
}

extension EphemeralStore {
    /// A fixed-window hit.
    public func hit(key: String, limit: Int, window: Duration) async throws(RedisError) -> RateDecision {
        try await self.hit(key: key, limit: limit, window: window, strategy: .fixedWindow)
    }
}

public enum PresenceState: String, Sendable, Hashable, CaseIterable, Codable {
    case online
    case away
    case offline
}

public struct PresenceRecord: Sendable, Hashable {
    public var userID: String
    public var deviceID: String
    public var state: PresenceState

    public init(userID: String, deviceID: String, state: PresenceState) {
        self.userID = userID
        self.deviceID = deviceID
        self.state = state
    }
}

public enum RateLimitStrategy: Sendable, Hashable {
    /// At most `limit` hits in each window; the window starts with the first hit after the
    /// previous one ended. Cheap (one counter), allows bursts of `limit` at a window edge.
    case fixedWindow
    /// At most `limit` hits in any `window` ending now (a log of hit times). Exact; memory
    /// grows with `limit`.
    case slidingWindow
}

public struct RateDecision: Sendable, Hashable {
    public var allowed: Bool
    /// Hits still allowed in the current window after this one.
    public var remaining: Int
    /// When denied, how long until a hit can be allowed again (for `Retry-After`); zero when allowed.
    public var retryAfter: Duration

    public init(allowed: Bool, remaining: Int, retryAfter: Duration) {
        self.allowed = allowed
        self.remaining = remaining
        self.retryAfter = retryAfter
    }
}

public struct EphemeralHealth: Sendable, Hashable, CustomStringConvertible {
    public enum Status: Sendable, Hashable {
        case connected
        case degraded(reason: String)
    }

    /// `"redis"` or `"memory"`.
    public var backend: String
    public var status: Status

    public init(backend: String, status: Status) {
        self.backend = backend
        self.status = status
    }

    public var isHealthy: Bool { self.status == .connected }

    public var description: String {
        switch self.status {
        case .connected: "\(self.backend): connected"
        case .degraded(let reason): "\(self.backend): degraded (\(reason))"
        }
    }
}

/// Validation shared by both stores, so both reject the same calls the same way.
enum EphemeralArguments {
    static func checkTTL(_ ttl: Duration, _ what: String) throws(RedisError) {
        guard ttl >= .milliseconds(1) else {
            throw RedisError(code: .invalidArgument, message: "\(what) must be at least 1 ms, got \(ttl)")
        }
    }

    static func checkLimit(_ limit: Int, window: Duration) throws(RedisError) {
        guard limit >= 1 else {
            throw RedisError(code: .invalidArgument, message: "rate limit must be at least 1, got \(limit)")
        }
        try Self.checkTTL(window, "rate limit window")
    }

    /// Whole milliseconds, rounded up (Redis expiries are in milliseconds).
    static func milliseconds(_ duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        return seconds * 1000 + (attoseconds + 999_999_999_999_999) / 1_000_000_000_000_000
    }
}

// MARK: Clocks

/// A monotonic time source for `InMemoryEphemeralStore`: time elapsed since an arbitrary origin.
public protocol EphemeralClock: Sendable {
    func now() -> Duration
}

/// Real time, from `ContinuousClock`.
public struct SystemEphemeralClock: EphemeralClock {
    private let origin: ContinuousClock.Instant

    public init() {
        self.origin = ContinuousClock.now
    }

    public func now() -> Duration {
        ContinuousClock.now - self.origin
    }
}

/// A clock that moves only when told to: for tests, which then never sleep.
public final class ManualEphemeralClock: EphemeralClock {
    private let current: Mutex<Duration>

    public init(now: Duration = .zero) {
        self.current = Mutex(now)
    }

    public func now() -> Duration {
        self.current.withLock { $0 }
    }

    public func advance(by amount: Duration) {
        self.current.withLock { $0 += amount }
    }
}
