import HTTPTypes
import Hummingbird
import ICE
import SFUWire

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The WHIP (RFC 9725) and WHEP endpoints of SPEC §3.3:
///
///     POST   /whip/{room}                    application/sdp offer → 201, Location /whip/{room}/{id}
///     PATCH  /whip/{room}/{id}               application/trickle-ice-sdpfrag → 204
///     DELETE /whip/{room}/{id}               → 200
///     POST   /whep/{room}                    subscribe to the most recent publisher → 201
///     POST   /whep/{room}/{participant}      subscribe to that publisher → 201, Location /whep/{room}/{id}
///     PATCH  /whep/{room}/{id}, DELETE /whep/{room}/{id}
///     OPTIONS on each path                   CORS preflight
///
/// Every error is an `application/problem+json` response with a stable `code`; the routes never
/// throw, so they behave the same under any error middleware. Generic over the request context so
/// that Ops can register them on its `Router<CommuCatRequestContext>`.
public struct MediaRoutes<Backend: MediaRoomBackend>: Sendable {
    public typealias Peer = MediaPeer
    public typealias Endpoint = MediaEndpoint
    public typealias Configuration = MediaRoutesConfiguration
    public typealias CORS = MediaCORS

    public let backend: Backend
    public let configuration: Configuration
    let registry: MediaSessionRegistry

    public init(backend: Backend, configuration: Configuration) {
        self.backend = backend
        self.configuration = configuration
        self.registry = MediaSessionRegistry(
            capacity: configuration.maxSessions, maxPerIdentity: configuration.maxSessionsPerIdentity,
            maxPerAddress: configuration.maxSessionsPerIP)
    }

    /// Number of live WHIP/WHEP sessions (for metrics).
    public var sessionCount: Int { registry.count }

    /// Drops a session the engine ended on its own (ICE consent expired, publisher left): later
    /// PATCH/DELETE on its URL get 404. Does not call the backend.
    public func forget(_ session: MediaSessionID) {
        _ = registry.remove(id: session.id)
    }

    /// Registers the routes. `peer` tells who is calling from the request context (Ops:
    /// `{ _, context in .init(address: context.remoteAddress?.ipAddress, isLoopback: context.isLoopback) }`).
    public func register<Router: RouterMethods>(
        on router: Router, peer: @escaping @Sendable (Request, Router.Context) -> Peer
    ) {
        let cors = configuration.cors
        router.post("/whip/:room") { request, context in
            await publish(request, room: context.parameters.get("room") ?? "", peer: peer(request, context))
        }
        router.post("/whep/:room") { request, context in
            await subscribe(request, room: context.parameters.get("room") ?? "", publisherID: nil, peer: peer(request, context))
        }
        // The router names the third segment `id` for every method on this path; for POST it is
        // the publisher's participant id.
        router.post("/whep/:room/:id") { request, context in
            await subscribe(
                request, room: context.parameters.get("room") ?? "", publisherID: context.parameters.get("id"),
                peer: peer(request, context)
            )
        }
        for kind in [MediaSessionID.Kind.whip, .whep] {
            router.patch("/\(kind.rawValue)/:room/:id") { request, context in
                await patch(
                    request, kind: kind, room: context.parameters.get("room") ?? "", id: context.parameters.get("id") ?? "",
                    peer: peer(request, context)
                )
            }
            router.delete("/\(kind.rawValue)/:room/:id") { request, context in
                await delete(
                    request, kind: kind, room: context.parameters.get("room") ?? "", id: context.parameters.get("id") ?? "",
                    peer: peer(request, context)
                )
            }
            router.on("/\(kind.rawValue)/:room", method: .options) { _, _ in
                cors.preflight(methods: "POST, OPTIONS", acceptPost: true, acceptPatch: false)
            }
            router.on("/\(kind.rawValue)/:room/:id", method: .options) { _, _ in
                let methods = kind == .whep ? "POST, PATCH, DELETE, OPTIONS" : "PATCH, DELETE, OPTIONS"
                return cors.preflight(methods: methods, acceptPost: kind == .whep, acceptPatch: true)
            }
        }
    }

    /// Room names: see ``RoomNames``.
    static func isValidRoom(_ room: String) -> Bool { RoomNames.isValid(room) }

    /// A fresh resource id: 128 random bits in hex.
    static func makeID() -> String { RandomID.hex128() }
}

