import CCP
import ConnectCore
import Foundation
import HummingbirdWSClient
import Logging
import NIOCore
import Synchronization

/// An established CCP-1 session seen from the client: send frames, receive frames.
/// Used only inside ``CCPWebSocketClient/connect(url:connection:logger:_:)``'s body.
public final class CCPClientSession: @unchecked Sendable {
    // Confined to the WebSocket handler task that created it (never shared across tasks).
    private var connection: CCPClientConnection
    private let outbound: WebSocketOutboundWriter
    private var iterator: WebSocketInboundMessageStream.AsyncIterator
    private var pending: [CCPFrame]

    public var ack: HandshakeMessages.Ack? { connection.ack }

    init(connection: CCPClientConnection, outbound: WebSocketOutboundWriter, iterator: WebSocketInboundMessageStream.AsyncIterator, pending: [CCPFrame]) {
        self.connection = connection
        self.outbound = outbound
        self.iterator = iterator
        self.pending = pending
    }

    /// Encrypts and sends frames.
    public func send(_ frames: CCPFrame...) async throws {
        try await outbound.write(.binary(connection.seal(frames)))
    }

    /// The next outgoing sequence number.
    public func nextSequence() -> UInt32 { connection.nextSequence() }

    /// The next frame from the server, or `nil` when the stream closed.
    public func next() async throws -> CCPFrame? {
        while pending.isEmpty {
            guard let message = try await iterator.next() else { return nil }
            guard case .binary(let bytes) = message else { continue }
            pending += try connection.receive(bytes).frames
        }
        return pending.removeFirst()
    }

    /// Sends a Keepalive with `nonce` and waits for the echo (skipping other frames, up to 64).
    public func keepalive(nonce: String) async throws -> Bool {
        try await send(CCPFrame(type: .keepalive, channelID: 0, sequence: nextSequence(), json: "{\"nonce\":\"\(nonce)\"}"))
        for _ in 0..<64 {
            guard let frame = try await next() else { return false }
            if frame.type == .keepalive, String(buffer: frame.payload).contains("\"\(nonce)\"") { return true }
        }
        return false
    }

    public func close() async {
        try? await outbound.close(.normalClosure, reason: nil)
    }
}

/// CCP-1 over WebSocket (`GET /connect`, binary messages) with hummingbird-websocket's client.
public enum CCPWebSocketClient {
    /// Connects, runs the handshake, then `body` with the established session. Handshake failures
    /// throw ``CCPClientError`` with the server's taxonomy code.
    public static func connect<T: Sendable>(
        url: String, connection: CCPClientConnection, logger: Logger = Logger(label: "commucat.client"),
        _ body: @escaping @Sendable (CCPClientSession) async throws -> T
    ) async throws -> T {
        let result = Mutex<Result<T, any Error>?>(nil)
        try await WebSocketClient.connect(url: url, configuration: .init(maxFrameSize: 1 << 20), logger: logger) { inbound, outbound, _ in
            do {
                var connection = connection
                try await outbound.write(.binary(connection.start()))
                var iterator = inbound.messages(maxSize: 1 << 20).makeAsyncIterator()
                var frames: [CCPFrame] = []
                while !connection.isEstablished {
                    guard let message = try await iterator.next() else {
                        throw CCPClientError(code: "closed", detail: "server closed during the handshake")
                    }
                    guard case .binary(let bytes) = message else { continue }
                    let events = try connection.receive(bytes)
                    if events.outgoing.readableBytes > 0 { try await outbound.write(.binary(events.outgoing)) }
                    frames += events.frames
                }
                let session = CCPClientSession(connection: connection, outbound: outbound, iterator: iterator, pending: frames)
                let value = try await body(session)
                result.withLock { $0 = .success(value) }
            } catch {
                result.withLock { $0 = .failure(error) }
            }
        }
        guard let outcome = result.withLock({ $0 }) else { throw CCPClientError(code: "closed", detail: "WebSocket closed before the handshake") }
        return try outcome.get()
    }
}
