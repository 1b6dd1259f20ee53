import SFUWire

/// A codec both sides agreed on for one m-section, with the offerer's payload types.
public struct NegotiatedCodec: Hashable, Sendable {
    public var payloadType: UInt8
    /// Encoding name as the offer wrote it (`opus`, `VP8`, `H264`, `red`, …).
    public var name: String
    public var clockRate: UInt32
    public var channels: Int?
    /// The offer's `a=fmtp` parameters for this payload type, verbatim (echoed in the answer).
    public var parameters: String?
    /// Feedback kept for this payload type (RFC 4585 §4.2), in the offer's order.
    public var feedback: [MediaCapabilities.FeedbackType]
    /// The offer's `rtx` payload type whose `apt=` names this one (RFC 4588 §8.6), when accepted.
    public var rtxPayloadType: UInt8?
    /// For H.264, the profile of `profile-level-id`.
    public var h264Profile: H264Profile?

    public init(
        payloadType: UInt8, name: String, clockRate: UInt32, channels: Int? = nil, parameters: String? = nil,
        feedback: [MediaCapabilities.FeedbackType] = [], rtxPayloadType: UInt8? = nil, h264Profile: H264Profile? = nil
    ) {
        self.payloadType = payloadType
        self.name = name
        self.clockRate = clockRate
        self.channels = channels
        self.parameters = parameters
        self.feedback = feedback
        self.rtxPayloadType = rtxPayloadType
        self.h264Profile = h264Profile
    }

    /// `true` for RED (RFC 2198), which wraps the section's primary codec.
    public var isRED: Bool { name.lowercased() == "red" }

    /// Same codec, ignoring payload types: name, clock, channels, and the profile where the
    /// payload format makes it part of the codec's identity: H.264 `profile-level-id` profile
    /// (RFC 6184 §8.2.2), VP9 `profile-id` (RFC 9628 §6), AV1 `profile` (AV1 RTP §7.2).
    public func isSameCodec(as other: NegotiatedCodec) -> Bool {
        name.lowercased() == other.name.lowercased() && clockRate == other.clockRate
            && (channels ?? 1) == (other.channels ?? 1) && h264Profile == other.h264Profile
            && formatProfile == other.formatProfile
    }

    /// VP9 `profile-id` or AV1 `profile`, defaulting to 0 when absent; `nil` for other codecs.
    var formatProfile: String? {
        let key: String
        switch name.lowercased() {
        case "vp9": key = "profile-id"
        case "av1": key = "profile"
        default: return nil
        }
        let fmtp = SDPFmtp(format: String(payloadType), parameters: parameters ?? "")
        return fmtp.parameter(key) ?? "0"
    }
}

/// An RTP header extension both sides use, with the offerer's id (RFC 8285 §6).
public struct NegotiatedHeaderExtension: Hashable, Sendable {
    public var id: UInt16
    public var uri: String

    public init(id: UInt16, uri: String) {
        self.id = id
        self.uri = uri
    }
}

/// One RTP stream the offerer announced: an SSRC (with its RTX SSRC from `ssrc-group:FID`,
/// RFC 5576 §4.2 / RFC 4588 §8.7), or a simulcast rid (RFC 8851, RFC 8853) whose SSRC is learnt
/// from the first packet carrying the rtp-stream-id extension.
public struct NegotiatedEncoding: Hashable, Sendable {
    public var ssrc: UInt32?
    public var rtxSSRC: UInt32?
    public var rid: String?
    /// `~rid` in `a=simulcast` (RFC 8853 §5.1): announced but paused.
    public var paused: Bool

    public init(ssrc: UInt32? = nil, rtxSSRC: UInt32? = nil, rid: String? = nil, paused: Bool = false) {
        self.ssrc = ssrc
        self.rtxSSRC = rtxSSRC
        self.rid = rid
        self.paused = paused
    }
}

/// An accepted m-section.
public struct NegotiatedMediaSection: Hashable, Sendable {
    /// Position of the m-section in the offer (and the answer).
    public var index: Int
    public var mid: String
    public var kind: MediaKind
    /// The offerer's direction (`sendonly` for WHIP, `recvonly` for WHEP; `sendrecv` tolerated).
    public var direction: SDPDirection
    /// Accepted codecs in the SFU's preference order. For a publisher the first is the one the
    /// publisher will send; RED (audio) follows its Opus. For a subscriber, every codec it can
    /// receive that the SFU forwards.
    public var codecs: [NegotiatedCodec]
    public var headerExtensions: [NegotiatedHeaderExtension]
    /// Streams the offerer will send (publisher only; empty for a subscriber).
    public var encodings: [NegotiatedEncoding]
    /// `a=ssrc:<ssrc> cname:` of the offer (RFC 7022), if any.
    public var cname: String?
    public var msid: SDPMsid?
    /// The offer's `a=simulcast` (RFC 8853 §5.1), when rids were accepted.
    public var simulcast: SDPSimulcast?
    /// `a=rtcp-rsize` was offered (RFC 5506 §5); echoed in the answer.
    public var rtcpReducedSize: Bool

