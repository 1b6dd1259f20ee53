/// An SDP session description (RFC 8866 §5) with its media sections, as WebRTC uses it
/// (RFC 8829). Parsing is strict about structure and about the attributes it types, and keeps
/// everything else, so `SessionDescription(parsing: text).serialized` reproduces a well-formed
/// offer with CRLF line endings.
public struct SessionDescription: Hashable, Sendable, SDPAttributeCarrier {
    /// `v=`, always 0.
    public var version: Int = 0
    public var origin: SDPOrigin
    /// `s=`; WebRTC uses `-`.
    public var sessionName: String
    public var information: String?
    public var uri: String?
    public var emails: [String] = []
    public var phones: [String] = []
    public var connection: SDPConnection?
    public var bandwidths: [SDPBandwidth] = []
    /// `t=` lines with their `r=` lines; JSEP writes a single `t=0 0`.
    public var timings: [SDPTiming] = []
    /// `z=` value, verbatim.
    public var timeZones: String?
    /// `k=` value, verbatim (obsolete, RFC 8866 §5.12).
    public var encryptionKey: String?
    public var attributes: [SDPAttribute] = []
    public var media: [SDPMediaDescription] = []

    public init(
        origin: SDPOrigin, sessionName: String = "-", timings: [SDPTiming] = [SDPTiming()],
        attributes: [SDPAttribute] = [], media: [SDPMediaDescription] = []
    ) {
        self.origin = origin
        self.sessionName = sessionName
        self.timings = timings
        self.attributes = attributes
        self.media = media
    }

    /// Groups with `semantics` (e.g. the BUNDLE group of RFC 8843).
    public func groups(semantics: String) -> [SDPGroup] {
        attributes.compactMap { if case .group(let group) = $0, group.semantics == semantics { group } else { nil } }
    }

    /// The mids of the first BUNDLE group.
    public var bundleMids: [String]? { groups(semantics: "BUNDLE").first?.mids }

    /// The media section with `mid`.
    public func media(mid: String) -> SDPMediaDescription? { media.first { $0.mid == mid } }
}

/// One `m=` section (RFC 8866 §5.14).
public struct SDPMediaDescription: Hashable, Sendable, SDPAttributeCarrier {
    /// `audio`, `video`, `application`, …
    public var media: String
    public var port: UInt16
    /// The `/<number of ports>` suffix, rarely used.
    public var portCount: Int?
    /// E.g. `UDP/TLS/RTP/SAVPF`.
    public var proto: String
    /// Payload types as text (or `webrtc-datachannel` for SCTP).
    public var formats: [String]
    public var information: String?
    public var connections: [SDPConnection] = []
    public var bandwidths: [SDPBandwidth] = []
    public var encryptionKey: String?
    public var attributes: [SDPAttribute] = []

    public init(
        media: String, port: UInt16, portCount: Int? = nil, proto: String, formats: [String],
        connections: [SDPConnection] = [], attributes: [SDPAttribute] = []
    ) {
        self.media = media
        self.port = port
        self.portCount = portCount
        self.proto = proto
        self.formats = formats
        self.connections = connections
        self.attributes = attributes
    }

    /// `true` when the port is 0, which rejects or disables the section (RFC 8866 §5.14).
    public var isRejected: Bool { port == 0 }
    public var mid: String? { attributes.lazy.compactMap { if case .mid(let mid) = $0 { mid } else { nil } }.first }
    public var direction: SDPDirection {
        attributes.lazy.compactMap { if case .direction(let value) = $0 { value } else { nil } }.first ?? .sendrecv
    }
    public var msid: SDPMsid? { attributes.lazy.compactMap { if case .msid(let value) = $0 { value } else { nil } }.first }
    public var rtpmaps: [SDPRtpmap] { attributes.compactMap { if case .rtpmap(let value) = $0 { value } else { nil } } }
    public var fmtps: [SDPFmtp] { attributes.compactMap { if case .fmtp(let value) = $0 { value } else { nil } } }
    public var rtcpFeedback: [SDPRtcpFeedback] {
        attributes.compactMap { if case .rtcpFeedback(let value) = $0 { value } else { nil } }
    }
    public var extmaps: [SDPExtmap] { attributes.compactMap { if case .extmap(let value) = $0 { value } else { nil } } }
    public var ssrcs: [SDPSsrc] { attributes.compactMap { if case .ssrc(let value) = $0 { value } else { nil } } }
    public var ssrcGroups: [SDPSsrcGroup] {
        attributes.compactMap { if case .ssrcGroup(let value) = $0 { value } else { nil } }
    }
    public var rids: [SDPRid] { attributes.compactMap { if case .rid(let value) = $0 { value } else { nil } } }
    public var simulcast: SDPSimulcast? {
        attributes.lazy.compactMap { if case .simulcast(let value) = $0 { value } else { nil } }.first
    }
    public var candidates: [SDPCandidate] {
        attributes.compactMap { if case .candidate(let value) = $0 { value } else { nil } }
    }
    public var isRTCPMux: Bool { attributes.contains(.rtcpMux) }
    public var hasEndOfCandidates: Bool { attributes.contains(.endOfCandidates) }

    /// The rtpmap for payload type `payloadType`.
    public func rtpmap(payloadType: UInt8) -> SDPRtpmap? { rtpmaps.first { $0.payloadType == payloadType } }
    /// The fmtp for payload type `payloadType`.
    public func fmtp(payloadType: UInt8) -> SDPFmtp? { fmtps.first { $0.format == String(payloadType) } }
}

/// Attribute accessors shared by session and media levels. Media-level values override
/// session-level ones (RFC 8866 §5.13); callers combine the two as they need.
public protocol SDPAttributeCarrier {
    var attributes: [SDPAttribute] { get }
}

extension SDPAttributeCarrier {
    public var iceUfrag: String? { attributes.lazy.compactMap { if case .iceUfrag(let v) = $0 { v } else { nil } }.first }
    public var icePwd: String? { attributes.lazy.compactMap { if case .icePwd(let v) = $0 { v } else { nil } }.first }
    public var iceOptions: [String] {
        attributes.lazy.compactMap { if case .iceOptions(let v) = $0 { v } else { nil } }.first ?? []
    }
    public var isICELite: Bool { attributes.contains(.iceLite) }
    public var fingerprints: [SDPFingerprint] {
        attributes.compactMap { if case .fingerprint(let v) = $0 { v } else { nil } }
    }
    public var setup: SDPSetupRole? { attributes.lazy.compactMap { if case .setup(let v) = $0 { v } else { nil } }.first }

    /// Values of `.other` attributes named `name` (`nil` entries for property attributes).
    public func otherAttributes(named name: String) -> [String?] {
        attributes.compactMap { if case .other(name, let value) = $0 { .some(value) } else { nil } }
    }
}
