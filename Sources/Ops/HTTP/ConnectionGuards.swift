import Foundation
import Hummingbird
import HummingbirdCore
import HummingbirdWebSocket
import Logging
import Metrics
import NIOCore
import Synchronization

/// The connection limits and timeouts of the HTTP(S) listeners (docs/SECURITY.md, "Listeners"): a
/// cap on open connections per client address and in total, checked when a connection is accepted,
/// and the HTTP/1 request-head, idle and TLS-handshake timeouts. One value is shared by both
/// listeners, so the caps count their connections together.
struct ListenerGuards: Sendable {
    let limiter: ConnectionLimiter
    /// `limits.header_timeout`.
    let headerTimeout: Duration
    /// `limits.tls_handshake_timeout`.
    let tlsHandshakeTimeout: Duration
    /// `limits.http_idle_timeout`.
    let idleTimeout: Duration

    init(config: CommuCatConfig) {
        self.init(
            limiter: ConnectionLimiter(perAddress: config.connectionsPerIP, total: config.maxConnections),
            headerTimeout: config.headerTimeout, tlsHandshakeTimeout: config.tlsHandshakeTimeout, idleTimeout: config.httpIdleTimeout)
    }

    init(limiter: ConnectionLimiter, headerTimeout: Duration, tlsHandshakeTimeout: Duration, idleTimeout: Duration) {
        self.limiter = limiter
        self.headerTimeout = headerTimeout
        self.tlsHandshakeTimeout = tlsHandshakeTimeout
        self.idleTimeout = idleTimeout
    }

    /// The timeout handler of a connection that speaks `mode` (plaintext side).
    func timeoutHandler(_ mode: HTTPTimeoutState.Mode) -> HTTPTimeoutHandler {
        HTTPTimeoutHandler(mode: mode, headTimeout: TimeAmount(headerTimeout), idleTimeout: TimeAmount(idleTimeout))
    }

    /// Counts `channel` against the caps, or (over a cap) counts the refusal and puts a handler
    /// first in its pipeline that closes it as soon as it is active. Call first in a child
    /// channel's setup, on its event loop. A refused connection costs no TLS handshake, no parser.
    func admit(_ channel: any Channel) throws {
        let address = channel.remoteAddress?.ipAddress ?? "local"
        switch limiter.admit(address) {
        case .admitted:
            let limiter = self.limiter
            channel.closeFuture.whenComplete { _ in limiter.release(address) }
        case .refused(let reason):
            Counter(label: "commucat_http_connections_refused_total", dimensions: [("reason", reason.rawValue)]).increment()
            try channel.pipeline.syncOperations.addHandler(RefuseConnectionHandler(), position: .first)
        }
    }

    /// The responder for HTTP/1.1 connections: tells the connection's ``HTTPTimeoutHandler`` when a
    /// request starts and when its response has been written, so that a request in progress (a
    /// streaming response: SSE, long-poll) is never cut by a timeout.
    static func http1Responder(_ responder: @escaping HTTPChannelHandler.Responder) -> HTTPChannelHandler.Responder {
        { request, writer, channel in
            channel.pipeline.fireUserInboundEventTriggered(HTTPConnectionEvent.requestStarted)
            defer { channel.pipeline.fireUserInboundEventTriggered(HTTPConnectionEvent.requestFinished) }
            try await responder(request, writer, channel)
        }
    }

    /// The responder for HTTP/2 streams: the same, told to the connection (the stream's parent).
    static func http2Responder(_ responder: @escaping HTTPChannelHandler.Responder) -> HTTPChannelHandler.Responder {
        { request, writer, channel in
            let connection = channel.parent
            connection?.pipeline.fireUserInboundEventTriggered(HTTPConnectionEvent.requestStarted)
            defer { connection?.pipeline.fireUserInboundEventTriggered(HTTPConnectionEvent.requestFinished) }
            try await responder(request, writer, channel)
        }
    }

    /// The WebSocket upgrade decision: a request head is complete (no head timeout while it is
    /// decided), and an upgraded connection (`/rtc`, `/connect`) is never cut by the HTTP timeouts
    /// (it has its own keepalive). A loopback peer whose `Host`/`Origin` is not one of this
    /// server's names is not upgraded (DNS rebinding; see ``LoopbackTrust``).
    static func upgrades(_ shouldUpgrade: @escaping SecureHTTPChannel.ShouldUpgrade, trust: LoopbackTrust) -> SecureHTTPChannel.ShouldUpgrade {
        { request, channel, logger in
            channel.pipeline.fireUserInboundEventTriggered(HTTPConnectionEvent.requestStarted)
            if CommuCatRequestContext.isLoopback(channel.remoteAddress), case .hostNotAllowed = trust.verdict(for: request) {
                Counter(label: "commucat_http_rejections_total", dimensions: [("code", "host_not_allowed")]).increment()
                return .dontUpgrade
            }
            let result = try await shouldUpgrade(request, channel, logger)
            if case .upgrade = result { channel.pipeline.fireUserInboundEventTriggered(HTTPConnectionEvent.upgraded) }
            return result
        }
    }
}

