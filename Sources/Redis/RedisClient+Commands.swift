import NIOCore

/// How long a key set by `set` lives.
public enum RedisExpiration: Sendable, Hashable {
    /// `EX seconds`
    case seconds(Int)
    /// `PX milliseconds`
    case milliseconds(Int)

    /// Rounded up to whole milliseconds, at least 1 (Redis rejects `PX 0`).
    public init(_ duration: Duration) {
        self = .milliseconds(Int(max(1, EphemeralArguments.milliseconds(duration))))
    }
}

/// The `NX` / `XX` option of `SET`.
public enum RedisSetCondition: Sendable, Hashable {
    case always
    /// `NX`: only when the key does not exist (an atomic claim).
    case ifNotExists
    /// `XX`: only when the key exists.
    case ifExists
}

/// Typed helpers. Each throws `unexpected_reply` when the server answers with a shape the
/// command never produces, and `server` for error replies (e.g. `WRONGTYPE`).
extension RedisClient {
    /// `PING` → the server's answer (`PONG`).
    public func ping() async throws(RedisError) -> String {
        let reply = try await self.send(["PING"] as [RedisArgument])
        guard let text = reply.string else { throw .unexpectedReply("PING", reply) }
        return text
    }

    /// `GET key` → the value, or `nil` when the key does not exist.
    public func get(_ key: String) async throws(RedisError) -> ByteBuffer? {
        let reply = try await self.send(["GET", RedisArgument(key)])
        switch reply {
        case .null: return nil
        case .bulkString(let buffer): return buffer
        default: throw .unexpectedReply("GET", reply)
        }
    }

    /// `SET key value [EX s | PX ms] [NX | XX]` → whether the value was written (always `true`
    /// without a condition).
    @discardableResult
    public func set(
        _ key: String,
        to value: RedisArgument,
        expiration: RedisExpiration? = nil,
        condition: RedisSetCondition = .always
    ) async throws(RedisError) -> Bool {
        var arguments: [RedisArgument] = ["SET", RedisArgument(key), value]
        switch expiration {
        case .seconds(let seconds): arguments += ["EX", RedisArgument(seconds)]
        case .milliseconds(let millis): arguments += ["PX", RedisArgument(millis)]
        case nil: break
        }
        switch condition {
        case .always: break
        case .ifNotExists: arguments.append("NX")
        case .ifExists: arguments.append("XX")
        }
        let reply = try await self.send(arguments)
        switch reply {
        case .status: return true
        case .null: return false
        default: throw .unexpectedReply("SET", reply)
        }
    }

    /// `DEL key…` → how many keys existed.
    @discardableResult
    public func del(_ keys: [String]) async throws(RedisError) -> Int {
        guard !keys.isEmpty else { return 0 }
        return try await self.integerCommand("DEL", ["DEL"] + keys.map { RedisArgument($0) })
    }

    /// `INCR key` → the value after the increment.
    @discardableResult
    public func incr(_ key: String) async throws(RedisError) -> Int64 {
        let reply = try await self.send(["INCR", RedisArgument(key)])
        guard case .integer(let value) = reply else { throw .unexpectedReply("INCR", reply) }
        return value
    }

    /// `EXPIRE key seconds` → `false` when the key does not exist.
    @discardableResult
    public func expire(_ key: String, seconds: Int) async throws(RedisError) -> Bool {
        try await self.integerCommand("EXPIRE", ["EXPIRE", RedisArgument(key), RedisArgument(seconds)]) == 1
    }

    /// `PEXPIRE key milliseconds` → `false` when the key does not exist.
    @discardableResult
    public func pexpire(_ key: String, milliseconds: Int) async throws(RedisError) -> Bool {
        try await self.integerCommand("PEXPIRE", ["PEXPIRE", RedisArgument(key), RedisArgument(milliseconds)]) == 1
    }

    /// `PTTL key` → remaining time to live; `nil` when the key is missing or has no expiry.
    public func pttl(_ key: String) async throws(RedisError) -> Duration? {
        let millis = try await self.integerCommand("PTTL", ["PTTL", RedisArgument(key)])
        return millis >= 0 ? .milliseconds(millis) : nil
    }

    /// `HSET key field value…` → how many fields were new.
    @discardableResult
    public func hset(_ key: String, fields: [String: RedisArgument]) async throws(RedisError) -> Int {
        guard !fields.isEmpty else { return 0 }
        var arguments: [RedisArgument] = ["HSET", RedisArgument(key)]
        for (field, value) in fields.sorted(by: { $0.key < $1.key }) {
            arguments.append(RedisArgument(field))
            arguments.append(value)
        }
        return try await self.integerCommand("HSET", arguments)
    }

    /// `HGETALL key` → every field (empty when the key does not exist).
    public func hgetall(_ key: String) async throws(RedisError) -> [String: ByteBuffer] {
        let reply = try await self.send(["HGETALL", RedisArgument(key)])
        guard let elements = reply.array, elements.count % 2 == 0 else {
            throw .unexpectedReply("HGETALL", reply)
        }
        var fields: [String: ByteBuffer] = [:]
        var index = 0
        while index + 1 < elements.count {
            guard case .bulkString(let field) = elements[index], case .bulkString(let value) = elements[index + 1] else {
                throw .unexpectedReply("HGETALL", reply)
            }
            fields[String(buffer: field)] = value
            index += 2
        }
        return fields
    }

    /// `SADD key member…` → how many members were new.
    @discardableResult
    public func sadd(_ key: String, members: [RedisArgument]) async throws(RedisError) -> Int {
        guard !members.isEmpty else { return 0 }
        return try await self.integerCommand("SADD", ["SADD", RedisArgument(key)] + members)
    }

    /// `SREM key member…` → how many members were removed.
    @discardableResult
    public func srem(_ key: String, members: [RedisArgument]) async throws(RedisError) -> Int {
        guard !members.isEmpty else { return 0 }
        return try await self.integerCommand("SREM", ["SREM", RedisArgument(key)] + members)
    }

    /// `SMEMBERS key` → the members, in no particular order.
    public func smembers(_ key: String) async throws(RedisError) -> [ByteBuffer] {
        let reply = try await self.send(["SMEMBERS", RedisArgument(key)])
        guard let elements = reply.array else { throw .unexpectedReply("SMEMBERS", reply) }
        var members: [ByteBuffer] = []
        members.reserveCapacity(elements.count)
        for element in elements {
            guard case .bulkString(let member) = element else { throw .unexpectedReply("SMEMBERS", reply) }
            members.append(member)
        }
        return members
    }

    /// `PUBLISH channel message` → how many subscribers received it.
    @discardableResult
    public func publish(_ channel: String, message: RedisArgument) async throws(RedisError) -> Int {
        try await self.integerCommand("PUBLISH", ["PUBLISH", RedisArgument(channel), message])
    }

    /// `EVAL script numkeys key… arg…` → the script's reply. Redis caches the compiled script by
    /// its SHA-1, so sending the body each time costs only its bytes on the wire.
    public func eval(_ script: String, keys: [String] = [], arguments: [RedisArgument] = []) async throws(RedisError) -> RESPValue {
        let command: [RedisArgument] = ["EVAL", RedisArgument(script), RedisArgument(keys.count)]
        return try await self.send(command + keys.map { RedisArgument($0) } + arguments)
    }

    private func integerCommand(_ name: String, _ arguments: [RedisArgument]) async throws(RedisError) -> Int {
        let reply = try await self.send(arguments)
        guard case .integer(let value) = reply else { throw .unexpectedReply(name, reply) }
        return Int(value)
    }
}
