import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdWebSocket
import Logging
import Messaging
import NIOCore

/// The HTTP side of `/connect` (SPEC §4.3), pairing, devices and server-info (SPEC §5).
///
/// Ops wiring: `ConnectRoutes(service:).register(on: router)` for the REST and HTTP transports,
/// and `.http1WebSocketUpgrade(shouldUpgrade: routes.webSocketShouldUpgrade)` as the plain HTTP
/// listener's server builder for `GET /connect` with `Upgrade: websocket`.
public struct ConnectRoutes: Sendable {
    public let service: ConnectService
    /// Largest WebSocket message accepted (a CCP unit is at most 65535 bytes; a plaintext frame in
    /// the handshake is small), and largest `POST /connect/{id}` upstream body.
    public static let maxMessageSize = 1 << 20

    /// Friends REST routes are registered when given.
    public let messaging: MessagingService?

    public init(service: ConnectService, messaging: MessagingService? = nil) {
        self.service = service
        self.messaging = messaging
    }

    public func register<Context: RequestContext & RemoteAddressRequestContext>(on router: Router<Context>) {
        ServerInfoRoute(service: service).register(on: router)
        PairingRoutes(service: service).register(on: router)
        DeviceRoutes(service: service).register(on: router)
        if let messaging { FriendsRoutes(service: service, messaging: messaging).register(on: router) }
        let service = self.service

        router.post("/connect") { request, context in try await Self.postConnect(request, context, service) }
        router.get("/connect") { request, context in try await Self.getConnect(request, context, service) }
        router.get("/connect/{stream}") { request, context in try await Self.poll(request, context, service) }
        router.post("/connect/{stream}") { request, context in try await Self.upstream(request, context, service) }
    }

    /// For `.http1WebSocketUpgrade(shouldUpgrade:)`: upgrades `GET /connect` and nothing else.
    public var webSocketShouldUpgrade:
        @Sendable (HTTPRequest, any Channel, Logger) async throws -> ShouldUpgradeResult<WebSocketDataHandler<HTTP1WebSocketUpgradeChannel.Context>>
    {
        let routes = self
        return { request, channel, _ in
            guard let handler = routes.webSocketHandler(for: request, remoteAddress: channel.remoteAddress) else { return .dontUpgrade }
            return .upgrade([:]) { inbound, outbound, _ in await handler(inbound, outbound) }
        }
    }

    /// The `/connect` WebSocket session for `request`, or nil when the path is not `/connect`; for a
    /// listener whose upgrade closure also serves other paths (e.g. `/rtc`).
    public func webSocketHandler(for request: HTTPRequest, remoteAddress: SocketAddress?)
        -> (@Sendable (WebSocketInboundStream, WebSocketOutboundWriter) async -> Void)?
    {
        guard request.path?.split(separator: "?").first == "/connect" else { return nil }
        let service = self.service
        let remote = remoteAddress?.ipAddress ?? "unknown"
        return { inbound, outbound in
            let binary = inbound.messages(maxSize: Self.maxMessageSize).compactMap { @Sendable message -> ByteBuffer? in
                if case .binary(let buffer) = message { return buffer }
                return nil
            }
            await service.serve(inbound: binary, outbound: WebSocketConnectOutbound(writer: outbound), transport: "websocket", remoteAddress: remote)
        }
    }

