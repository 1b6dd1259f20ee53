import SFUWire

/// The SFU's side of a transport: what the answer advertises (RFC 8839 ICE, RFC 8842 DTLS).
public struct LocalTransportDescription: Hashable, Sendable {
    public var iceUfrag: String
    public var icePwd: String
    /// Host candidates (configured public IPs or the bound address, SPEC §3.1); component 1.
    public var candidates: [SDPCandidate]
    /// The DTLS certificate fingerprint(s).
    public var fingerprints: [SDPFingerprint]
    /// CommuCat is ICE-lite (RFC 8445 §2.5).
    public var iceLite: Bool

    public init(
        iceUfrag: String, icePwd: String, candidates: [SDPCandidate], fingerprints: [SDPFingerprint], iceLite: Bool = true
    ) {
        self.iceUfrag = iceUfrag
        self.icePwd = icePwd
        self.candidates = candidates
        self.fingerprints = fingerprints
        self.iceLite = iceLite
    }
}

/// Builds SDP answers (RFC 8829 §5.3) from a ``NegotiatedOffer``: one m-section per offered one,
/// in the same order with the same mids; accepted sections carry only what was agreed, rejected
/// ones have port 0 and stay out of the BUNDLE group (RFC 8843 §7.3.3).
public enum SDPAnswerBuilder {
    /// The answer to a WHIP offer: accepted sections are `recvonly`, echo the offer's codecs,
    /// feedback and extension ids, and answer simulcast with `a=rid:… recv` (RFC 8853 §5.3).
    public static func publishAnswer(
        to offer: NegotiatedOffer, local: LocalTransportDescription, sessionID: UInt64
    ) -> SessionDescription {
        answer(to: offer, local: local, sessionID: sessionID) { section in
            var media = acceptedMedia(section, codecs: section.codecs, extensions: section.headerExtensions, direction: .recvonly)
            if let simulcast = section.simulcast {
                for stream in simulcast.send ?? [] {
                    for alternative in stream { media.attributes.append(.rid(SDPRid(id: alternative.rid, direction: .recv))) }
                }
                media.attributes.append(.simulcast(simulcast.reversed))
            }
            return media
        }
    }

    /// The answer to a WHEP offer: each assigned section is `sendonly` with the track's codec in the
    /// subscriber's payload types and announces the SFU's SSRCs; sections with nothing to send are
    /// `inactive` (kept so the subscriber's transceivers stay valid).
    public static func subscribeAnswer(
        to offer: NegotiatedOffer, local: LocalTransportDescription, sessionID: UInt64,
        assignments: [TrackAssignment], streams: [OutgoingStream]
    ) -> SessionDescription {
        answer(to: offer, local: local, sessionID: sessionID) { section in
            guard let assignment = assignments.first(where: { $0.mid == section.mid }),
                  let stream = streams.first(where: { $0.mid == section.mid })
            else {
                return acceptedMedia(section, codecs: Array(section.codecs.prefix(1)), extensions: section.headerExtensions, direction: .inactive)
            }
            var media = acceptedMedia(section, codecs: assignment.codecs, extensions: assignment.headerExtensions, direction: .sendonly)
            let msid = SDPMsid(streamID: assignment.track.streamID, trackID: assignment.track.trackID)
            media.attributes.append(.msid(msid))
            let rtx = assignment.primaryCodec?.rtxPayloadType != nil ? stream.rtxSSRC : nil
            if let rtx { media.attributes.append(.ssrcGroup(SDPSsrcGroup(semantics: "FID", ssrcs: [stream.ssrc, rtx]))) }
            for ssrc in [stream.ssrc] + (rtx.map { [$0] } ?? []) {
                media.attributes.append(.ssrc(SDPSsrc(ssrc: ssrc, attribute: "cname", value: stream.cname)))
                media.attributes.append(.ssrc(SDPSsrc(ssrc: ssrc, attribute: "msid", value: msid.sdpValue)))
            }
            return media
        }
    }

    private static func answer(
        to offer: NegotiatedOffer, local: LocalTransportDescription, sessionID: UInt64,
        build: (NegotiatedMediaSection) -> SDPMediaDescription
    ) -> SessionDescription {
        var attributes: [SDPAttribute] = []
        if local.iceLite { attributes.append(.iceLite) }
        attributes.append(.group(SDPGroup(semantics: "BUNDLE", mids: offer.bundleMids)))
        if offer.extmapAllowMixed { attributes.append(.extmapAllowMixed) }
        attributes.append(.other(name: "msid-semantic", value: " WMS *"))
        // RFC 8829 §5.3.1: o= with a fresh session id and version; t=0 0.
        var answer = SessionDescription(
            origin: SDPOrigin(sessionID: String(sessionID), sessionVersion: 1, address: "0.0.0.0"), attributes: attributes
        )
        let setup: SDPSetupRole = offer.localDTLSRole == .server ? .passive : .active
        for (index, offered) in offer.offer.media.enumerated() {
            guard let section = offer.sections.first(where: { $0.index == index }) else {
                var media = rejectedMedia(offered)
                // Receivers such as aiortc validate ICE, setup and rtcp-mux in every section,
                // rejected ones included; the values are inert with port 0.
                media.attributes.insert(contentsOf: transportAttributes(local: local, setup: setup), at: media.attributes.count - 1)
                answer.media.append(media)
                continue
            }
            var media = build(section)
            addTransport(to: &media, local: local, setup: setup)
            answer.media.append(media)
        }
        return answer
    }