/// Open connections per client address and in total. Pure bookkeeping (unit-tested).
final class ConnectionLimiter: Sendable {
    enum Refusal: String, Sendable { case perAddress = "per_ip", total }
    enum Decision: Equatable, Sendable { case admitted, refused(Refusal) }

    let perAddress: Int
    let total: Int
    private let state = Mutex<(total: Int, byAddress: [String: Int])>((0, [:]))

    init(perAddress: Int, total: Int) {
        self.perAddress = perAddress
        self.total = total
    }

    func admit(_ address: String) -> Decision {
        let (decision, open): (Decision, Int) = state.withLock { state in
            if state.total >= total { return (.refused(.total), state.total) }
            let mine = state.byAddress[address, default: 0]
            if mine >= perAddress { return (.refused(.perAddress), state.total) }
            state.byAddress[address] = mine + 1
            state.total += 1
            return (.admitted, state.total)
        }
        if decision == .admitted { Gauge(label: "commucat_http_connections_open").record(open) }
        return decision
    }

    /// One admitted connection of `address` closed.
    func release(_ address: String) {
        let open: Int = state.withLock { state in
            guard let mine = state.byAddress[address] else { return state.total }
            state.byAddress[address] = mine > 1 ? mine - 1 : nil
            state.total -= 1
            return state.total
        }
        Gauge(label: "commucat_http_connections_open").record(open)
    }

    var openConnections: Int { state.withLock { $0.total } }
    func openConnections(of address: String) -> Int { state.withLock { $0.byAddress[address, default: 0] } }
}

/// First in the pipeline of a connection over a cap: closes it when it becomes active and drops
/// whatever it sends.
final class RefuseConnectionHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive {
            let channel = context.channel
            channel.eventLoop.execute { channel.close(promise: nil) }
        }
    }

    func channelActive(context: ChannelHandlerContext) {
        context.close(promise: nil)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {}
}

/// Told to a connection's ``HTTPTimeoutHandler`` through its pipeline (user events).
enum HTTPConnectionEvent: Sendable {
    case requestStarted
    case requestFinished
    case upgraded
}

/// What the timeout handler does next; pure state (unit-tested without sockets).
struct HTTPTimeoutState: Equatable {
    enum Timer: Equatable { case none, head, idle }
    enum Mode: Equatable {
        /// HTTP/1.1: the head timer runs from the start and from the first byte of a keep-alive
        /// request; the idle timer between requests.
        case http1
        /// HTTP/2: only the idle timer, while no stream is being answered; bytes do not reset it.
        case http2
    }

    let mode: Mode
    private(set) var inFlight = 0
    private(set) var upgraded = false
    private(set) var timer: Timer = .none

    init(mode: Mode) { self.mode = mode }

    /// The connection is active: the timer to arm.
    mutating func started() -> Timer {
        timer = mode == .http1 ? .head : .idle
        return timer
    }

    /// Bytes arrived: `.head` when a keep-alive connection starts its next request (re-arm), else nil.
    mutating func bytesReceived() -> Timer? {
        guard mode == .http1, !upgraded, inFlight == 0, timer == .idle else { return nil }
        timer = .head
        return .head
    }

    /// The event's effect: the timer to arm, `.none` to cancel it, nil to leave it.
    mutating func handle(_ event: HTTPConnectionEvent) -> Timer? {
        switch event {
        case .requestStarted:
            inFlight += 1
            timer = .none
            return Timer.none
        case .requestFinished:
            inFlight = max(0, inFlight - 1)
            guard inFlight == 0, !upgraded else { return nil }
            timer = .idle
            return .idle
        case .upgraded:
            upgraded = true
            timer = .none
            return Timer.none
        }
    }

    /// The timer fired: the `kind` label of `commucat_http_timeouts_total` (close the connection).
    mutating func fired() -> String? {
        defer { timer = .none }
        switch timer {
        case .none: return nil
        case .head: return "request_head"
        case .idle: return "idle"
        }
    }
}

