/// Lua scripts that make each `RedisEphemeralStore` operation one atomic round trip
/// (EVAL runs a script without interleaving other clients' commands).
///
/// Note: the presence scripts read device keys named from set members rather than from KEYS,
/// which standalone and replicated Redis allow; Redis Cluster would need hash tags.
enum RedisEphemeralScripts {
    /// KEYS[1] counter; ARGV: limit, window ms. Returns {allowed 0/1, remaining, retry-after ms}.
    /// Denied hits are not counted; the window starts at the first hit (PEXPIRE on count 1).
    static let fixedWindow = """
        local limit = tonumber(ARGV[1])
        local window = tonumber(ARGV[2])
        local count = tonumber(redis.call('GET', KEYS[1]) or '0')
        if count < limit then
          count = redis.call('INCR', KEYS[1])
          if count == 1 or redis.call('PTTL', KEYS[1]) < 0 then
            redis.call('PEXPIRE', KEYS[1], window)
          end
          return {1, limit - count, 0}
        end
        local ttl = redis.call('PTTL', KEYS[1])
        if ttl < 0 then
          redis.call('PEXPIRE', KEYS[1], window)
          ttl = window
        end
        return {0, 0, ttl}
        """

    /// KEYS[1] sorted set of hit times (ms, server clock); ARGV: limit, window ms, unique member.
    /// A hit at t counts while now < t + window. Returns {allowed 0/1, remaining, retry-after ms}.
    static let slidingWindow = """
        local limit = tonumber(ARGV[1])
        local window = tonumber(ARGV[2])
        local time = redis.call('TIME')
        local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
        redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
        local count = redis.call('ZCARD', KEYS[1])
        if count < limit then
          redis.call('ZADD', KEYS[1], now, ARGV[3])
          redis.call('PEXPIRE', KEYS[1], window)
          return {1, limit - count - 1, 0}
        end
        local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
        local retry = window
        if oldest[2] then retry = tonumber(oldest[2]) + window - now end
        if retry < 1 then retry = 1 end
        return {0, 0, retry}
        """

    /// KEYS[1] device hash, KEYS[2] user's device set; ARGV: user, device, state, ttl ms.
    /// The set lives as long as its longest-lived device.
    static let setPresence = """
        redis.call('HSET', KEYS[1], 'user', ARGV[1], 'state', ARGV[3])
        redis.call('PEXPIRE', KEYS[1], ARGV[4])
        redis.call('SADD', KEYS[2], ARGV[2])
        if redis.call('PTTL', KEYS[2]) < tonumber(ARGV[4]) then
          redis.call('PEXPIRE', KEYS[2], ARGV[4])
        end
        return 1
        """

    /// KEYS[1] user's device set; ARGV: user, device-key prefix. Returns {device, state, …} for
    /// live devices of that user and drops members whose hash expired or moved to another user.
    static let presenceOfUser = """
        local out = {}
        local devices = redis.call('SMEMBERS', KEYS[1])
        for _, device in ipairs(devices) do
          local fields = redis.call('HMGET', ARGV[2] .. device, 'user', 'state')
          if fields[1] == ARGV[1] and fields[2] then
            out[#out + 1] = device
            out[#out + 1] = fields[2]
          else
            redis.call('SREM', KEYS[1], device)
          end
        end
        return out
        """

    /// KEYS[1] device hash; ARGV: user-set prefix, device. Deletes the hash and the set member.
    static let clearPresence = """
        local user = redis.call('HGET', KEYS[1], 'user')
        redis.call('DEL', KEYS[1])
        if user then
          redis.call('SREM', ARGV[1] .. user, ARGV[2])
          return 1
        end
        return 0
        """
}
