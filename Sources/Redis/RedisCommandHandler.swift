import Logging
import NIOCore

/// What `RedisConnection` writes into the channel: one or more commands already encoded into
/// `bytes`, and one promise per command, in the order the commands appear in `bytes`.
struct RedisCommandBatch: Sendable {
    var bytes: ByteBuffer
    var promises: [EventLoopPromise<RESPValue>]
    /// Fails each command that has no reply after this long (`nil`: wait for ever).
    var timeout: TimeAmount?
}

/// One command waiting for its reply. A class so that a timeout can mark it done while it stays
/// in the FIFO: the server still sends its reply, which is then consumed and dropped.
private final class PendingCommand {
    let promise: EventLoopPromise<RESPValue>
    var timeoutTask: Scheduled<Void>?
    var isDone = false

    init(promise: EventLoopPromise<RESPValue>) {
        self.promise = promise
    }

    func complete(_ result: Result<RESPValue, RedisError>) {
        guard !self.isDone else { return }
        self.isDone = true
        self.timeoutTask?.cancel()
        self.timeoutTask = nil
        switch result {
        case .success(let value): self.promise.succeed(value)
        case .failure(let error): self.promise.fail(error)
        }
    }
}

/// The RESP2 pipeline handler: writes command batches, parses replies with `RESPReader` and
/// matches them to commands first-in first-out (Redis answers in request order on a single
/// connection). Any number of commands may be in flight.
///
/// When the channel closes, every command still waiting fails with `disconnected`; on a protocol
/// error they fail with `protocol` and the channel is closed. No command is ever left hanging.
final class RedisCommandHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = RedisCommandBatch
    typealias OutboundOut = ByteBuffer

    private let reader: RESPReader
    private let logger: Logger
    private var pending = CircularBuffer<PendingCommand>(initialCapacity: 16)
    /// Set once the channel is unusable; later writes fail with it immediately.
    private var terminalError: RedisError?

    init(reader: RESPReader, logger: Logger) {
        self.reader = reader
        self.logger = logger
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let batch = self.unwrapOutboundIn(data)
        if let terminalError = self.terminalError {
            for commandPromise in batch.promises { commandPromise.fail(terminalError) }
            promise?.fail(terminalError)
            return
        }
        for commandPromise in batch.promises {
            let command = PendingCommand(promise: commandPromise)
            if let timeout = batch.timeout {
                command.timeoutTask = context.eventLoop.assumeIsolated().scheduleTask(in: timeout) {
                    command.complete(.failure(RedisError(
                        code: .timeout,
                        message: "no reply within \(timeout.nanoseconds / 1_000_000) ms"
                    )))
                }
            }
            self.pending.append(command)
        }
        context.write(self.wrapOutboundOut(batch.bytes), promise: promise)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let bytes = self.unwrapInboundIn(data)
        do throws(RedisError) {
            try self.reader.feed(bytes)
            while let reply = try self.reader.next() {
                guard let command = self.pending.popFirst() else {
                    throw RedisError(code: .protocol, message: "reply \(reply.debugSummary) with no command waiting")
                }
                command.complete(.success(reply))
            }
        } catch {
            self.logger.warning("redis protocol error, closing connection", metadata: ["error": "\(error)"])
            self.failAll(error)
            context.close(promise: nil)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.failAll(RedisError(code: .disconnected, message: "connection to redis closed before the reply arrived"))
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        self.logger.debug("redis connection error", metadata: ["error": "\(error)"])
        self.failAll(RedisError(code: .disconnected, message: "connection to redis failed: \(error)"))
        context.close(promise: nil)
    }

    private func failAll(_ error: RedisError) {
        if self.terminalError == nil { self.terminalError = error }
        while let command = self.pending.popFirst() {
            command.complete(.failure(error))
        }
    }
}
