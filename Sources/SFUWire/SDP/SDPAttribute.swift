/// One `a=` line. WebRTC attributes are typed; everything else is kept verbatim as `.other`, so
/// parse → serialise preserves every attribute and their order.
public enum SDPAttribute: Hashable, Sendable {
    case group(SDPGroup)
    case rtcpMux
    case rtcpMuxOnly
    case rtcpRsize
    case iceUfrag(String)
    case icePwd(String)
    case iceLite
    case iceOptions([String])
    case fingerprint(SDPFingerprint)
    case setup(SDPSetupRole)
    case mid(String)
    case msid(SDPMsid)
    case rid(SDPRid)
    case simulcast(SDPSimulcast)
    case extmap(SDPExtmap)
    case extmapAllowMixed
    case rtpmap(SDPRtpmap)
    case fmtp(SDPFmtp)
    case rtcpFeedback(SDPRtcpFeedback)
    case ssrc(SDPSsrc)
    case ssrcGroup(SDPSsrcGroup)
    case candidate(SDPCandidate)
    case endOfCandidates
    case direction(SDPDirection)
    /// Any other attribute: `a=<name>` (value `nil`) or `a=<name>:<value>`.
    case other(name: String, value: String?)

    /// Parses the text after `a=`; `line` is reported in errors.
    public init(parsing text: Substring, line: Int? = nil) throws(WireParseError) {
        let name: Substring
        let value: Substring?
        if let colon = text.firstIndex(of: ":") {
            name = text[..<colon]
            value = text[text.index(after: colon)...]
        } else {
            name = text
            value = nil
        }
        guard !name.isEmpty, !name.contains(" ") else {
            throw WireParseError(.sdpInvalidAttribute, line: line, detail: "empty or spaced attribute name")
        }
        func typed<T>(_ parsed: T?) throws(WireParseError) -> T {
            guard let parsed else {
                throw WireParseError(.sdpInvalidAttribute, line: line, detail: "malformed a=\(name)")
            }
            return parsed
        }
        switch (name, value) {
        case ("rtcp-mux", nil): self = .rtcpMux
        case ("rtcp-mux-only", nil): self = .rtcpMuxOnly
        case ("rtcp-rsize", nil): self = .rtcpRsize
        case ("ice-lite", nil): self = .iceLite
        case ("extmap-allow-mixed", nil): self = .extmapAllowMixed
        case ("end-of-candidates", nil): self = .endOfCandidates
        case ("sendrecv", nil), ("sendonly", nil), ("recvonly", nil), ("inactive", nil):
            self = .direction(try typed(SDPDirection(rawValue: String(name))))
        case ("group", let value?): self = .group(try typed(SDPGroup(value: value)))
        case ("ice-ufrag", let value?):
            self = .iceUfrag(String(try typed(value.isEmpty || value.contains(" ") ? nil : value)))
        case ("ice-pwd", let value?):
            self = .icePwd(String(try typed(value.isEmpty || value.contains(" ") ? nil : value)))
        case ("ice-options", let value?): self = .iceOptions(value.split(separator: " ").map(String.init))
        case ("fingerprint", let value?): self = .fingerprint(try typed(SDPFingerprint(value: value)))
        case ("setup", let value?): self = .setup(try typed(SDPSetupRole(rawValue: String(value))))
        case ("mid", let value?): self = .mid(String(try typed(value.isEmpty || value.contains(" ") ? nil : value)))
        case ("msid", let value?): self = .msid(try typed(SDPMsid(value: value)))
        case ("rid", let value?): self = .rid(try typed(SDPRid(value: value)))
        case ("simulcast", let value?): self = .simulcast(try typed(SDPSimulcast(value: value)))
        case ("extmap", let value?): self = .extmap(try typed(SDPExtmap(value: value)))
        case ("rtpmap", let value?): self = .rtpmap(try typed(SDPRtpmap(value: value)))
        case ("fmtp", let value?): self = .fmtp(try typed(SDPFmtp(value: value)))
        case ("rtcp-fb", let value?): self = .rtcpFeedback(try typed(SDPRtcpFeedback(value: value)))
        case ("ssrc", let value?): self = .ssrc(try typed(SDPSsrc(value: value)))
        case ("ssrc-group", let value?): self = .ssrcGroup(try typed(SDPSsrcGroup(value: value)))
        case ("candidate", let value?): self = .candidate(try SDPCandidate(parsing: value, line: line))
        default: self = .other(name: String(name), value: value.map(String.init))
        }
    }

    /// The attribute's name, as in `a=<name>`.
    public var name: String {
        switch self {
        case .group: return "group"
        case .rtcpMux: return "rtcp-mux"
        case .rtcpMuxOnly: return "rtcp-mux-only"
        case .rtcpRsize: return "rtcp-rsize"
        case .iceUfrag: return "ice-ufrag"
        case .icePwd: return "ice-pwd"
        case .iceLite: return "ice-lite"
        case .iceOptions: return "ice-options"
        case .fingerprint: return "fingerprint"
        case .setup: return "setup"
        case .mid: return "mid"
        case .msid: return "msid"
        case .rid: return "rid"
        case .simulcast: return "simulcast"
        case .extmap: return "extmap"
        case .extmapAllowMixed: return "extmap-allow-mixed"
        case .rtpmap: return "rtpmap"
        case .fmtp: return "fmtp"
        case .rtcpFeedback: return "rtcp-fb"
        case .ssrc: return "ssrc"
        case .ssrcGroup: return "ssrc-group"
        case .candidate: return "candidate"
        case .endOfCandidates: return "end-of-candidates"
        case .direction(let direction): return direction.rawValue
        case .other(let name, _): return name
        }
    }

    /// The value after `a=<name>:`, or `nil` for property attributes.
    public var value: String? {
        switch self {
        case .rtcpMux, .rtcpMuxOnly, .rtcpRsize, .iceLite, .extmapAllowMixed, .endOfCandidates, .direction: return nil
        case .group(let group): return group.sdpValue
        case .iceUfrag(let text), .icePwd(let text), .mid(let text): return text
        case .iceOptions(let options): return options.joined(separator: " ")
        case .fingerprint(let fingerprint): return fingerprint.sdpValue
        case .setup(let role): return role.rawValue
        case .msid(let msid): return msid.sdpValue
        case .rid(let rid): return rid.sdpValue
        case .simulcast(let simulcast): return simulcast.sdpValue
        case .extmap(let extmap): return extmap.sdpValue
        case .rtpmap(let rtpmap): return rtpmap.sdpValue
        case .fmtp(let fmtp): return fmtp.sdpValue
        case .rtcpFeedback(let feedback): return feedback.sdpValue
        case .ssrc(let ssrc): return ssrc.sdpValue
        case .ssrcGroup(let group): return group.sdpValue
        case .candidate(let candidate): return candidate.sdpValue
        case .other(_, let value): return value
        }
    }

    /// The text after `a=`.
    public var sdpText: String { value.map { "\(name):\($0)" } ?? name }
}
