import SFUWire

/// Negotiates a WHIP (publish) or WHEP (subscribe) offer against the SFU's capabilities. Pure:
/// no I/O, no clock; the answer is built from the result by ``SDPAnswerBuilder``.
///
/// Rules (RFC 8829 §5.3.1 answer generation, RFC 8843 BUNDLE, RFC 8853 simulcast):
/// - every accepted m-section must be in the offer's first BUNDLE group and carry `a=rtcp-mux`
///   (SPEC §3.1); an offer without BUNDLE, or with a non-muxed section, is refused as a whole;
/// - m-sections of other kinds (data channels), with an unusable direction, outside the BUNDLE
///   group, or without a common codec are rejected one by one (port 0 in the answer);
/// - codecs are chosen in the SFU's preference order with the offer's payload types.
public enum SDPNegotiator {
    /// Parses `text` and negotiates it. Parse errors become `bad_sdp` with the line number.
    public static func negotiate(
        offer text: String, purpose: NegotiatedOffer.Purpose, capabilities: MediaCapabilities = .standard
    ) throws(SDPNegotiationError) -> NegotiatedOffer {
        let offer: SessionDescription
        do {
            offer = try SessionDescription(parsing: text)
        } catch {
            throw SDPNegotiationError(parsing: error)
        }
        return try negotiate(offer: offer, purpose: purpose, capabilities: capabilities)
    }

    public static func negotiate(
        offer: SessionDescription, purpose: NegotiatedOffer.Purpose, capabilities: MediaCapabilities = .standard
    ) throws(SDPNegotiationError) -> NegotiatedOffer {
        guard !offer.media.isEmpty else { throw SDPNegotiationError(.badSDP, reason: "the offer has no m= section") }
        // Every m-section may become a producer or a consumer: refuse, rather than trim, an offer
        // with more than the limit (an answer with fewer sections would be a silent surprise).
        guard offer.media.count <= capabilities.maxMediaSections else {
            MediaLimits.rejected(.tracksPerOffer)
            throw SDPNegotiationError(
                .limitExceeded,
                reason: "the offer has \(offer.media.count) m-sections; at most \(capabilities.maxMediaSections) are accepted (media.max_tracks_per_offer)")
        }
        // RFC 8843 §7.2: an offerer using BUNDLE puts every bundled mid in a=group:BUNDLE.
        guard let bundle = offer.bundleMids, !bundle.isEmpty else {
            throw SDPNegotiationError(
                .unsupported, reason: "the offer has no a=group:BUNDLE; CommuCat requires BUNDLE (RFC 8843)")
        }
        var sections: [NegotiatedMediaSection] = []
        var rejected: [RejectedMediaSection] = []
        var seenMids: Set<String> = []
        for (index, media) in offer.media.enumerated() {
            // RFC 8843 §6: a bundle-only m-section has port 0 but is live inside the BUNDLE group.
            let bundleOnly = !media.otherAttributes(named: "bundle-only").isEmpty
            if media.isRejected && !bundleOnly {
                rejected.append(RejectedMediaSection(index: index, mid: media.mid, reason: "disabled by the offerer (port 0)"))
                continue
            }
            guard let mid = media.mid else {
                throw SDPNegotiationError(.badSDP, reason: "m-section \(index) (\(media.media)) has no a=mid (RFC 8843 §9.1)")
            }
            guard seenMids.insert(mid).inserted else {
                throw SDPNegotiationError(.badSDP, reason: "a=mid:\(mid) appears twice (RFC 5888 §4)")
            }
            switch try negotiateSection(media, index: index, mid: mid, bundle: bundle, purpose: purpose, capabilities: capabilities) {
            case .success(let section): sections.append(section)
            case .failure(let reason): rejected.append(RejectedMediaSection(index: index, mid: mid, reason: reason))
            }
        }
        guard let first = sections.first else {
            let reasons = rejected.map { "mid \($0.mid ?? "?"): \($0.reason)" }.joined(separator: "; ")
            throw SDPNegotiationError(.unsupported, reason: "no acceptable m-section (\(reasons))")
        }
        let transport = try remoteTransport(offer: offer, firstMediaIndex: first.index, bundle: sections.map(\.index))
        // RFC 8842 §5.1 / RFC 8829 §5.3.1: answer passive to actpass (the SFU is the DTLS server),
        // passive to active, active to passive; holdconn cannot set up a connection.
        let role: DTLSRole
        switch transport.setup {
        case .actpass, .active: role = .server
        case .passive: role = .client
        case .holdconn:
            throw SDPNegotiationError(.unsupported, reason: "a=setup:holdconn offers no DTLS connection (RFC 4145 §4)")
        }
        return NegotiatedOffer(
            purpose: purpose, offer: offer, transport: transport, localDTLSRole: role, sections: sections,
            rejected: rejected, extmapAllowMixed: offer.attributes.contains(.extmapAllowMixed)
        )
    }

