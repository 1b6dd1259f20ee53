import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import Synchronization

/// The request context of every CommuCat HTTP route: knows the peer address (loopback checks,
/// per-IP rate limits) and the body size limit from `limits.max_body_bytes`.
public struct CommuCatRequestContext: RequestContext, RemoteAddressRequestContext {
    public var coreContext: CoreRequestContextStorage
    public let remoteAddress: SocketAddress?
    /// `limits.max_body_bytes`, set once when the server is built.
    static let bodyLimit = Atomic<Int>(1024 * 1024)

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.remoteAddress = source.channel.remoteAddress
    }

    public var maxUploadSize: Int { Self.bodyLimit.load(ordering: .relaxed) }

    /// Set by ``LoopbackTrustMiddleware`` for a loopback peer; nil otherwise.
    public var loopbackVerdict: LoopbackTrust.Verdict?

    /// True when the peer connected over loopback (127.0.0.0/8 or ::1).
    public var peerIsLoopback: Bool { Self.isLoopback(remoteAddress) }

    /// True when the peer connected over loopback and the request names this server
    /// (``LoopbackTrust``): the trust of the admin routes, dev tokens and anonymous media.
    public var isLoopback: Bool { peerIsLoopback && loopbackVerdict == .trusted }

    /// Throws unless ``isLoopback``: 403 `host_not_allowed` (DNS rebinding), `proxied_request`
    /// (through a reverse proxy) or `forbidden` (`detail`: a peer that is not loopback).
    public func requireTrustedLoopback(_ detail: String) throws(APIError) {
        guard peerIsLoopback else { throw APIError.forbidden(detail) }
        switch loopbackVerdict {
        case .trusted?:
            return
        case .hostNotAllowed(let name)?:
            throw APIError(
                .forbidden, code: "host_not_allowed",
                detail: "\(name) is not a name of this server: loopback trust needs Host localhost, 127.0.0.1, [::1] or server.domain")
        case .proxied?:
            throw APIError(
                .forbidden, code: "proxied_request",
                detail: "a request forwarded by a proxy is not trusted as loopback: set admin.token")
        case nil:
            throw APIError.forbidden(detail)
        }
    }

    /// For WebSocket upgrades (no router middleware): a loopback peer whose request carries no
    /// proxy header. The `Host`/`Origin` check of upgrades is done by ``ListenerGuards/upgrades(_:trust:)``.
    public static func isLoopback(_ remoteAddress: SocketAddress?, request: HTTPRequest) -> Bool {
        isLoopback(remoteAddress) && LoopbackTrust(names: []).verdict(for: request) != .proxied
    }

    /// True for 127.0.0.0/8, ::1 and Unix sockets.
    static func isLoopback(_ remoteAddress: SocketAddress?) -> Bool {
        switch remoteAddress {
        case .v4(let address)?:
            return address.address.sin_addr.s_addr & 0x0000_00ff == 0x0000_007f
        case .v6(let address)?:
            var loopback = in6addr_loopback
            var peer = address.address.sin6_addr
            return memcmp(&peer, &loopback, MemoryLayout<in6_addr>.size) == 0
        case .unixDomainSocket?:
            return true
        case nil:
            return false
        }
    }
}
