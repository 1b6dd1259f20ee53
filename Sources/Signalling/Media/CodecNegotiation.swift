import SFUWire

/// Codec choice for one m-section (RFC 8829 §5.3.1: the answer lists a subset of the offered
/// formats with the offer's payload types).
enum CodecNegotiation {
    /// Publisher: the first SFU-preferred codec the offer carries (plus its RTX, and RED for
    /// Opus). Subscriber: every SFU codec the offer can receive, each with its RTX.
    static func choose(
        in media: SDPMediaDescription, kind: MediaKind, purpose: NegotiatedOffer.Purpose, capabilities: MediaCapabilities
    ) -> [NegotiatedCodec] {
        let offered = offeredRtpmaps(media)
        var chosen: [NegotiatedCodec] = []
        for supported in capabilities.codecs(of: kind) {
            var candidates = offered.filter { supported.matches($0) }.compactMap { rtpmap in
                codec(rtpmap, in: media, kind: kind, capabilities: capabilities)
            }
            if supported.name.uppercased() == "H264" {
                // RFC 6184 §8.1: only packetization-mode 1 and known profiles; order by the SFU's
                // profile preference, then the offer's order.
                candidates = candidates.filter { codec in
                    codec.h264Profile.map { capabilities.h264Profiles.contains($0) } ?? false
                }
                let rank = { (codec: NegotiatedCodec) -> Int in
                    codec.h264Profile.flatMap { capabilities.h264Profiles.firstIndex(of: $0) } ?? Int.max
                }
                candidates = candidates.enumerated().sorted { lhs, rhs in
                    (rank(lhs.element), lhs.offset) < (rank(rhs.element), rhs.offset)
                }.map(\.element)
            }
            guard !candidates.isEmpty else { continue }
            if purpose == .publish {
                chosen = [candidates[0]]
                break
            }
            for candidate in candidates where !chosen.contains(where: { $0.isSameCodec(as: candidate) }) {
                chosen.append(candidate)
            }
        }
        if kind == .audio, capabilities.audioRED, !chosen.isEmpty {
            chosen += red(in: media, offered: offered, wrapping: chosen, capabilities: capabilities)
        }
        return chosen
    }

    /// The offer's rtpmaps in `m=` format order (RFC 8866 §5.14: the order is the preference).
    private static func offeredRtpmaps(_ media: SDPMediaDescription) -> [SDPRtpmap] {
        media.formats.compactMap { format in UInt8(format).flatMap { media.rtpmap(payloadType: $0) } }
    }

    private static func codec(
        _ rtpmap: SDPRtpmap, in media: SDPMediaDescription, kind: MediaKind, capabilities: MediaCapabilities
    ) -> NegotiatedCodec? {
        let fmtp = media.fmtp(payloadType: rtpmap.payloadType)
        var profile: H264Profile?
        if rtpmap.encodingName.uppercased() == "H264" {
            guard H264Profile.packetizationMode(fmtp) == 1, let parsed = H264Profile.of(fmtp) else { return nil }
            profile = parsed
        }
        return NegotiatedCodec(
            payloadType: rtpmap.payloadType, name: rtpmap.encodingName, clockRate: rtpmap.clockRate,
            channels: rtpmap.channels, parameters: fmtp?.parameters,
            feedback: feedback(for: rtpmap.payloadType, in: media, kind: kind, capabilities: capabilities),
            rtxPayloadType: kind == .video && capabilities.rtx ? rtx(for: rtpmap, in: media) : nil, h264Profile: profile
        )
    }

    /// RFC 4585 §4.2: `a=rtcp-fb:<pt>` or `a=rtcp-fb:*`, kept when the SFU handles it.
    private static func feedback(
        for payloadType: UInt8, in media: SDPMediaDescription, kind: MediaKind, capabilities: MediaCapabilities
    ) -> [MediaCapabilities.FeedbackType] {
        var result: [MediaCapabilities.FeedbackType] = []
        for line in media.rtcpFeedback where line.format == "*" || line.format == String(payloadType) {
            let type = MediaCapabilities.FeedbackType(line.type, line.parameter)
            if capabilities.feedback(of: kind).contains(type), !result.contains(type) { result.append(type) }
        }
        return result
    }

    /// RFC 4588 §8.6: `a=rtpmap:<rtx pt> rtx/<clock>` with `a=fmtp:<rtx pt> apt=<pt>`.
    private static func rtx(for primary: SDPRtpmap, in media: SDPMediaDescription) -> UInt8? {
        for rtpmap in offeredRtpmaps(media) where rtpmap.encodingName.lowercased() == "rtx" && rtpmap.clockRate == primary.clockRate {
            if media.fmtp(payloadType: rtpmap.payloadType)?.parameter("apt") == String(primary.payloadType) {
                return rtpmap.payloadType
            }
        }
        return nil
    }

    /// RFC 2198 RED for audio: `red/48000/2` whose fmtp names only chosen payload types
    /// (`111/111`); passed through untouched.
    private static func red(
        in media: SDPMediaDescription, offered: [SDPRtpmap], wrapping chosen: [NegotiatedCodec], capabilities: MediaCapabilities
    ) -> [NegotiatedCodec] {
        let chosenTypes = Set(chosen.map { String($0.payloadType) })
        var result: [NegotiatedCodec] = []
        for rtpmap in offered where rtpmap.encodingName.lowercased() == "red" && rtpmap.clockRate == 48000 {
            let fmtp = media.fmtp(payloadType: rtpmap.payloadType)
            let redundant = fmtp.map { $0.parameters.split(separator: "/").map(String.init) } ?? []
            guard !redundant.isEmpty, redundant.allSatisfy({ chosenTypes.contains($0) }) else { continue }
            result.append(
                NegotiatedCodec(
                    payloadType: rtpmap.payloadType, name: rtpmap.encodingName, clockRate: rtpmap.clockRate,
                    channels: rtpmap.channels, parameters: fmtp?.parameters,
                    feedback: feedback(for: rtpmap.payloadType, in: media, kind: .audio, capabilities: capabilities)
                )
            )
            break
        }
        return result
    }
}