    private enum SectionResult {
        case success(NegotiatedMediaSection)
        case failure(String)
    }

    private static func negotiateSection(
        _ media: SDPMediaDescription, index: Int, mid: String, bundle: [String], purpose: NegotiatedOffer.Purpose,
        capabilities: MediaCapabilities
    ) throws(SDPNegotiationError) -> SectionResult {
        guard let kind = MediaKind(rawValue: media.media) else {
            return .failure("m=\(media.media) is not supported (audio and video only)")
        }
        guard bundle.contains(mid) else { return .failure("not in the BUNDLE group (RFC 8843)") }
        guard media.proto.uppercased().hasSuffix("/SAVPF") || media.proto.uppercased().hasSuffix("/SAVP") else {
            return .failure("transport \(media.proto) is not DTLS-SRTP (RFC 8829 §5.1.2)")
        }
        let direction = media.direction
        switch (purpose, direction) {
        case (.publish, .sendonly), (.publish, .sendrecv), (.subscribe, .recvonly), (.subscribe, .sendrecv): break
        default:
            let expected = purpose == .publish ? "sendonly" : "recvonly"
            return .failure("direction \(direction.rawValue) where WHIP/WHEP expects \(expected)")
        }
        // SPEC §3.1: rtcp-mux is required; refuse the offer rather than answer a half-muxed session.
        guard media.isRTCPMux || media.attributes.contains(.rtcpMuxOnly) else {
            throw SDPNegotiationError(
                .unsupported, reason: "m-section mid \(mid) has no a=rtcp-mux; CommuCat requires rtcp-mux (RFC 8843 §9.3)")
        }
        let codecs = CodecNegotiation.choose(in: media, kind: kind, purpose: purpose, capabilities: capabilities)
        guard !codecs.isEmpty else {
            let offered = media.rtpmaps.map(\.encodingName).joined(separator: ", ")
            return .failure("no common codec (offered: \(offered.isEmpty ? "none" : offered))")
        }
        let extensions = media.extmaps.compactMap { extmap -> NegotiatedHeaderExtension? in
            guard capabilities.extensions(of: kind).contains(extmap.uri), (1...255).contains(extmap.id) else { return nil }
            if let direction = extmap.direction, direction == .inactive { return nil }
            return NegotiatedHeaderExtension(id: extmap.id, uri: extmap.uri)
        }
        var section = NegotiatedMediaSection(
            index: index, mid: mid, kind: kind, direction: direction, codecs: codecs, headerExtensions: extensions,
            cname: media.ssrcs.first { $0.attribute == "cname" }?.value,
            msid: media.msid ?? media.ssrcs.first { $0.attribute == "msid" }?.value.flatMap(msid(from:)),
            rtcpReducedSize: media.attributes.contains(.rtcpRsize)
        )
        if purpose == .publish {
            switch encodings(of: media, extensions: extensions, hasRTX: codecs.contains { $0.rtxPayloadType != nil }) {
            case .success(let (encodings, simulcast)):
                section.encodings = encodings
                section.simulcast = simulcast
            case .failure(let reason): return .failure(reason)
            }
        }
        return .success(section)
    }

    private static func msid(from text: String) -> SDPMsid? {
        let fields = text.split(separator: " ")
        guard let stream = fields.first else { return nil }
        return SDPMsid(streamID: String(stream), trackID: fields.count > 1 ? String(fields[1]) : nil)
    }

    private enum EncodingsResult {
        case success(([NegotiatedEncoding], SDPSimulcast?))
        case failure(String)
    }