/// Unguessable ids for HTTP resources and room resume tokens.
enum RandomID {
    /// 128 bits from the system generator as 32 lowercase hex digits.
    static func hex128() -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<2).map { _ in
            let text = String(generator.next() as UInt64, radix: 16)
            return String(repeating: "0", count: 16 - text.count) + text
        }.joined()
    }
}

/// Who is calling a WHIP/WHEP route, as the integrator's request context knows it.
public struct MediaPeer: Sendable, Hashable {
    /// The client IP address as text, for rate limiting; `nil` when unknown.
    public var address: String?
    /// Loopback peers may go without a token when `auth.allow_anonymous` is on.
    public var isLoopback: Bool

    public init(address: String?, isLoopback: Bool) {
        self.address = address
        self.isLoopback = isLoopback
    }
}

/// WHIP/WHEP endpoints the rate-limit hook is asked about.
public enum MediaEndpoint: String, Sendable, Hashable {
    case whip, whep, patch, delete
}

public struct MediaRoutesConfiguration: Sendable {
    public var tokens: AccessTokens
    /// `auth.allow_anonymous`: loopback requests without `Authorization` are admitted.
    public var allowAnonymous: Bool
    public var capabilities: MediaCapabilities
    /// ICE servers for the `Link` headers of a 201 (RFC 9725 §4.6), per identity and time.
    public var iceServers: @Sendable (_ identity: String, _ now: Date) -> [ICEServerEntry]
    /// Largest offer or fragment accepted (bytes); larger bodies get 413 `body_too_large`.
    public var maxBodyBytes: Int
    /// Per-IP rate limit (Ops: ``MediaRateLimiter`` with `limits.whip_per_minute`): a refusal is
    /// answered 429 `rate_limited` with `Retry-After`. Called before the token check, so floods
    /// cost no crypto.
    public var rateLimit: @Sendable (_ peer: MediaPeer, _ endpoint: MediaEndpoint) async -> MediaRateDecision
    /// Wall clock, injected.
    public var now: @Sendable () -> Date
    public var cors: MediaCORS
    /// Most WHIP/WHEP sessions this node keeps at once.
    public var maxSessions: Int
    /// Most live WHIP/WHEP sessions of one identity (`media.max_sessions_per_identity`) and of one
    /// client address (`media.max_sessions_per_ip`); beyond them 403 `limit_exceeded`.
    public var maxSessionsPerIdentity: Int
    public var maxSessionsPerIP: Int

    public init(
        tokens: AccessTokens, allowAnonymous: Bool = false, capabilities: MediaCapabilities = .standard,
        iceServers: @escaping @Sendable (_ identity: String, _ now: Date) -> [ICEServerEntry] = { _, _ in [] },
        maxBodyBytes: Int = 64 * 1024, rateLimit: @escaping @Sendable (_ peer: MediaPeer, _ endpoint: MediaEndpoint) async -> MediaRateDecision = { _, _ in .allowed },
        now: @escaping @Sendable () -> Date = { Date() }, cors: MediaCORS = MediaCORS(), maxSessions: Int = 10_000,
        maxSessionsPerIdentity: Int = 10, maxSessionsPerIP: Int = 32
    ) {
        self.tokens = tokens
        self.allowAnonymous = allowAnonymous
        self.capabilities = capabilities
        self.iceServers = iceServers
        self.maxBodyBytes = maxBodyBytes
        self.rateLimit = rateLimit
        self.now = now
        self.cors = cors
        self.maxSessions = maxSessions
        self.maxSessionsPerIdentity = max(1, maxSessionsPerIdentity)
        self.maxSessionsPerIP = max(1, maxSessionsPerIP)
    }

    /// ICE servers from `turn.urls` / `turn.secret` / `turn.ttl` (SPEC §2, §3.1): `stun:` URLs
    /// as they are, `turn:`/`turns:` URLs with TURN REST credentials for the identity.
    public static func turnServers(
        urls: [String], secret: String?, ttl: Duration
    ) -> @Sendable (_ identity: String, _ now: Date) -> [ICEServerEntry] {
        { identity, now in
            let stun = urls.filter { $0.hasPrefix("stun:") }
            let turn = urls.filter { !$0.hasPrefix("stun:") }
            var entries: [ICEServerEntry] = []
            if !stun.isEmpty { entries.append(ICEServerEntry(urls: stun)) }
            if !turn.isEmpty, let secret {
                let credentials = TURNCredentials.make(secret: secret, identity: identity, ttl: ttl, now: now)
                entries.append(ICEServerEntry(urls: turn, credentials: credentials))
            }
            return entries
        }
    }
}
