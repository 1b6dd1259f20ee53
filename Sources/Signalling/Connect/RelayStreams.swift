import Foundation
import NIOCore
import Synchronization

/// One SSE or long-poll `/connect` stream: upstream bytes arrive by `POST /connect/{id}`,
/// downstream output waits in a queue for the SSE body or the next `GET /connect/{id}`.
public final class RelayStream: Sendable, ConnectOutbound {
    public let id: String
    public let mode: Mode
    let upstream: AsyncStream<ByteBuffer>
    let upstreamContinuation: AsyncStream<ByteBuffer>.Continuation
    private let state = Mutex<State>(State())

    public enum Mode: String, Sendable {
        case sse
        case longPoll = "long-poll"
    }

    private struct State {
        var queue: [ConnectOutput] = []
        var closed = false
        var waiter: CheckedContinuation<Void, Never>?
        var waiterToken: UUID?
        var expired: Set<UUID> = []
    }

    init(id: String, mode: Mode) {
        self.id = id
        self.mode = mode
        (upstream, upstreamContinuation) = AsyncStream.makeStream(of: ByteBuffer.self, bufferingPolicy: .bufferingOldest(Self.maxUpstreamChunks))
    }

    /// Upstream chunks waiting for the session; one more ends the stream (dropping bytes of a Noise
    /// stream would corrupt it, so a client that outruns the server is closed instead).
    static let maxUpstreamChunks = 64
    /// Downstream outputs waiting for the client's next poll; one more ends the session.
    static let maxQueuedOutputs = 1024

    struct Overflow: Error {}

    /// Upstream bytes from `POST /connect/{id}`; false (and the stream closed) when the queue is full.
    func pushUpstream(_ bytes: ByteBuffer) -> Bool {
        if case .enqueued = upstreamContinuation.yield(bytes) { return true }
        upstreamContinuation.finish()
        return false
    }

    public func write(_ output: ConnectOutput) async throws {
        let waiter = try state.withLock { state throws(Overflow) -> CheckedContinuation<Void, Never>? in
            guard state.queue.count < Self.maxQueuedOutputs else { throw Overflow() }
            state.queue.append(output)
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume()
    }

    public func close() async {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            state.closed = true
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume()
        upstreamContinuation.finish()
    }

    /// Waits up to `maxWait` for downstream output; returns what is queued and whether the stream ended.
    func take(maxWait: Duration) async -> (outputs: [ConnectOutput], closed: Bool) {
        if let ready = takeReady() { return ready }
        let token = UUID()
        let timer = Task {
            guard (try? await Task.sleep(for: maxWait)) != nil else { return }
            self.expire(token)
        }
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let resumeNow = state.withLock { state -> Bool in
                if !state.queue.isEmpty || state.closed || state.expired.contains(token) { return true }
                state.waiter?.resume()
                state.waiter = continuation
                state.waiterToken = token
                return false
            }
            if resumeNow { continuation.resume() }
        }
        timer.cancel()
        state.withLock { _ = $0.expired.remove(token) }
        return takeReady() ?? ([], false)
    }

    private func expire(_ token: UUID) {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            guard state.waiterToken == token, let waiter = state.waiter else {
                state.expired.insert(token)
                return nil
            }
            state.waiter = nil
            state.waiterToken = nil
            return waiter
        }
        waiter?.resume()
    }

    private func takeReady() -> (outputs: [ConnectOutput], closed: Bool)? {
        state.withLock { state in
            guard !state.queue.isEmpty || state.closed else { return nil }
            defer { state.queue = [] }
            return (state.queue, state.closed)
        }
    }
}

/// The SSE and long-poll streams of this node by id (the id is an unguessable capability).
public final class RelayStreamTable: Sendable {
    private let streams = Mutex<[String: RelayStream]>([:])

    func create(mode: RelayStream.Mode) -> RelayStream {
        let stream = RelayStream(id: SessionToken.generate(), mode: mode)
        streams.withLock { $0[stream.id] = stream }
        return stream
    }

    func stream(id: String) -> RelayStream? { streams.withLock { $0[id] } }

    func remove(id: String) { streams.withLock { $0[id] = nil } }

    /// Ends every SSE and long-poll stream (graceful shutdown): their bodies finish, their sessions end.
    func closeAll() async {
        let all = streams.withLock { Array($0.values) }
        for stream in all { await stream.close() }
    }

    public var count: Int { streams.withLock { $0.count } }
}

/// Downstream encodings of SSE and long-poll (docs/PROTOCOL.md §2.3).
enum RelayEncoding {
    /// `event: frame\ndata: base64(bytes)\n\n` per output.
    static func sseEvent(_ output: ConnectOutput) -> String {
        "event: frame\ndata: \(Data(output.bytes.readableBytesView).base64EncodedString())\n\n"
    }

    /// One NDJSON line per plaintext frame (`type` is the frame type number, `data` the base64
    /// payload) and one line per batch of encrypted units (`type` `"units"`, `data` the base64 units).
    static func ndjsonLines(_ output: ConnectOutput) -> String {
        switch output {
        case .plaintext(let frames, _):
            return frames.map { frame in
                "{\"channel\":\(frame.channelID),\"sequence\":\(frame.sequence),\"type\":\(frame.type.rawValue),\"data\":\"\(Data(frame.payload.readableBytesView).base64EncodedString())\"}\n"
            }.joined()
        case .units(let bytes):
            return "{\"channel\":0,\"sequence\":0,\"type\":\"units\",\"data\":\"\(Data(bytes.readableBytesView).base64EncodedString())\"}\n"
        }
    }
}
