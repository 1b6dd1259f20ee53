/// The one error type of the Redis target, shaped like postgres-nio's `PSQLError`: a stable
/// `code` that callers switch on and log as a label, plus a one-line human `message`.
public struct RedisError: Error, Sendable, Hashable, CustomStringConvertible {
    /// Stable, snake_case codes. New codes may be added; existing strings never change.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        public let rawValue: String
        private init(_ rawValue: String) { self.rawValue = rawValue }

        /// The `redis.url` could not be parsed.
        public static let badURL = Code("bad_url")
        /// The TCP connection could not be established (refused, no route, DNS failure).
        public static let unreachable = Code("unreachable")
        /// The client has no live connection right now, or the connection dropped while the
        /// command was in flight.
        public static let disconnected = Code("disconnected")
        /// The server sent bytes that are not RESP2, or a reply nobody asked for.
        public static let `protocol` = Code("protocol")
        /// The server answered with an error reply (`-ERR …`, `-WRONGTYPE …`); see `message`.
        public static let server = Code("server")
        /// A connect attempt or a command did not complete in time.
        public static let timeout = Code("timeout")
        /// A reply had a shape the typed helper did not expect (e.g. a bulk string for INCR).
        public static let unexpectedReply = Code("unexpected_reply")
        /// A caller passed a value the operation cannot accept (e.g. a rate limit of 0).
        public static let invalidArgument = Code("invalid_argument")
        /// `close()` was called; the client will not reconnect.
        public static let closed = Code("closed")

        public var description: String { self.rawValue }
    }

    public var code: Code
    /// One line, safe to log (never contains a password).
    public var message: String

    public init(code: Code, message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "redis \(self.code): \(self.message)" }
}

extension RedisError {
    static func unexpectedReply(_ command: String, _ reply: RESPValue) -> RedisError {
        RedisError(code: .unexpectedReply, message: "\(command): unexpected reply \(reply.debugSummary)")
    }
}
