import Logging
import NIOCore
import NIOPosix
import Synchronization

/// What `/readyz` shows for Redis.
public enum RedisConnectionState: Sendable, Hashable, CustomStringConvertible {
    /// A connect attempt (TCP + AUTH/SELECT) is under way.
    case connecting
    /// Commands are being sent.
    case connected
    /// No connection; a reconnect is scheduled. `reason` is one line (the last error).
    case disconnected(reason: String)
    /// `close()` was called; the client never reconnects.
    case closed

    public var isConnected: Bool { self == .connected }

    public var description: String {
        switch self {
        case .connecting: "connecting"
        case .connected: "connected"
        case .disconnected(let reason): "disconnected: \(reason)"
        case .closed: "closed"
        }
    }
}

/// A Redis client that keeps one pipelined RESP2 connection alive.
///
/// - `connect()` opens the connection (TCP, then AUTH/SELECT as the URL says). From then on the
///   client reconnects by itself whenever the connection drops, with `RedisBackoff` between
///   attempts (100 ms doubling to 5 s by default), until `close()`.
/// - While there is no connection every command fails at once with `disconnected`; commands in
///   flight on a connection that drops fail with `disconnected`; a command without a reply
///   within `commandTimeout` fails with `timeout`. Nothing waits for ever.
/// - Commands from any task may overlap: they share the connection, replies are matched in order.
///
/// All mutable state sits behind one `Mutex`; connection work runs on `eventLoop`.
public final class RedisClient: Sendable {
    public struct Configuration: Sendable, Hashable {
        /// Bound on TCP connect plus AUTH/SELECT.
        public var connectTimeout: Duration
        /// Bound on each command's reply; `nil` waits as long as the connection lives.
        public var commandTimeout: Duration?
        public var reconnectBackoff: RedisBackoff

        public init(
            connectTimeout: Duration = .seconds(5),
            commandTimeout: Duration? = .seconds(5),
            reconnectBackoff: RedisBackoff = RedisBackoff()
        ) {
            self.connectTimeout = connectTimeout
            self.commandTimeout = commandTimeout
            self.reconnectBackoff = reconnectBackoff
        }
    }

    public let url: RedisURL
    public let configuration: Configuration
    public let eventLoop: any EventLoop
    let logger: Logger
    private let inner: Mutex<Inner>

    private struct Inner {
        var state: RedisConnectionState = .disconnected(reason: "not connected yet")
        var connection: RedisConnection?
        var started = false
        var closed = false
        /// Consecutive failed connect attempts, for the backoff.
        var failedAttempts = 0
        var retryTask: Scheduled<Void>?
        /// Completed by the outcome of the very first connect attempt.
        var firstAttempt: EventLoopPromise<Void>?
        /// `waitUntilConnected` callers.
        var waiters: [EventLoopPromise<Void>] = []
    }

    public init(
        url: RedisURL,
        configuration: Configuration = Configuration(),
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        logger: Logger = Logger(label: "commucat.redis")
    ) {
        self.url = url
        self.configuration = configuration
        self.eventLoop = eventLoopGroup.next()
        var logger = logger
        logger[metadataKey: "redis"] = "\(url)"
        self.logger = logger
        self.inner = Mutex(Inner())
    }

    deinit {
        // A client dropped without close(): the scheduled work holds it weakly, so just hang up.
        let (connection, retry) = self.inner.withLock { ($0.connection, $0.retryTask) }
        retry?.cancel()
        _ = connection?.close()
    }

    /// The connection state right now (cheap; safe to call from `/readyz`).
    public var state: RedisConnectionState {
        self.inner.withLock { $0.state }
    }