    private static func acceptedMedia(
        _ section: NegotiatedMediaSection, codecs: [NegotiatedCodec], extensions: [NegotiatedHeaderExtension],
        direction: SDPDirection
    ) -> SDPMediaDescription {
        var attributes: [SDPAttribute] = [.mid(section.mid), .direction(direction), .rtcpMux]
        if section.rtcpReducedSize { attributes.append(.rtcpRsize) }
        for item in extensions { attributes.append(.extmap(SDPExtmap(id: item.id, uri: item.uri))) }
        let (formats, codecAttributes) = codecLines(codecs)
        attributes += codecAttributes
        return SDPMediaDescription(media: section.kind.rawValue, port: 9, proto: "UDP/TLS/RTP/SAVPF", formats: formats, attributes: attributes)
    }

    /// The formats of an m= line and the rtpmap/rtcp-fb/fmtp lines of `codecs`, with an `rtx`
    /// payload type (RFC 4588 §8.6, `apt=`) after each codec that has one.
    static func codecLines(_ codecs: [NegotiatedCodec]) -> (formats: [String], attributes: [SDPAttribute]) {
        var formats: [String] = []
        var attributes: [SDPAttribute] = []
        for codec in codecs {
            formats.append(String(codec.payloadType))
            attributes.append(.rtpmap(SDPRtpmap(payloadType: codec.payloadType, encodingName: codec.name, clockRate: codec.clockRate, channels: codec.channels)))
            for feedback in codec.feedback {
                attributes.append(.rtcpFeedback(SDPRtcpFeedback(format: String(codec.payloadType), type: feedback.type, parameter: feedback.parameter)))
            }
            if let parameters = codec.parameters, !parameters.isEmpty {
                attributes.append(.fmtp(SDPFmtp(format: String(codec.payloadType), parameters: parameters)))
            }
            if let rtx = codec.rtxPayloadType {
                formats.append(String(rtx))
                attributes.append(.rtpmap(SDPRtpmap(payloadType: rtx, encodingName: "rtx", clockRate: codec.clockRate)))
                attributes.append(.fmtp(SDPFmtp(format: String(rtx), parameters: "apt=\(codec.payloadType)")))
            }
        }
        return (formats, attributes)
    }

    /// RFC 8829 §5.3.1: a rejected m-section keeps its media type, proto and a format, with port 0.
    private static func rejectedMedia(_ offered: SDPMediaDescription) -> SDPMediaDescription {
        var media = SDPMediaDescription(
            media: offered.media, port: 0, proto: offered.proto, formats: Array(offered.formats.prefix(1)),
            connections: [SDPConnection(address: "0.0.0.0")]
        )
        if let mid = offered.mid { media.attributes.append(.mid(mid)) }
        if offered.isRTCPMux { media.attributes.append(.rtcpMux) }
        media.attributes.append(.direction(.inactive))
        return media
    }

    /// ICE and DTLS attributes repeated in every accepted section (RFC 8843 §7.3.1 requires them
    /// only in the BUNDLE-tagged one; receivers accept the repetition, which keeps non-BUNDLE-aware
    /// parsers working). The first candidate is the default destination (RFC 8839 §4.2.1.2).
    private static func addTransport(to media: inout SDPMediaDescription, local: LocalTransportDescription, setup: SDPSetupRole) {
        if let first = local.candidates.first {
            media.port = first.port
            media.connections = [SDPConnection(addressType: first.address.contains(":") ? "IP6" : "IP4", address: first.address)]
        } else {
            media.connections = [SDPConnection(address: "0.0.0.0")]
        }
        media.attributes.insert(contentsOf: transportAttributes(local: local, setup: setup), at: 1)
        media.attributes += local.candidates.map { .candidate($0) }
        media.attributes.append(.endOfCandidates)
    }

    private static func transportAttributes(local: LocalTransportDescription, setup: SDPSetupRole) -> [SDPAttribute] {
        [.iceUfrag(local.iceUfrag), .icePwd(local.icePwd)] + local.fingerprints.map { .fingerprint($0) } + [.setup(setup)]
    }
}