    public init(
        index: Int, mid: String, kind: MediaKind, direction: SDPDirection, codecs: [NegotiatedCodec],
        headerExtensions: [NegotiatedHeaderExtension] = [], encodings: [NegotiatedEncoding] = [], cname: String? = nil,
        msid: SDPMsid? = nil, simulcast: SDPSimulcast? = nil, rtcpReducedSize: Bool = false
    ) {
        self.index = index
        self.mid = mid
        self.kind = kind
        self.direction = direction
        self.codecs = codecs
        self.headerExtensions = headerExtensions
        self.encodings = encodings
        self.cname = cname
        self.msid = msid
        self.simulcast = simulcast
        self.rtcpReducedSize = rtcpReducedSize
    }

    /// The primary media codec (not RED, not RTX).
    public var primaryCodec: NegotiatedCodec? { codecs.first { !$0.isRED } }

    /// The header extension id the offerer uses for `uri`.
    public func headerExtensionID(_ uri: String) -> UInt16? { headerExtensions.first { $0.uri == uri }?.id }
}

/// An m-section the answer rejects (port 0, RFC 8829 §5.3.1) or, for a subscriber, leaves inactive.
public struct RejectedMediaSection: Hashable, Sendable {
    public var index: Int
    public var mid: String?
    public var reason: String

    public init(index: Int, mid: String?, reason: String) {
        self.index = index
        self.mid = mid
        self.reason = reason
    }
}

/// The offerer's transport parameters (RFC 8839 ICE, RFC 8842 DTLS).
public struct RemoteTransportParameters: Hashable, Sendable {
    public var iceUfrag: String
    public var icePwd: String
    public var iceOptions: [String]
    /// Candidates in the offer, with the mid of their m-section.
    public var candidates: [SDPCandidate]
    public var endOfCandidates: Bool
    /// Every `a=fingerprint` (RFC 8122 §5); the DTLS certificate must match one of them.
    public var fingerprints: [SDPFingerprint]
    /// The offer's `a=setup` (RFC 8842 §5.1).
    public var setup: SDPSetupRole

    public init(
        iceUfrag: String, icePwd: String, iceOptions: [String] = [], candidates: [SDPCandidate] = [],
        endOfCandidates: Bool = false, fingerprints: [SDPFingerprint], setup: SDPSetupRole
    ) {
        self.iceUfrag = iceUfrag
        self.icePwd = icePwd
        self.iceOptions = iceOptions
        self.candidates = candidates
        self.endOfCandidates = endOfCandidates
        self.fingerprints = fingerprints
        self.setup = setup
    }
}

/// The SFU's DTLS role, from the answer's `a=setup` (RFC 8842 §5.1): `passive` makes it the DTLS
/// server, `active` the client.
public enum DTLSRole: String, Hashable, Sendable {
    case client, server
}

/// What an offer negotiates to: accepted and rejected m-sections and the remote transport.
/// Produced by ``SDPNegotiator``; consumed by a ``MediaRoomBackend`` and by ``SDPAnswerBuilder``.
public struct NegotiatedOffer: Hashable, Sendable {
    public enum Purpose: String, Hashable, Sendable {
        /// WHIP: the offerer sends media to the SFU.
        case publish
        /// WHEP: the offerer receives media from the SFU.
        case subscribe
    }

    public var purpose: Purpose
    /// The parsed offer.
    public var offer: SessionDescription
    public var transport: RemoteTransportParameters
    /// The SFU's DTLS role: server when answering `passive` to `actpass`/`active`.
    public var localDTLSRole: DTLSRole
    public var sections: [NegotiatedMediaSection]
    public var rejected: [RejectedMediaSection]
    /// `a=extmap-allow-mixed` offered (RFC 8285 §6); echoed.
    public var extmapAllowMixed: Bool

    public init(
        purpose: Purpose, offer: SessionDescription, transport: RemoteTransportParameters, localDTLSRole: DTLSRole,
        sections: [NegotiatedMediaSection], rejected: [RejectedMediaSection], extmapAllowMixed: Bool
    ) {
        self.purpose = purpose
        self.offer = offer
        self.transport = transport
        self.localDTLSRole = localDTLSRole
        self.sections = sections
        self.rejected = rejected
        self.extmapAllowMixed = extmapAllowMixed
    }

    /// The accepted mids in offer order; the answer's BUNDLE group (RFC 8843 §7.3).
    public var bundleMids: [String] { sections.map(\.mid) }

    public func section(mid: String) -> NegotiatedMediaSection? { sections.first { $0.mid == mid } }
}
