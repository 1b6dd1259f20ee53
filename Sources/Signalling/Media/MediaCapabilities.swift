import SFUWire

/// The media kinds an m-section can carry that the SFU forwards.
public enum MediaKind: String, Hashable, Sendable {
    case audio, video
}

/// One codec the SFU forwards, in the SFU's preference order (SPEC §3.2).
public struct SupportedCodec: Hashable, Sendable {
    public var kind: MediaKind
    /// Encoding name as in `a=rtpmap`, compared case-insensitively (RFC 8866 §6.6).
    public var name: String
    public var clockRate: UInt32
    /// Audio channels; `nil` means the rtpmap omits it (one channel, RFC 8866 §6.6).
    public var channels: Int?

    public init(kind: MediaKind, name: String, clockRate: UInt32, channels: Int? = nil) {
        self.kind = kind
        self.name = name
        self.clockRate = clockRate
        self.channels = channels
    }

    /// True when `rtpmap` names this codec (name case-insensitive, same clock rate and channels).
    func matches(_ rtpmap: SDPRtpmap) -> Bool {
        rtpmap.encodingName.lowercased() == name.lowercased() && rtpmap.clockRate == clockRate
            && (rtpmap.channels ?? 1) == (channels ?? 1)
    }

    public static let opus = SupportedCodec(kind: .audio, name: "opus", clockRate: 48000, channels: 2)
    public static let vp8 = SupportedCodec(kind: .video, name: "VP8", clockRate: 90000)
    public static let vp9 = SupportedCodec(kind: .video, name: "VP9", clockRate: 90000)
    public static let h264 = SupportedCodec(kind: .video, name: "H264", clockRate: 90000)
    public static let av1 = SupportedCodec(kind: .video, name: "AV1", clockRate: 90000)
}

/// Well-known RTP header extension URIs (RFC 8285 §5 registry and WebRTC's experiments).
public enum RTPHeaderExtensionURI {
    public static let mid = "urn:ietf:params:rtp-hdrext:sdes:mid"
    public static let absSendTime = "http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time"
    public static let transportWideCC = "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01"
    public static let audioLevel = "urn:ietf:params:rtp-hdrext:ssrc-audio-level"
    public static let rtpStreamID = "urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id"
    public static let repairedRTPStreamID = "urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id"
    public static let dependencyDescriptor =
        "https://aomediacodec.github.io/av1-rtp-spec/#dependency-descriptor-rtp-header-extension"
}

/// What the SFU accepts in SDP: codecs in preference order, RTCP feedback and header extensions
/// per kind. `standard` is CommuCat's set; tests and deployments may narrow it (e.g. VP8 only).
public struct MediaCapabilities: Hashable, Sendable {
    /// Media codecs in preference order; the first one both sides support is chosen.
    public var codecs: [SupportedCodec]
    /// Accept `red/48000/2` wrapping the chosen Opus (RFC 2198) and pass it through.
    public var audioRED: Bool
    /// Accept `rtx` (RFC 4588) paired with the chosen video codec through `apt=`.
    public var rtx: Bool
    /// H.264 profiles accepted (RFC 6184 §8.1 `profile-level-id`), in preference order.
    public var h264Profiles: [H264Profile]
    /// RTCP feedback (`type`, optional `parameter`) kept per kind (RFC 4585 §4.2).
    public var audioFeedback: [FeedbackType]
    public var videoFeedback: [FeedbackType]
    /// Header extension URIs accepted per kind.
    public var audioExtensions: [String]
    public var videoExtensions: [String]
    /// The most m-sections an offer may hold (`media.max_tracks_per_offer`); a larger offer is
    /// refused as a whole with `limit_exceeded` (each accepted section costs a producer or a
    /// consumer).
    public var maxMediaSections: Int = 16

    public struct FeedbackType: Hashable, Sendable {
        public var type: String
        public var parameter: String?

        public init(_ type: String, _ parameter: String? = nil) {
            self.type = type
            self.parameter = parameter
        }
    }

    public init(
        codecs: [SupportedCodec], audioRED: Bool = true, rtx: Bool = true,
        h264Profiles: [H264Profile] = [.constrainedBaseline, .baseline, .main, .constrainedHigh, .high],
        audioFeedback: [FeedbackType] = [.init("transport-cc"), .init("nack")],
        videoFeedback: [FeedbackType] = [
            .init("nack"), .init("nack", "pli"), .init("ccm", "fir"), .init("transport-cc"), .init("goog-remb"),
        ],
        audioExtensions: [String] = [
            RTPHeaderExtensionURI.mid, RTPHeaderExtensionURI.absSendTime, RTPHeaderExtensionURI.transportWideCC,
            RTPHeaderExtensionURI.audioLevel,
        ],
        videoExtensions: [String] = [
            RTPHeaderExtensionURI.mid, RTPHeaderExtensionURI.absSendTime, RTPHeaderExtensionURI.transportWideCC,
            RTPHeaderExtensionURI.rtpStreamID, RTPHeaderExtensionURI.repairedRTPStreamID,
            RTPHeaderExtensionURI.dependencyDescriptor,
        ]
    ) {
        self.codecs = codecs
        self.audioRED = audioRED
        self.rtx = rtx
        self.h264Profiles = h264Profiles
        self.audioFeedback = audioFeedback
        self.videoFeedback = videoFeedback
        self.audioExtensions = audioExtensions
        self.videoExtensions = videoExtensions
    }

    /// Opus; VP8, VP9, H.264, AV1 (SPEC §3.2), with RED, RTX and the usual feedback and extensions.
    public static let standard = MediaCapabilities(codecs: [.opus, .vp8, .vp9, .h264, .av1])

    func codecs(of kind: MediaKind) -> [SupportedCodec] { codecs.filter { $0.kind == kind } }
    func feedback(of kind: MediaKind) -> [FeedbackType] { kind == .audio ? audioFeedback : videoFeedback }
    func extensions(of kind: MediaKind) -> [String] { kind == .audio ? audioExtensions : videoExtensions }
}
