import NIOCore

/// `EphemeralStore` on Redis, shared by every node that uses the same Redis. Keys live under
/// `<namespace>:` (default `commucat:`):
///
/// | key | type | holds |
/// |---|---|---|
/// | `commucat:presence:device:<deviceID>` | hash `user`, `state` | one device's presence, PEXPIRE ttl |
/// | `commucat:presence:user:<userID>` | set of device IDs | index for `presenceOfUser` |
/// | `commucat:ratelimit:fixed:<key>` | counter | fixed-window hits |
/// | `commucat:ratelimit:sliding:<key>` | sorted set | sliding-window hit times (ms) |
/// | `commucat:kv:<key>` | string | `set`/`get`/`delete` values |
///
/// Every operation is one round trip; the multi-key ones are Lua scripts, so they are atomic.
/// When Redis is unreachable operations throw `RedisError` (`disconnected`, `timeout`) at once;
/// callers decide whether to fail open or closed.
public struct RedisEphemeralStore: EphemeralStore {
    public let client: RedisClient
    public let namespace: String

    public init(client: RedisClient, namespace: String = "commucat") {
        self.client = client
        self.namespace = namespace
    }

    private func key(_ parts: String...) -> String {
        ([self.namespace] + parts).joined(separator: ":")
    }

    private var deviceKeyPrefix: String { self.key("presence", "device") + ":" }
    private var userKeyPrefix: String { self.key("presence", "user") + ":" }

    // MARK: Presence

    public func setPresence(userID: String, deviceID: String, state: PresenceState, ttl: Duration) async throws(RedisError) {
        try EphemeralArguments.checkTTL(ttl, "presence ttl")
        _ = try await self.client.eval(
            RedisEphemeralScripts.setPresence,
            keys: [self.deviceKeyPrefix + deviceID, self.userKeyPrefix + userID],
            arguments: [
                RedisArgument(userID), RedisArgument(deviceID), RedisArgument(state.rawValue),
                RedisArgument(EphemeralArguments.milliseconds(ttl)),
            ]
        )
    }

    public func presence(deviceID: String) async throws(RedisError) -> PresenceRecord? {
        let fields = try await self.client.hgetall(self.deviceKeyPrefix + deviceID)
        guard let user = fields["user"], let stateText = fields["state"],
            let state = PresenceState(rawValue: String(buffer: stateText))
        else { return nil }
        return PresenceRecord(userID: String(buffer: user), deviceID: deviceID, state: state)
    }

    public func presenceOfUser(_ userID: String) async throws(RedisError) -> [PresenceRecord] {
        let reply = try await self.client.eval(
            RedisEphemeralScripts.presenceOfUser,
            keys: [self.userKeyPrefix + userID],
            arguments: [RedisArgument(userID), RedisArgument(self.deviceKeyPrefix)]
        )
        guard let flat = reply.array, flat.count % 2 == 0 else {
            throw .unexpectedReply("presenceOfUser", reply)
        }
        var records: [PresenceRecord] = []
        var index = 0
        while index + 1 < flat.count {
            if let device = flat[index].string, let text = flat[index + 1].string, let state = PresenceState(rawValue: text) {
                records.append(PresenceRecord(userID: userID, deviceID: device, state: state))
            }
            index += 2
        }
        return records.sorted { $0.deviceID < $1.deviceID }
    }

    public func clearPresence(deviceID: String) async throws(RedisError) {
        _ = try await self.client.eval(
            RedisEphemeralScripts.clearPresence,
            keys: [self.deviceKeyPrefix + deviceID],
            arguments: [RedisArgument(self.userKeyPrefix), RedisArgument(deviceID)]
        )
    }

    // MARK: Rate limiting

    public func hit(key: String, limit: Int, window: Duration, strategy: RateLimitStrategy) async throws(RedisError) -> RateDecision {
        try EphemeralArguments.checkLimit(limit, window: window)
        let windowMillis = RedisArgument(EphemeralArguments.milliseconds(window))
        let reply: RESPValue
        switch strategy {
        case .fixedWindow:
            reply = try await self.client.eval(
                RedisEphemeralScripts.fixedWindow,
                keys: [self.key("ratelimit", "fixed", key)],
                arguments: [RedisArgument(limit), windowMillis]
            )
        case .slidingWindow:
            let member = RedisArgument(String(UInt64.random(in: .min ... .max), radix: 16))
            reply = try await self.client.eval(
                RedisEphemeralScripts.slidingWindow,
                keys: [self.key("ratelimit", "sliding", key)],
                arguments: [RedisArgument(limit), windowMillis, member]
            )
        }
        guard let values = reply.array, values.count == 3,
            case .integer(let allowed) = values[0],
            case .integer(let remaining) = values[1],
            case .integer(let retryMillis) = values[2]
        else { throw .unexpectedReply("rate limit script", reply) }
        return RateDecision(allowed: allowed == 1, remaining: Int(remaining), retryAfter: .milliseconds(retryMillis))
    }

    // MARK: Values

    public func set(key: String, value: [UInt8], ttl: Duration?) async throws(RedisError) {
        if let ttl { try EphemeralArguments.checkTTL(ttl, "ttl") }
        try await self.client.set(self.key("kv", key), to: RedisArgument(value), expiration: ttl.map(RedisExpiration.init))
    }

    public func setIfAbsent(key: String, value: [UInt8], ttl: Duration?) async throws(RedisError) -> Bool {
        if let ttl { try EphemeralArguments.checkTTL(ttl, "ttl") }
        return try await self.client.set(
            self.key("kv", key),
            to: RedisArgument(value),
            expiration: ttl.map(RedisExpiration.init),
            condition: .ifNotExists
        )
    }

    public func get(key: String) async throws(RedisError) -> [UInt8]? {
        try await self.client.get(self.key("kv", key)).map { Array($0.readableBytesView) }
    }

    @discardableResult
    public func delete(key: String) async throws(RedisError) -> Bool {
        try await self.client.del([self.key("kv", key)]) > 0
    }

    public func health() async -> EphemeralHealth {
        switch self.client.state {
        case .connected: EphemeralHealth(backend: "redis", status: .connected)
        case let other: EphemeralHealth(backend: "redis", status: .degraded(reason: other.description))
        }
    }
}
