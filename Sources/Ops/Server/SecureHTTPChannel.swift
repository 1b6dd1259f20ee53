import Hummingbird
import HummingbirdCore
import HummingbirdHTTP2
import HummingbirdWebSocket
import Logging
import NIOCore
import NIOSSL
import NIOTLS

/// The HTTPS listener's connections: TLS, then by ALPN (RFC 7301) either HTTP/2 or HTTP/1.1 with
/// the WebSocket upgrades (`/rtc`, `/connect`). Hummingbird's `http2Upgrade` falls back to plain
/// HTTP/1.1 without upgrades, so browsers on `https://` could not open `wss://…/rtc`; this channel
/// composes Hummingbird's own HTTP/2 channel and its HTTP/1.1 WebSocket channel behind one TLS
/// handshake. A connection that negotiates no protocol is HTTP/1.1 (RFC 7301 §3.2 leaves the
/// choice to the server); any other protocol closes it.
struct SecureHTTPChannel: HTTPChannelHandler {
    typealias ShouldUpgrade = @Sendable (HTTPRequest, any Channel, Logger) async throws
        -> ShouldUpgradeResult<WebSocketDataHandler<HTTP1WebSocketUpgradeChannel.Context>>

    enum Negotiated: Sendable {
        case http1(HTTP1WebSocketUpgradeChannel.Value)
        case http2(HTTP2Channel.Value)
    }

    struct Value: ServerChildChannelValue {
        let negotiated: EventLoopFuture<Negotiated>
        let channel: any Channel
    }

    /// `h2` and `http/1.1` were not offered by the client.
    struct UnsupportedProtocol: Error, CustomStringConvertible {
        let token: String
        var description: String { "ALPN negotiated \"\(token)\"; this listener speaks h2 and http/1.1" }
    }

    private let context: NIOSSLContext
    private let http1: HTTP1WebSocketUpgradeChannel
    private let http2: HTTP2Channel
    private let guards: ListenerGuards
    let responder: HTTPChannelHandler.Responder

    /// The TLS configuration with the listener's ALPN protocols, most preferred first.
    static func context(_ tlsConfiguration: TLSConfiguration) throws -> NIOSSLContext {
        var tls = tlsConfiguration
        tls.applicationProtocols = ["h2", "http/1.1"]
        return try NIOSSLContext(configuration: tls)
    }

    /// `guards`: the connection caps (checked before the TLS handshake), the TLS handshake
    /// timeout, and then the HTTP/1 head/idle timeouts or the HTTP/2 idle timeout (Hummingbird's
    /// GOAWAY at `limits.http_idle_timeout` without open streams, a hard close one head timeout later).
    init(context: NIOSSLContext, responder: @escaping HTTPChannelHandler.Responder, shouldUpgrade: @escaping ShouldUpgrade, guards: ListenerGuards) {
        self.context = context
        self.guards = guards
        http1 = HTTP1WebSocketUpgradeChannel(
            responder: ListenerGuards.http1Responder(responder), configuration: .init(), shouldUpgrade: shouldUpgrade)
        http2 = HTTP2Channel(responder: ListenerGuards.http2Responder(responder), configuration: .init(idleTimeout: guards.idleTimeout))
        self.responder = responder
    }

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        let http1 = self.http1
        let http2 = self.http2
        let guards = self.guards
        return channel.eventLoop.makeCompletedFuture {
            try guards.admit(channel)
            try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: context))
            let negotiation = NIOTypedApplicationProtocolNegotiationHandler<Negotiated> { result in
                switch result {
                case .negotiated("h2"):
                    return channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(guards.timeoutHandler(.http2))
                    }.flatMap { http2.setup(channel: channel, logger: logger).map { .http2($0) } }
                case .negotiated("http/1.1"), .fallback:
                    return channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(guards.timeoutHandler(.http1))
                    }.flatMap { http1.setup(channel: channel, logger: logger).map { .http1($0) } }
                case .negotiated(let token):
                    return channel.close().flatMapThrowing { throw UnsupportedProtocol(token: token) }
                }
            }
            try channel.pipeline.syncOperations.addHandler(negotiation)
            closeUnlessNegotiated(channel, within: guards.tlsHandshakeTimeout, negotiated: negotiation.protocolNegotiationResult)
            return Value(negotiated: negotiation.protocolNegotiationResult, channel: channel)
        }
    }

    func handle(value: Value, logger: Logger) async {
        do {
            switch try await value.negotiated.get() {
            case .http1(let connection): await http1.handle(value: connection, logger: logger)
            case .http2(let connection): await http2.handle(value: connection, logger: logger)
            }
        } catch {
            logger.debug("TLS connection ended before a protocol was chosen", metadata: ["error": "\(error)"])
        }
    }
}

extension HTTPServerBuilder {
    /// HTTPS with HTTP/2 and HTTP/1.1 WebSocket upgrades (see ``SecureHTTPChannel``). Throws at
    /// start-up, not on the first connection, when the certificate or key is unusable.
    static func secureWithWebSockets(
        tlsConfiguration: TLSConfiguration, shouldUpgrade: @escaping SecureHTTPChannel.ShouldUpgrade, guards: ListenerGuards
    ) throws -> HTTPServerBuilder {
        let context = try SecureHTTPChannel.context(tlsConfiguration)
        return HTTPServerBuilder { responder in
            SecureHTTPChannel(context: context, responder: responder, shouldUpgrade: shouldUpgrade, guards: guards)
        }
    }
}