/// Closes an HTTP connection that does not complete a request head in time or stays idle too long
/// (Slowloris). Sits on the plaintext bytes (first, or right after TLS), so it sees a partial head
/// byte by byte; request boundaries come as ``HTTPConnectionEvent``s from the responder. After a
/// WebSocket upgrade it only passes bytes through.
final class HTTPTimeoutHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    private var state: HTTPTimeoutState
    private let headTimeout: TimeAmount
    private let idleTimeout: TimeAmount
    private var scheduled: Scheduled<Void>?

    init(mode: HTTPTimeoutState.Mode, headTimeout: TimeAmount, idleTimeout: TimeAmount) {
        self.state = HTTPTimeoutState(mode: mode)
        self.headTimeout = headTimeout
        self.idleTimeout = idleTimeout
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { arm(state.started(), context: context) }
    }

    func handlerRemoved(context: ChannelHandlerContext) { cancel() }

    func channelActive(context: ChannelHandlerContext) {
        if scheduled == nil, state.timer == .none, state.inFlight == 0, !state.upgraded { arm(state.started(), context: context) }
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        cancel()
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if let timer = state.bytesReceived() { arm(timer, context: context) }
        context.fireChannelRead(data)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        guard let event = event as? HTTPConnectionEvent else {
            context.fireUserInboundEventTriggered(event)
            return
        }
        if let timer = state.handle(event) { arm(timer, context: context) }
    }

    private func arm(_ timer: HTTPTimeoutState.Timer, context: ChannelHandlerContext) {
        cancel()
        let delay: TimeAmount
        switch timer {
        case .none: return
        case .head: delay = headTimeout
        // HTTP/2: Hummingbird sends GOAWAY at the idle timeout; this closes a peer that ignores it.
        case .idle: delay = state.mode == .http1 ? idleTimeout : idleTimeout + headTimeout
        }
        let channel = context.channel
        scheduled = context.eventLoop.assumeIsolated().scheduleTask(in: delay) { [self] in
            scheduled = nil
            guard let kind = state.fired() else { return }
            Counter(label: "commucat_http_timeouts_total", dimensions: [("kind", kind)]).increment()
            channel.close(promise: nil)
        }
    }

    private func cancel() {
        scheduled?.cancel()
        scheduled = nil
    }
}

/// Closes an HTTPS connection whose TLS handshake and ALPN have not completed within
/// `limits.tls_handshake_timeout` (a peer that connects and never sends a ClientHello).
func closeUnlessNegotiated<T>(_ channel: any Channel, within timeout: Duration, negotiated: EventLoopFuture<T>) {
    let task = channel.eventLoop.scheduleTask(in: TimeAmount(timeout)) {
        Counter(label: "commucat_http_timeouts_total", dimensions: [("kind", "tls_handshake")]).increment()
        channel.close(promise: nil)
    }
    negotiated.whenComplete { _ in task.cancel() }
    channel.closeFuture.whenComplete { _ in task.cancel() }
}

/// The plain HTTP listener's connections: HTTP/1.1 with the WebSocket upgrades (`/rtc`,
/// `/connect`), behind the connection caps and the head/idle timeouts of ``ListenerGuards``.
struct PlainHTTPChannel: HTTPChannelHandler {
    typealias Value = HTTP1WebSocketUpgradeChannel.Value

    private let http1: HTTP1WebSocketUpgradeChannel
    private let guards: ListenerGuards
    let responder: HTTPChannelHandler.Responder

    init(responder: @escaping HTTPChannelHandler.Responder, shouldUpgrade: @escaping SecureHTTPChannel.ShouldUpgrade, guards: ListenerGuards) {
        self.guards = guards
        self.responder = ListenerGuards.http1Responder(responder)
        http1 = HTTP1WebSocketUpgradeChannel(responder: self.responder, configuration: .init(), shouldUpgrade: shouldUpgrade)
    }

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        let guards = self.guards
        let http1 = self.http1
        return channel.eventLoop.makeCompletedFuture {
            try guards.admit(channel)
            try channel.pipeline.syncOperations.addHandler(guards.timeoutHandler(.http1))
        }.flatMap {
            http1.setup(channel: channel, logger: logger)
        }
    }

    func handle(value: Value, logger: Logger) async {
        await http1.handle(value: value, logger: logger)
    }
}

extension HTTPServerBuilder {
    /// Plain HTTP/1.1 with WebSocket upgrades (see ``PlainHTTPChannel``).
    static func guardedHTTP1(shouldUpgrade: @escaping SecureHTTPChannel.ShouldUpgrade, guards: ListenerGuards) -> HTTPServerBuilder {
        HTTPServerBuilder { responder in
            PlainHTTPChannel(responder: responder, shouldUpgrade: shouldUpgrade, guards: guards)
        }
    }
}
