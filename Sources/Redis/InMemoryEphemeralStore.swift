import Synchronization

/// `EphemeralStore` in this process's memory, for a single node without Redis.
///
/// Expiry is driven by the injected `EphemeralClock` (a `ManualEphemeralClock` in tests):
/// expired entries are invisible at once and are swept out every `sweepInterval` writes, so
/// memory stays bounded by the live entries plus one sweep interval.
public final class InMemoryEphemeralStore: EphemeralStore {
    private struct Expiring<Value> {
        var value: Value
        /// `nil`: never expires.
        var expiresAt: Duration?

        func isLive(at now: Duration) -> Bool {
            guard let expiresAt else { return true }
            return now < expiresAt
        }
    }

    private struct FixedWindow {
        var start: Duration
        var count: Int
    }

    private struct State {
        var presence: [String: Expiring<PresenceRecord>] = [:]
        var fixedWindows: [String: Expiring<FixedWindow>] = [:]
        /// Times of allowed hits, oldest first.
        var slidingLogs: [String: Expiring<[Duration]>] = [:]
        var values: [String: Expiring<[UInt8]>] = [:]
        var writesSinceSweep = 0
    }

    private let clock: any EphemeralClock
    private let state = Mutex(State())
    private let sweepInterval: Int

    public init(clock: any EphemeralClock = SystemEphemeralClock(), sweepInterval: Int = 1024) {
        self.clock = clock
        self.sweepInterval = max(1, sweepInterval)
    }

    /// Entries held right now, expired or not (for tests of the sweep).
    public var storedEntryCount: Int {
        self.state.withLock { $0.presence.count + $0.fixedWindows.count + $0.slidingLogs.count + $0.values.count }
    }

    // MARK: Presence

    public func setPresence(userID: String, deviceID: String, state: PresenceState, ttl: Duration) async throws(RedisError) {
        try EphemeralArguments.checkTTL(ttl, "presence ttl")
        let record = PresenceRecord(userID: userID, deviceID: deviceID, state: state)
        self.mutate { $0.presence[deviceID] = Expiring(value: record, expiresAt: $1 + ttl) }
    }

    public func presence(deviceID: String) async throws(RedisError) -> PresenceRecord? {
        let now = self.clock.now()
        return self.state.withLock { state in
            state.presence[deviceID].flatMap { $0.isLive(at: now) ? $0.value : nil }
        }
    }

    public func presenceOfUser(_ userID: String) async throws(RedisError) -> [PresenceRecord] {
        let now = self.clock.now()
        let records = self.state.withLock { state in
            state.presence.values.filter { $0.value.userID == userID && $0.isLive(at: now) }.map(\.value)
        }
        return records.sorted { $0.deviceID < $1.deviceID }
    }

    public func clearPresence(deviceID: String) async throws(RedisError) {
        self.mutate { state, _ in state.presence[deviceID] = nil }
    }

    // MARK: Rate limiting

    public func hit(key: String, limit: Int, window: Duration, strategy: RateLimitStrategy) async throws(RedisError) -> RateDecision {
        try EphemeralArguments.checkLimit(limit, window: window)
        return self.mutate { state, now in
            switch strategy {
            case .fixedWindow:
                var bucket = FixedWindow(start: now, count: 0)
                if let existing = state.fixedWindows[key], existing.isLive(at: now) {
                    bucket = existing.value
                }
                guard bucket.count < limit else {
                    return RateDecision(allowed: false, remaining: 0, retryAfter: bucket.start + window - now)
                }
                bucket.count += 1
                state.fixedWindows[key] = Expiring(value: bucket, expiresAt: bucket.start + window)
                return RateDecision(allowed: true, remaining: limit - bucket.count, retryAfter: .zero)

            case .slidingWindow:
                // A hit at time t counts while now < t + window.
                var log = state.slidingLogs[key]?.value ?? []
                log.removeAll { $0 + window <= now }
                guard log.count < limit else {
                    let oldest = log.first ?? now
                    state.slidingLogs[key] = Expiring(value: log, expiresAt: (log.last ?? now) + window)
                    return RateDecision(allowed: false, remaining: 0, retryAfter: oldest + window - now)
                }
                log.append(now)
                state.slidingLogs[key] = Expiring(value: log, expiresAt: now + window)
                return RateDecision(allowed: true, remaining: limit - log.count, retryAfter: .zero)
            }
        }
    }

    // MARK: Values

    public func set(key: String, value: [UInt8], ttl: Duration?) async throws(RedisError) {
        if let ttl { try EphemeralArguments.checkTTL(ttl, "ttl") }
        self.mutate { state, now in state.values[key] = Expiring(value: value, expiresAt: ttl.map { now + $0 }) }
    }

    public func setIfAbsent(key: String, value: [UInt8], ttl: Duration?) async throws(RedisError) -> Bool {
        if let ttl { try EphemeralArguments.checkTTL(ttl, "ttl") }
        return self.mutate { state, now in
            if let existing = state.values[key], existing.isLive(at: now) { return false }
            state.values[key] = Expiring(value: value, expiresAt: ttl.map { now + $0 })
            return true
        }
    }

    public func get(key: String) async throws(RedisError) -> [UInt8]? {
        let now = self.clock.now()
        return self.state.withLock { state in
            state.values[key].flatMap { $0.isLive(at: now) ? $0.value : nil }
        }
    }

    @discardableResult
    public func delete(key: String) async throws(RedisError) -> Bool {
        return self.mutate { state, now in
            state.values.removeValue(forKey: key)?.isLive(at: now) ?? false
        }
    }

    public func health() async -> EphemeralHealth {
        EphemeralHealth(backend: "memory", status: .connected)
    }

    // MARK: Sweeping

    /// Runs `body` under the lock with the current time read under the same lock, so writes
    /// see time move forward in the order they happen.
    private func mutate<T>(_ body: (inout State, Duration) -> T) -> T {
        self.state.withLock { state in
            let now = self.clock.now()
            let result = body(&state, now)
            state.writesSinceSweep += 1
            if state.writesSinceSweep >= self.sweepInterval {
                state.writesSinceSweep = 0
                state.presence = state.presence.filter { $0.value.isLive(at: now) }
                state.fixedWindows = state.fixedWindows.filter { $0.value.isLive(at: now) }
                state.slidingLogs = state.slidingLogs.filter { $0.value.isLive(at: now) }
                state.values = state.values.filter { $0.value.isLive(at: now) }
            }
            return result
        }
    }
}
