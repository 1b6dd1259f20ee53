import Foundation
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

    /// True when the peer connected over loopback (127.0.0.0/8 or ::1).
    public var isLoopback: Bool { Self.isLoopback(remoteAddress) }

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