    static func duplexResponse(request: Request, service: ConnectService, remote: String) -> Response {
        let body = request.body
        return Response(
            status: .ok, headers: [.contentType: "application/octet-stream", .cacheControl: "no-store"],
            body: ResponseBody { writer in
                let (stream, continuation) = AsyncStream.makeStream(of: ByteBuffer.self)
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask {
                        await service.serve(inbound: body, outbound: StreamConnectOutbound(continuation: continuation), transport: "http2", remoteAddress: remote)
                        continuation.finish()
                    }
                    for await chunk in stream { try await writer.write(chunk) }
                    group.cancelAll()
                }
                try await writer.finish(nil)
            })
    }

    static func sseResponse(service: ConnectService, remote: String) -> Response {
        let stream = service.relays.create(mode: .sse)
        return Response(
            status: .ok, headers: [.contentType: "text/event-stream", .cacheControl: "no-store"],
            body: ResponseBody { writer in
                defer { service.relays.remove(id: stream.id) }
                try await writer.write(ByteBuffer(string: "event: stream\ndata: {\"stream_id\":\"\(stream.id)\"}\n\n"))
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask {
                        await service.serve(inbound: stream.upstream, outbound: stream, transport: "sse", remoteAddress: remote)
                    }
                    while true {
                        let (outputs, closed) = await stream.take(maxWait: .seconds(15))
                        if outputs.isEmpty && !closed { try await writer.write(ByteBuffer(string: ": ping\n\n")) }
                        for output in outputs { try await writer.write(ByteBuffer(string: RelayEncoding.sseEvent(output))) }
                        if closed { break }
                    }
                    group.cancelAll()
                }
                try await writer.finish(nil)
            })
    }

    static func postConnect<Context: RequestContext & RemoteAddressRequestContext>(_ request: Request, _ context: Context, _ service: ConnectService) async throws -> Response {
        let remote = remoteAddressString(context)
        switch request.uri.queryParameters.get("mode") {
        case nil, "duplex":
            return Self.duplexResponse(request: request, service: service, remote: remote)
        case "sse":
            return Self.sseResponse(service: service, remote: remote)
        case "long-poll":
            let stream = service.relays.create(mode: .longPoll)
            Task {
                await service.serve(inbound: stream.upstream, outbound: stream, transport: "long-poll", remoteAddress: remote)
                // Leaves the last outputs for one more poll, then forgets the stream.
                try? await Task.sleep(for: service.configuration.longPollWait * 2)
                service.relays.remove(id: stream.id)
            }
            let document: [String: String] = ["stream_id": stream.id, "mode": "long-poll"]
            return JSONBody.response(document, status: .created)
        case let other?:
            throw SignallingAPIError.badRequest("bad_mode", "mode \(other.prefix(32)) is not duplex, sse or long-poll")
        }
    }

    static func getConnect<Context: RequestContext & RemoteAddressRequestContext>(_ request: Request, _ context: Context, _ service: ConnectService) async throws -> Response {
        guard request.uri.queryParameters.get("mode") == "sse" else {
            throw SignallingAPIError(
                .upgradeRequired, code: "upgrade_required",
                detail: "GET /connect needs Upgrade: websocket (HTTP/1.1 listener) or ?mode=sse; POST /connect is the HTTP/2 duplex stream")
        }
        return Self.sseResponse(service: service, remote: remoteAddressString(context))
    }

    static func poll<Context: RequestContext & RemoteAddressRequestContext>(_ request: Request, _ context: Context, _ service: ConnectService) async throws -> Response {
        let id = try context.parameters.require("stream")
        guard let stream = service.relays.stream(id: id), stream.mode == .longPoll else {
            throw SignallingAPIError(.notFound, code: "unknown_stream", detail: "no such long-poll stream")
        }
        let (outputs, closed) = await stream.take(maxWait: service.configuration.longPollWait)
        if closed { service.relays.remove(id: id) }
        if outputs.isEmpty && closed {
            throw SignallingAPIError(.gone, code: "stream_closed", detail: "the stream has ended")
        }
        let body = outputs.map(RelayEncoding.ndjsonLines).joined()
        return Response(
            status: .ok, headers: [.contentType: "application/x-ndjson", .cacheControl: "no-store"],
            body: .init(byteBuffer: ByteBuffer(string: body)))
    }

    static func upstream<Context: RequestContext & RemoteAddressRequestContext>(_ request: Request, _ context: Context, _ service: ConnectService) async throws -> Response {
        let id = try context.parameters.require("stream")
        guard let stream = service.relays.stream(id: id) else {
            throw SignallingAPIError(.notFound, code: "unknown_stream", detail: "no such sse or long-poll stream")
        }
        var request = request
        let bytes: ByteBuffer
        do {
            bytes = try await request.collectBody(upTo: Self.maxMessageSize)
        } catch {
            throw SignallingAPIError(.contentTooLarge, code: "body_too_large", detail: "upstream chunk exceeds \(Self.maxMessageSize) bytes")
        }
        guard stream.pushUpstream(bytes) else {
            throw SignallingAPIError(.tooManyRequests, code: "stream_overloaded", detail: "more than \(RelayStream.maxUpstreamChunks) upstream chunks waiting; the stream is closed")
        }
        return Response(status: .noContent)
    }
}

/// WebSocket downstream: each output is one binary message.
struct WebSocketConnectOutbound: ConnectOutbound {
    let writer: WebSocketOutboundWriter

    func write(_ output: ConnectOutput) async throws {
        try await writer.write(.binary(output.bytes))
    }

    func close() async {
        try? await writer.close(.normalClosure, reason: nil)
    }
}

/// HTTP/2 duplex downstream: bytes go to the response body writer through a stream.
struct StreamConnectOutbound: ConnectOutbound {
    let continuation: AsyncStream<ByteBuffer>.Continuation

    struct Gone: Error {}

    func write(_ output: ConnectOutput) async throws {
        if case .terminated = continuation.yield(output.bytes) { throw Gone() }
    }

    func close() async {
        continuation.finish()
    }
}
