import Logging
import NIOCore
import NIOPosix

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One TCP connection to Redis with a `RedisCommandHandler` on it. No reconnect logic: when it
/// closes it stays closed (`RedisClient` replaces it).
final class RedisConnection: Sendable {
    let channel: any Channel

    private init(channel: any Channel) {
        self.channel = channel
    }

    var eventLoop: any EventLoop { self.channel.eventLoop }
    var closeFuture: EventLoopFuture<Void> { self.channel.closeFuture }

    static func connect(
        host: String,
        port: Int,
        eventLoop: any EventLoop,
        connectTimeout: TimeAmount,
        logger: Logger
    ) -> EventLoopFuture<RedisConnection> {
        let bootstrap = ClientBootstrap(group: eventLoop)
            .connectTimeout(connectTimeout)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelOption(.socketOption(.so_keepalive), value: 1)
            .channelInitializer { channel in
                do {
                    let handler = RedisCommandHandler(reader: try RESPReader(), logger: logger)
                    try channel.pipeline.syncOperations.addHandler(handler)
                    return channel.eventLoop.makeSucceededVoidFuture()
                } catch {
                    return channel.eventLoop.makeFailedFuture(error)
                }
            }
        return bootstrap.connect(host: host, port: port)
            .map { RedisConnection(channel: $0) }
            .flatMapErrorThrowing { error in
                throw Self.connectError(error, host: host, port: port)
            }
    }

    /// Sends one command; the future fails with a `RedisError` only (never hangs: the handler
    /// fails it on timeout, on close and on protocol errors).
    func send(_ arguments: [RedisArgument], timeout: TimeAmount?) -> EventLoopFuture<RESPValue> {
        var bytes = self.channel.allocator.buffer(capacity: RESPCommandEncoder.encodedSize(arguments))
        RESPCommandEncoder.write(arguments, into: &bytes)
        let promise = self.eventLoop.makePromise(of: RESPValue.self)
        self.write(RedisCommandBatch(bytes: bytes, promises: [promise], timeout: timeout))
        return promise.futureResult
    }

    /// Sends all commands in one write and one flush; replies come back in the same order.
    func pipeline(_ commands: [[RedisArgument]], timeout: TimeAmount?) -> EventLoopFuture<[RESPValue]> {
        let size = commands.reduce(0) { $0 + RESPCommandEncoder.encodedSize($1) }
        var bytes = self.channel.allocator.buffer(capacity: size)
        var promises: [EventLoopPromise<RESPValue>] = []
        promises.reserveCapacity(commands.count)
        for command in commands {
            RESPCommandEncoder.write(command, into: &bytes)
            promises.append(self.eventLoop.makePromise(of: RESPValue.self))
        }
        self.write(RedisCommandBatch(bytes: bytes, promises: promises, timeout: timeout))
        return EventLoopFuture.whenAllSucceed(promises.map(\.futureResult), on: self.eventLoop)
    }

    func close() -> EventLoopFuture<Void> {
        let promise = self.eventLoop.makePromise(of: Void.self)
        self.channel.close(promise: promise)
        // Closing an already closed channel is not a failure for us.
        return promise.futureResult.recover { _ in }
    }

    private func write(_ batch: RedisCommandBatch) {
        let promises = batch.promises
        self.channel.writeAndFlush(batch).whenFailure { error in
            // The handler normally fails its own commands; this covers a channel that closed
            // before the batch reached the handler. A second failure of a promise is ignored.
            let failure = RedisError(code: .disconnected, message: "cannot write to redis: \(error)")
            for promise in promises { promise.fail(failure) }
        }
    }

    private static func connectError(_ error: any Error, host: String, port: Int) -> RedisError {
        if let error = error as? RedisError { return error }
        if let error = error as? ChannelError, case .connectTimeout(let amount) = error {
            return RedisError(
                code: .timeout,
                message: "connect to \(host):\(port) timed out after \(amount.nanoseconds / 1_000_000) ms"
            )
        }
        if let error = error as? NIOConnectionError {
            if let first = error.connectionErrors.first {
                return RedisError(code: .unreachable, message: "cannot connect to \(host):\(port): \(Self.reason(first.error))")
            }
            if let dns = error.dnsAError ?? error.dnsAAAAError {
                return RedisError(code: .unreachable, message: "cannot resolve \(host): \(dns)")
            }
        }
        return RedisError(code: .unreachable, message: "cannot connect to \(host):\(port): \(Self.reason(error))")
    }

    /// `connection refused` rather than NIO's full `IOError` description.
    private static func reason(_ error: any Error) -> String {
        guard let error = error as? IOError else { return "\(error)" }
        guard let text = strerror(error.errnoCode) else { return "errno \(error.errnoCode)" }
        return String(cString: text).lowercased()
    }
}

extension RedisConnection {
    /// AUTH and SELECT as the URL asks; fails with a `server` error (e.g. WRONGPASS).
    func handshake(url: RedisURL, timeout: TimeAmount?) -> EventLoopFuture<Void> {
        var commands: [[RedisArgument]] = []
        if let password = url.password {
            if let username = url.username {
                commands.append(["AUTH", RedisArgument(username), RedisArgument(password)])
            } else {
                commands.append(["AUTH", RedisArgument(password)])
            }
        }
        if url.database != 0 {
            commands.append(["SELECT", RedisArgument(url.database)])
        }
        guard !commands.isEmpty else { return self.eventLoop.makeSucceededVoidFuture() }
        let sent = commands
        return self.pipeline(sent, timeout: timeout).flatMapThrowing { replies in
            for (command, reply) in zip(sent, replies) {
                if case .error(let message) = reply {
                    let name = String(buffer: command[0].bytes)
                    throw RedisError(code: .server, message: "\(name) failed: \(message)")
                }
            }
        }
    }
}
