import Foundation

/// Everything `/connect`, pairing and devices need from `CommuCatConfig` (Ops maps it).
public struct ConnectConfiguration: Sendable {
    /// `server.domain`: signed into every device proof.
    public var domain: String
    /// `crypto.prologue`.
    public var prologue: String
    /// `server.auto_approve_devices`.
    public var autoApproveDevices: Bool
    /// `crypto.noise_rotation_interval`, `crypto.noise_grace`.
    public var noiseRotationInterval: Duration
    public var noiseGrace: Duration
    /// Seconds between keepalives (the Ack's `keepalive_interval`); a session silent for 3 intervals closes.
    public var keepaliveInterval: Int
    /// Pairing codes live this long.
    public var pairingTTL: Duration
    /// Claim attempts allowed per code.
    public var pairingMaxAttempts: Int
    /// REST bearer sessions stay valid this long after their last activity.
    public var sessionTTL: Duration
    /// Per-IP limits: hits per window.
    public var connectRateLimit: RateLimit
    public var pairClaimRateLimit: RateLimit
    public var pairCreateRateLimit: RateLimit
    /// Long-poll and SSE relay streams without upstream or downstream traffic close after this long.
    public var relayStreamIdle: Duration
    /// How long `GET /connect/{id}` (long-poll) waits for downstream data.
    public var longPollWait: Duration
    /// `limits.handshake_timeout`: a `/connect` stream must finish its handshake this soon after it
    /// opened (an absolute deadline; bytes trickling in do not extend it).
    public var handshakeTimeout: Duration = .seconds(10)
    /// `limits.connect_handshakes_per_ip`: `/connect` streams from one address still in their
    /// handshake at once (HTTP/2 can multiplex many streams on one socket).
    public var handshakesPerAddress = 16

    /// `turn.urls` (server-info `ice_servers`; credentials come from `/rtc` and WHIP).
    public var turnURLs: [String] = []
    /// server-info `media`: the media plane's capabilities (Ops or the SFU fills it).
    public var mediaCapabilities: [String: [String]] = [
        "audio_codecs": ["opus", "red"], "video_codecs": ["VP8", "VP9", "H264", "AV1"],
        // What this build does (README's feature table): no simulcast/SVC layer switching, FEC,
        // congestion control or CCP-1 calls yet.
        "signalling": ["whip", "whep", "rtc"], "features": ["nack", "rtx", "pli", "active-speakers"],
    ]

    public struct RateLimit: Sendable, Hashable {
        public var limit: Int
        public var window: Duration
        public init(limit: Int, window: Duration) {
            self.limit = limit
            self.window = window
        }
    }

    public init(
        domain: String = "localhost", prologue: String = "commucat", autoApproveDevices: Bool = false,
        noiseRotationInterval: Duration = .seconds(30 * 86_400), noiseGrace: Duration = .seconds(7 * 86_400), keepaliveInterval: Int = 30,
        pairingTTL: Duration = .seconds(600), pairingMaxAttempts: Int = 5, sessionTTL: Duration = .seconds(30 * 86_400),
        connectRateLimit: RateLimit = .init(limit: 60, window: .seconds(60)),
        pairClaimRateLimit: RateLimit = .init(limit: 5, window: .seconds(60)),
        pairCreateRateLimit: RateLimit = .init(limit: 20, window: .seconds(60)),
        relayStreamIdle: Duration = .seconds(120), longPollWait: Duration = .seconds(25)
    ) {
        self.domain = domain
        self.prologue = prologue
        self.autoApproveDevices = autoApproveDevices
        self.noiseRotationInterval = noiseRotationInterval
        self.noiseGrace = noiseGrace
        self.keepaliveInterval = keepaliveInterval
        self.pairingTTL = pairingTTL
        self.pairingMaxAttempts = pairingMaxAttempts
        self.sessionTTL = sessionTTL
        self.connectRateLimit = connectRateLimit
        self.pairClaimRateLimit = pairClaimRateLimit
        self.pairCreateRateLimit = pairCreateRateLimit
        self.relayStreamIdle = relayStreamIdle
        self.longPollWait = longPollWait
    }
}
