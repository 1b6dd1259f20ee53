import Logging
import Metrics
import Redis

/// The limits that keep one client from holding the media plane's memory (issue 14 item 3), as
/// the `limit` label of `commucat_media_limit_rejections_total`. Each refusal carries the stable
/// code `limit_exceeded` (HTTP 403 problem+json, or a `/rtc` `error` message), except the rate
/// limit, which is `rate_limited` (HTTP 429 with `Retry-After`).
public enum MediaLimit: String, Sendable, CaseIterable {
    /// `limits.whip_per_minute`: WHIP/WHEP POSTs per client address per minute.
    case whipPerMinute = "whip_per_minute"
    /// `media.max_tracks_per_offer`: m-sections per offer.
    case tracksPerOffer = "max_tracks_per_offer"
    /// `media.max_sessions_per_identity`: live WHIP/WHEP sessions per token identity.
    case sessionsPerIdentity = "max_sessions_per_identity"
    /// `media.max_sessions_per_ip`: live WHIP/WHEP sessions per client address.
    case sessionsPerIP = "max_sessions_per_ip"
    /// `media.retransmission_budget_bytes`: the media worker's retransmission memory.
    case retransmissionBudget = "retransmission_budget"
    /// `rooms.max_participants_per_identity`: `/rtc` participants per token identity.
    case participantsPerIdentity = "max_participants_per_identity"
    /// `rooms.send_queue_messages`: a `/rtc` client that fell this far behind is closed.
    case sendQueue = "send_queue_messages"
}

enum MediaLimits {
    /// The stable code of every limit refusal but the rate limit.
    static let code = "limit_exceeded"

    private static let counters: [MediaLimit: Counter] = Dictionary(
        uniqueKeysWithValues: MediaLimit.allCases.map {
            ($0, Counter(label: "commucat_media_limit_rejections_total", dimensions: [("limit", $0.rawValue)]))
        })

    /// Counts one refusal by `limit`.
    static func rejected(_ limit: MediaLimit) {
        counters[limit]?.increment()
    }
}

/// The decision of the WHIP/WHEP rate limit for one request.
public struct MediaRateDecision: Sendable, Hashable {
    public var allowed: Bool
    /// Seconds until a refused request may succeed (`Retry-After`, RFC 9110 §10.2.3); 0 when allowed.
    public var retryAfterSeconds: Int

    public init(allowed: Bool, retryAfterSeconds: Int = 0) {
        self.allowed = allowed
        self.retryAfterSeconds = allowed ? 0 : max(1, retryAfterSeconds)
    }

    public static let allowed = MediaRateDecision(allowed: true)
    public static func limited(retryAfterSeconds: Int) -> MediaRateDecision {
        MediaRateDecision(allowed: false, retryAfterSeconds: retryAfterSeconds)
    }
}

/// The per-address WHIP/WHEP rate limit (`limits.whip_per_minute`): a fixed window per client
/// address in the node's ``EphemeralStore`` — the same counters `/connect` uses
/// (`limits.connect_per_minute`), shared between nodes when the store is Redis. Only POSTs
/// (each creates a transport) are counted; PATCH and DELETE need a token and a live session of
/// that identity. A failing store allows (and logs), as for `/connect`.
public struct MediaRateLimiter: Sendable {
    public let store: any EphemeralStore
    public let limit: Int
    public let window: Duration
    private let logger: Logger

    public init(store: any EphemeralStore, perMinute: Int, window: Duration = .seconds(60), logger: Logger = Logger(label: "commucat.media")) {
        self.store = store
        self.limit = max(1, perMinute)
        self.window = window
        self.logger = logger
    }

    public func decide(_ peer: MediaPeer, _ endpoint: MediaEndpoint) async -> MediaRateDecision {
        guard endpoint == .whip || endpoint == .whep, let address = peer.address else { return .allowed }
        do {
            let decision = try await store.hit(key: "rl:whip:\(address)", limit: limit, window: window, strategy: .fixedWindow)
            guard !decision.allowed else { return .allowed }
            MediaLimits.rejected(.whipPerMinute)
            let (seconds, attoseconds) = decision.retryAfter.components
            return .limited(retryAfterSeconds: Int(clamping: seconds) + (attoseconds > 0 ? 1 : 0))
        } catch {
            logger.warning("media rate limiter unavailable", metadata: ["error": "\(error)"])
            return .allowed
        }
    }
}
