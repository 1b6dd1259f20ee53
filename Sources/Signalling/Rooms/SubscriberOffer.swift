import SFUWire

/// One m-section of a participant's subscriber connection: a remote track the SFU sends, or a
/// section whose track ended (kept `inactive` so later offers keep the same mids, RFC 8829 §5.2.2).
struct SubscriberSection: Hashable, Sendable {
    var mid: String
    var kind: MediaKind
    /// The `a=msid` track id (the published track's id) and stream id (its participant id).
    var trackID: String
    var participantID: String
    /// The codec the SFU sends, with the payload types of this connection (primary, RTX in it).
    var codec: NegotiatedCodec
    var headerExtensions: [NegotiatedHeaderExtension]
    var stream: OutgoingStream?
    /// `false` once the track ended: the section goes `inactive` and carries no SSRC.
    var active: Bool
}

/// Payload types of one subscriber connection. The SFU offers, so it picks them; within one
/// BUNDLE group a payload type must mean one codec in every m-section (RFC 8843 §9.1), and a
/// section keeps its payload types across renegotiations, so the table only grows.
struct PayloadTypeTable: Sendable {
    private var assigned: [String: (primary: UInt8, rtx: UInt8?)] = [:]
    private var used: Set<UInt8> = []

    /// `codec` with this connection's payload types, or `nil` when the dynamic range is full.
    mutating func map(_ codec: NegotiatedCodec) -> NegotiatedCodec? {
        let key = "\(codec.name.lowercased())/\(codec.clockRate)/\(codec.channels ?? 1)/\(codec.parameters ?? "")"
        var mapped = codec
        if let existing = assigned[key] {
            mapped.payloadType = existing.primary
            mapped.rtxPayloadType = codec.rtxPayloadType == nil ? nil : existing.rtx
            return mapped
        }
        guard let primary = next() else { return nil }
        used.insert(primary)
        var rtx: UInt8?
        if codec.kindIsVideo {
            rtx = next()
            if let rtx { used.insert(rtx) }
        }
        assigned[key] = (primary, rtx)
        mapped.payloadType = primary
        mapped.rtxPayloadType = codec.rtxPayloadType == nil ? nil : rtx
        return mapped
    }

    /// Dynamic payload types (RFC 3551 §6), avoiding 64–95, which collide with RTCP packet types
    /// under rtcp-mux (RFC 5761 §4).
    private func next() -> UInt8? {
        (96...127).first { !used.contains(UInt8($0)) }.map(UInt8.init)
    }
}

extension NegotiatedCodec {
    /// Video codecs get an RTX payload type; audio ones do not.
    fileprivate var kindIsVideo: Bool { clockRate == 90_000 }
}

/// Builds the SFU's offer for a subscriber connection (RFC 8829 §5.2): ICE-lite, one BUNDLE group,
/// `a=setup:actpass`, every section `sendonly` with the SSRCs the SFU sends (`a=ssrc`, RFC 5576)
/// or `inactive` once its track ended.
enum SubscriberOfferBuilder {
    static func offer(
        local: LocalTransportDescription, sections: [SubscriberSection], sessionID: UInt64, version: Int
    ) -> SessionDescription {
        var attributes: [SDPAttribute] = []
        if local.iceLite { attributes.append(.iceLite) }
        attributes.append(.group(SDPGroup(semantics: "BUNDLE", mids: sections.map(\.mid))))
        attributes.append(.other(name: "msid-semantic", value: " WMS *"))
        var offer = SessionDescription(
            origin: SDPOrigin(sessionID: String(sessionID), sessionVersion: UInt64(max(version, 0)), address: "0.0.0.0"), attributes: attributes)
        for section in sections {
            offer.media.append(media(section, local: local))
        }
        return offer
    }

    private static func media(_ section: SubscriberSection, local: LocalTransportDescription) -> SDPMediaDescription {
        let codec = section.codec
        var attributes: [SDPAttribute] = [.mid(section.mid)]
        attributes += [.iceUfrag(local.iceUfrag), .icePwd(local.icePwd)]
        attributes += local.fingerprints.map { .fingerprint($0) }
        attributes.append(.setup(.actpass))
        attributes += [.direction(section.active ? .sendonly : .inactive), .rtcpMux, .rtcpRsize]
        for item in section.headerExtensions { attributes.append(.extmap(SDPExtmap(id: item.id, uri: item.uri))) }
        let (formats, codecAttributes) = SDPAnswerBuilder.codecLines([codec])
        attributes += codecAttributes
        if section.active, let stream = section.stream {
            let msid = SDPMsid(streamID: section.participantID, trackID: section.trackID)
            attributes.append(.msid(msid))
            let rtx = codec.rtxPayloadType != nil ? stream.rtxSSRC : nil
            if let rtx { attributes.append(.ssrcGroup(SDPSsrcGroup(semantics: "FID", ssrcs: [stream.ssrc, rtx]))) }
            for ssrc in [stream.ssrc] + (rtx.map { [$0] } ?? []) {
                attributes.append(.ssrc(SDPSsrc(ssrc: ssrc, attribute: "cname", value: stream.cname)))
                attributes.append(.ssrc(SDPSsrc(ssrc: ssrc, attribute: "msid", value: msid.sdpValue)))
            }
        }
        var media = SDPMediaDescription(media: section.kind.rawValue, port: 9, proto: "UDP/TLS/RTP/SAVPF", formats: formats)
        if let first = local.candidates.first {
            media.port = first.port
            media.connections = [SDPConnection(addressType: first.address.contains(":") ? "IP6" : "IP4", address: first.address)]
        } else {
            media.connections = [SDPConnection(address: "0.0.0.0")]
        }
        attributes += local.candidates.map { .candidate($0) }
        attributes.append(.endOfCandidates)
        media.attributes = attributes
        return media
    }

    /// The feedback the SFU asks subscribers for (RFC 4585 §4.2): NACK and keyframe requests for
    /// video, which the engine answers and relays; nothing for audio.
    static func feedback(for kind: MediaKind) -> [MediaCapabilities.FeedbackType] {
        kind == .video ? [.init("nack"), .init("nack", "pli"), .init("ccm", "fir")] : []
    }
}