    /// Starts the client and waits for the first connect attempt.
    ///
    /// Throws `unreachable`, `timeout` or `server` (AUTH/SELECT refused) when that attempt fails;
    /// the client then keeps retrying in the background until `close()`, so a server can start
    /// while Redis is down and report it through `state`. Calling it again waits (up to
    /// `connectTimeout`) for a connection.
    public func connect() async throws(RedisError) {
        let promise = self.eventLoop.makePromise(of: Void.self)
        enum Start { case first, again, closed }
        let start = self.inner.withLock { inner -> Start in
            if inner.closed { return .closed }
            if inner.started { return .again }
            inner.started = true
            inner.firstAttempt = promise
            return .first
        }
        switch start {
        case .closed:
            promise.succeed()
            throw Self.closedError
        case .again:
            promise.succeed()
            try await self.waitUntilConnected(timeout: self.configuration.connectTimeout)
        case .first:
            self.eventLoop.execute { [weak self] in self?.attemptConnect() }
            try await Self.value(of: promise.futureResult)
        }
    }

    /// Waits until the client is connected, at most `timeout` (then fails with `timeout`).
    public func waitUntilConnected(timeout: Duration) async throws(RedisError) {
        let promise = self.eventLoop.makePromise(of: Void.self)
        enum Now { case connected, closed, wait }
        let now = self.inner.withLock { inner -> Now in
            if inner.closed { return .closed }
            if inner.state == .connected { return .connected }
            inner.waiters.append(promise)
            return .wait
        }
        switch now {
        case .connected:
            promise.succeed()
            return
        case .closed:
            promise.succeed()
            throw Self.closedError
        case .wait:
            let timer = self.eventLoop.scheduleTask(in: TimeAmount(timeout)) { [weak self] in
                self?.inner.withLock { $0.waiters.removeAll { $0 == promise } }
                promise.fail(RedisError(code: .timeout, message: "not connected to redis within \(timeout)"))
            }
            defer { timer.cancel() }
            try await Self.value(of: promise.futureResult)
        }
    }

    /// Stops reconnecting, closes the connection (commands in flight fail with `disconnected`)
    /// and fails later commands with `closed`. Idempotent.
    public func close() async {
        let (connection, retry, waiters, first) = self.inner.withLock { inner in
            inner.closed = true
            inner.state = .closed
            defer {
                inner.connection = nil
                inner.retryTask = nil
                inner.waiters = []
                inner.firstAttempt = nil
            }
            return (inner.connection, inner.retryTask, inner.waiters, inner.firstAttempt)
        }
        retry?.cancel()
        for waiter in waiters { waiter.fail(Self.closedError) }
        first?.fail(Self.closedError)
        if let connection {
            try? await connection.close().get()
        }
        self.logger.debug("redis client closed")
    }

    // MARK: Sending

    /// Sends one command and returns its reply. An error reply (`-ERR …`) is thrown as
    /// `RedisError(code: .server)`; use `pipeline` to receive error replies as values.
    public func send(_ arguments: [RedisArgument]) async throws(RedisError) -> RESPValue {
        let reply = try await self.sendRaw(arguments)
        if case .error(let message) = reply {
            throw RedisError(code: .server, message: message)
        }
        return reply
    }

    /// `send` for arguments that are all text.
    public func send(_ arguments: [String]) async throws(RedisError) -> RESPValue {
        try await self.send(arguments.map { RedisArgument($0) })
    }

    /// Sends every command in one write and returns the replies in order. Error replies come
    /// back as `.error` values; only connection failures and timeouts throw.
    public func pipeline(_ commands: [[RedisArgument]]) async throws(RedisError) -> [RESPValue] {
        guard !commands.isEmpty else { return [] }
        let connection = try self.currentConnection()
        return try await Self.value(of: connection.pipeline(commands, timeout: self.commandTimeoutAmount))
    }

    func sendRaw(_ arguments: [RedisArgument]) async throws(RedisError) -> RESPValue {
        let connection = try self.currentConnection()
        return try await Self.value(of: connection.send(arguments, timeout: self.commandTimeoutAmount))
    }