    /// The streams a publisher announced: simulcast rids (RFC 8853 §5.1, RFC 8851) or SSRCs with
    /// their RTX partners from `a=ssrc-group:FID` (RFC 5576 §4.2).
    private static func encodings(
        of media: SDPMediaDescription, extensions: [NegotiatedHeaderExtension], hasRTX: Bool
    ) -> EncodingsResult {
        let sendRids = media.rids.filter { $0.direction == .send }
        if !sendRids.isEmpty {
            // RFC 8852 §3: rids are matched to packets through the rtp-stream-id extension.
            guard extensions.contains(where: { $0.uri == RTPHeaderExtensionURI.rtpStreamID }) else {
                return .failure("simulcast rids offered without the rtp-stream-id header extension (RFC 8852)")
            }
            let known = Set(sendRids.map(\.id))
            var encodings: [NegotiatedEncoding] = []
            var streams: [[SDPSimulcast.Alternative]] = []
            if let send = media.simulcast?.send {
                // RFC 8853 §5.3: the answerer keeps the first alternative of each stream it accepts.
                for stream in send {
                    guard let chosen = stream.first(where: { known.contains($0.rid) }) else { continue }
                    encodings.append(NegotiatedEncoding(rid: chosen.rid, paused: chosen.paused))
                    streams.append([chosen])
                }
            } else {
                encodings = sendRids.map { NegotiatedEncoding(rid: $0.id) }
            }
            guard !encodings.isEmpty else { return .failure("a=simulcast names no rid declared with a=rid (RFC 8853 §5.1)") }
            return .success((encodings, streams.isEmpty ? nil : SDPSimulcast(send: streams)))
        }
        var rtxOf: [UInt32: UInt32] = [:]
        var repair: Set<UInt32> = []
        for group in media.ssrcGroups where group.semantics == "FID" && group.ssrcs.count == 2 {
            rtxOf[group.ssrcs[0]] = group.ssrcs[1]
            repair.insert(group.ssrcs[1])
        }
        var seen: Set<UInt32> = []
        var encodings: [NegotiatedEncoding] = []
        for line in media.ssrcs where seen.insert(line.ssrc).inserted && !repair.contains(line.ssrc) {
            encodings.append(NegotiatedEncoding(ssrc: line.ssrc, rtxSSRC: hasRTX ? rtxOf[line.ssrc] : nil))
        }
        return .success((encodings, nil))
    }

    /// ICE and DTLS parameters, media level of the first accepted section first, then session level
    /// (RFC 8839 §5.4, RFC 8122 §5: media-level values override session-level ones).
    private static func remoteTransport(
        offer: SessionDescription, firstMediaIndex: Int, bundle: [Int]
    ) throws(SDPNegotiationError) -> RemoteTransportParameters {
        let media = offer.media[firstMediaIndex]
        guard let ufrag = media.iceUfrag ?? offer.iceUfrag, let pwd = media.icePwd ?? offer.icePwd else {
            throw SDPNegotiationError(.badSDP, reason: "the offer has no a=ice-ufrag / a=ice-pwd (RFC 8839 §5.4)")
        }
        // RFC 8839 §5.4: ice-ufrag is 4-256 ice-chars, ice-pwd 22-256.
        guard (4...256).contains(ufrag.count), (22...256).contains(pwd.count) else {
            throw SDPNegotiationError(.badSDP, reason: "ice-ufrag must be 4-256 and ice-pwd 22-256 characters (RFC 8839 §5.4)")
        }
        let fingerprints = media.fingerprints.isEmpty ? offer.fingerprints : media.fingerprints
        let usable = fingerprints.filter { ["sha-256", "sha-384", "sha-512"].contains($0.algorithm.lowercased()) }
        guard !usable.isEmpty else {
            throw SDPNegotiationError(.badSDP, reason: "the offer has no a=fingerprint with sha-256, sha-384 or sha-512 (RFC 8122 §5)")
        }
        var candidates: [SDPCandidate] = []
        var endOfCandidates = offer.attributes.contains(.endOfCandidates)
        for index in bundle {
            let section = offer.media[index]
            for candidate in section.candidates where candidate.component == 1 && !candidates.contains(candidate) {
                candidates.append(candidate)
            }
            endOfCandidates = endOfCandidates || section.hasEndOfCandidates
        }
        let lite = media.isICELite || offer.isICELite
        // RFC 8445 §2.5: two lite agents cannot run connectivity checks; CommuCat is ice-lite.
        guard !lite else { throw SDPNegotiationError(.unsupported, reason: "the offerer is ICE-lite like CommuCat (RFC 8445 §2.5)") }
        return RemoteTransportParameters(
            iceUfrag: ufrag, icePwd: pwd, iceOptions: media.iceOptions.isEmpty ? offer.iceOptions : media.iceOptions, candidates: candidates, endOfCandidates: endOfCandidates, fingerprints: usable,
            // RFC 8842 §5.1 makes a=setup mandatory; treat a missing one as the JSEP offer default.
            setup: media.setup ?? offer.setup ?? .actpass
        )
    }
}
