import Synchronization

/// The messages waiting to be written to one `/rtc` client, bounded by `rooms.send_queue_messages`.
/// Nothing is dropped silently: a lost `subscriber_offer` would break the call, so a client that
/// falls `limit` messages behind overflows the queue, which ends it and signals ``overflowed``;
/// the socket is then closed (`1008`, reason `send_queue_full`) and the participant detached, so
/// it can resume with its `resume_token` and be sent `joined` and a fresh offer. Each overflow is
/// counted in `commucat_media_limit_rejections_total{limit="send_queue_messages"}`.
/// Thread-safe: the room actor sends, the socket's writer task reads.
final class RoomSendQueue: Sendable {
    let limit: Int
    /// What the writer sends, in order.
    let messages: AsyncStream<String>
    /// Yields once when the queue overflowed; finishes with ``finish()``.
    let overflowed: AsyncStream<Void>
    private let continuation: AsyncStream<String>.Continuation
    private let signal: AsyncStream<Void>.Continuation
    private let state = Mutex(false)

    init(limit: Int) {
        self.limit = max(1, limit)
        (messages, continuation) = AsyncStream.makeStream(of: String.self, bufferingPolicy: .bufferingOldest(self.limit))
        (overflowed, signal) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    /// Queues `text`; on overflow ends the queue (later sends are ignored) and signals once.
    func send(_ text: String) {
        guard case .dropped = continuation.yield(text) else { return }
        let first = state.withLock { overflowed in
            defer { overflowed = true }
            return !overflowed
        }
        guard first else { return }
        MediaLimits.rejected(.sendQueue)
        continuation.finish()
        signal.yield(())
    }

    /// Whether the client fell too far behind.
    var hasOverflowed: Bool { state.withLock { $0 } }

    /// Ends both streams (the socket is done); the writer still drains what is queued.
    func finish() {
        continuation.finish()
        signal.finish()
    }
}