    private var commandTimeoutAmount: TimeAmount? {
        self.configuration.commandTimeout.map { TimeAmount($0) }
    }

    private func currentConnection() throws(RedisError) -> RedisConnection {
        let (connection, state) = self.inner.withLock { ($0.connection, $0.state) }
        if let connection { return connection }
        if state == .closed { throw Self.closedError }
        throw RedisError(code: .disconnected, message: "not connected to redis (\(state))")
    }

    private static let closedError = RedisError(code: .closed, message: "redis client is closed")

    private static func value<T: Sendable>(of future: EventLoopFuture<T>) async throws(RedisError) -> T {
        do {
            return try await future.get()
        } catch let error as RedisError {
            throw error
        } catch {
            throw RedisError(code: .disconnected, message: "\(error)")
        }
    }

    // MARK: Connection lifecycle (on `eventLoop`)

    private func attemptConnect() {
        let proceed = self.inner.withLock { inner -> Bool in
            guard !inner.closed else { return false }
            inner.retryTask = nil
            inner.state = .connecting
            return true
        }
        guard proceed else { return }
        let connectTimeout = TimeAmount(self.configuration.connectTimeout)
        let url = self.url
        RedisConnection.connect(
            host: url.host,
            port: url.port,
            eventLoop: self.eventLoop,
            connectTimeout: connectTimeout,
            logger: self.logger
        ).flatMap { connection in
            connection.handshake(url: url, timeout: connectTimeout)
                .map { connection }
                .flatMapError { error in
                    connection.close().flatMapThrowing { throw error }
                }
        }.whenComplete { [weak self] result in
            self?.connectAttemptFinished(result)
        }
    }

    private func connectAttemptFinished(_ result: Result<RedisConnection, any Error>) {
        switch result {
        case .success(let connection):
            let waiters = self.inner.withLock { inner -> [EventLoopPromise<Void>]? in
                guard !inner.closed else { return nil }
                inner.connection = connection
                inner.state = .connected
                inner.failedAttempts = 0
                var waiters = inner.waiters
                if let first = inner.firstAttempt { waiters.append(first) }
                inner.waiters = []
                inner.firstAttempt = nil
                return waiters
            }
            guard let waiters else {
                _ = connection.close()
                return
            }
            self.logger.info("redis connected")
            connection.closeFuture.whenComplete { [weak self] _ in
                self?.connectionClosed(connection)
            }
            for waiter in waiters { waiter.succeed() }

        case .failure(let failure):
            let error = failure as? RedisError ?? RedisError(code: .unreachable, message: "\(failure)")
            let first = self.inner.withLock { inner -> EventLoopPromise<Void>? in
                guard !inner.closed else { return nil }
                inner.state = .disconnected(reason: error.message)
                let delay = self.configuration.reconnectBackoff.delay(forAttempt: inner.failedAttempts)
                inner.failedAttempts += 1
                inner.retryTask = self.scheduleReconnect(after: delay)
                defer { inner.firstAttempt = nil }
                return inner.firstAttempt
            }
            self.logger.warning("redis connect failed", metadata: ["error": "\(error)"])
            first?.fail(error)
        }
    }

    private func connectionClosed(_ connection: RedisConnection) {
        let lost = self.inner.withLock { inner -> Bool in
            guard !inner.closed, inner.connection === connection else { return false }
            inner.connection = nil
            inner.state = .disconnected(reason: "connection to redis lost")
            let delay = self.configuration.reconnectBackoff.delay(forAttempt: 0)
            inner.failedAttempts = 1
            inner.retryTask = self.scheduleReconnect(after: delay)
            return true
        }
        if lost {
            self.logger.warning("redis connection lost; reconnecting")
        }
    }

    private func scheduleReconnect(after delay: Duration) -> Scheduled<Void> {
        self.eventLoop.scheduleTask(in: TimeAmount(delay)) { [weak self] in
            self?.attemptConnect()
        }
    }
}
