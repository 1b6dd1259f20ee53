import CCP
import ConnectCore
import Foundation
import HummingbirdWSClient
import Logging
import NIOCore
import Synchronization

/// An established CCP-1 session over WebSocket that any task can use at once: `send` from one task
/// while another reads `frames`. For programs that hold many sessions (tests, `commucat-bench
/// messaging`); ``CCPWebSocketClient`` suits one request-and-reply body.
///
/// One task owns the Noise states; sends and received bytes reach it through one queue, so
/// encryption and decryption never race.
public final class CCPLiveClient: Sendable {
    enum Event: Sendable {
        case inbound(ByteBuffer)
        case inboundEnded
        case send([CCPFrame])
        case close
    }

    /// The handshake Ack.
    public let ack: HandshakeMessages.Ack
    /// Every frame the server sends after the Ack, in order; ends when the stream closes.
    public let frames: AsyncStream<CCPFrame>
    private let events: AsyncStream<Event>.Continuation
    private let task: Task<Void, Never>
    private let sequence = Atomic<UInt32>(0)

    private init(ack: HandshakeMessages.Ack, frames: AsyncStream<CCPFrame>, events: AsyncStream<Event>.Continuation, task: Task<Void, Never>) {
        self.ack = ack
        self.frames = frames
        self.events = events
        self.task = task
    }

    /// The next outgoing sequence number (1, 2, …).
    public func nextSequence() -> UInt32 { sequence.add(1, ordering: .relaxed).newValue }

    /// Queues frames for encryption and sending, in call order.
    public func send(_ frames: CCPFrame...) { events.yield(.send(frames)) }

    /// Sends a frame with the next sequence number; returns that number.
    @discardableResult
    public func send(_ type: CCPFrameType, channel: UInt32, json: String) -> UInt32 {
        let number = nextSequence()
        events.yield(.send([CCPFrame(type: type, channelID: channel, sequence: number, json: json)]))
        return number
    }

    @discardableResult
    public func send(_ type: CCPFrameType, channel: UInt32, bytes: [UInt8]) -> UInt32 {
        let number = nextSequence()
        events.yield(.send([CCPFrame(type: type, channelID: channel, sequence: number, payload: ByteBuffer(bytes: bytes))]))
        return number
    }

    /// Closes the WebSocket and waits for the session task to end.
    public func close() async {
        events.yield(.close)
        await task.value
    }

    /// Connects, runs the handshake and returns once the Ack arrived. Handshake refusals throw
    /// ``CCPClientError`` with the server's taxonomy code.
    public static func connect(
        url: String, connection: CCPClientConnection, logger: Logger = Logger(label: "commucat.client")
    ) async throws -> CCPLiveClient {
        let (frames, frameSink) = AsyncStream.makeStream(of: CCPFrame.self)
        let (events, eventSink) = AsyncStream.makeStream(of: Event.self)
        let (ready, readySink) = AsyncStream.makeStream(of: Result<HandshakeMessages.Ack, any Error>.self)
        let task = Task {
            do {
                try await WebSocketClient.connect(url: url, configuration: .init(maxFrameSize: 1 << 20), logger: logger) { inbound, outbound, _ in
                    var connection = connection
                    try await outbound.write(.binary(connection.start()))
                    var iterator = inbound.messages(maxSize: 1 << 20).makeAsyncIterator()
                    var early: [CCPFrame] = []
                    while !connection.isEstablished {
                        guard let message = try await iterator.next() else {
                            throw CCPClientError(code: "closed", detail: "server closed during the handshake")
                        }
                        guard case .binary(let bytes) = message else { continue }
                        let step = try connection.receive(bytes)
                        if step.outgoing.readableBytes > 0 { try await outbound.write(.binary(step.outgoing)) }
                        early += step.frames
                    }
                    guard let ack = connection.ack else { throw CCPClientError(code: "decode", detail: "no Ack") }
                    readySink.yield(.success(ack))
                    readySink.finish()
                    for frame in early { frameSink.yield(frame) }
                    let reader = Task { [iterator] in
                        var iterator = iterator
                        do {
                            while let message = try await iterator.next() {
                                if case .binary(let bytes) = message { eventSink.yield(.inbound(bytes)) }
                            }
                        } catch {}
                        eventSink.yield(.inboundEnded)
                    }
                    defer { reader.cancel() }
                    loop: for await event in events {
                        switch event {
                        case .inbound(let bytes):
                            guard let step = try? connection.receive(bytes) else { break loop }
                            for frame in step.frames { frameSink.yield(frame) }
                        case .send(let frames):
                            guard let sealed = try? connection.seal(frames) else { break loop }
                            try await outbound.write(.binary(sealed))
                        case .inboundEnded:
                            break loop
                        case .close:
                            try? await outbound.close(.normalClosure, reason: nil)
                            break loop
                        }
                    }
                }
            } catch {
                readySink.yield(.failure(error))
            }
            readySink.finish()
            frameSink.finish()
        }
        var iterator = ready.makeAsyncIterator()
        guard let outcome = await iterator.next() else {
            throw CCPClientError(code: "closed", detail: "WebSocket closed before the handshake")
        }
        do {
            return CCPLiveClient(ack: try outcome.get(), frames: frames, events: eventSink, task: task)
        } catch {
            await task.value
            throw error
        }
    }
}
