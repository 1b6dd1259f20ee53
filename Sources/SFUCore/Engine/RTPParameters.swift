// RTP parameters: what the media core needs to know about one media section, as plain Swift values.
//
// SFUCore never sees SDP (STYLE §1). Signalling maps each negotiated `m=` section to these types:
//
// | SDP (RFC 8866, RFC 8829/JSEP)                         | here                                        |
// |--------------------------------------------------------|---------------------------------------------|
// | `a=mid:<mid>`                                          | `RTPParameters.mid`                         |
// | `a=rtpmap:<pt> <name>/<rate>[/<channels>]`             | `RTPCodecParameters` `payloadType`, `mimeType` = "<kind>/<name>" (e.g. "video/VP8", "audio/opus"), `clockRate`, `channels` (audio only; `nil` for video) |
// | `a=fmtp:<pt> k=v;k=v`                                  | `RTPCodecParameters.parameters` (`["profile-level-id": "42e01f", …]`) |
// | `a=rtcp-fb:<pt> <type> [<param>]`                      | `RTPCodecParameters.rtcpFeedback` (`RTCPFeedback(type: "nack", parameter: "pli")`); `*` entries are copied onto every codec |
// | `a=rtpmap:<rtx-pt> rtx/<rate>` + `a=fmtp:<rtx-pt> apt=<pt>` | `RTPCodecParameters.rtxPayloadType` on the codec `apt` names (RFC 4588 §8.6); no separate rtx codec entry |
// | `a=extmap:<id> <uri>`                                  | `RTPHeaderExtensionParameters(uri:id:)`; URIs in `RTPHeaderExtensionURI` |
// | `a=ssrc:<ssrc> cname:<cname>`                          | `RTPParameters.cname`                       |
// | `a=ssrc-group:FID <ssrc> <rtx-ssrc>`                   | `RTPEncodingParameters(ssrc:rtxSSRC:)`      |
// | `a=rid:<rid> send` + `a=simulcast:send …` (RFC 8853)   | one `RTPEncodingParameters(rid:)` per rid, in the simulcast order |
//
// Producer (`WebRTCTransport.produce(kind:parameters:)`): the publisher's offer/answer values. At
// least one codec; encodings list the SSRCs (or rids) the publisher sends. An encoding without an
// SSRC is bound to the first unknown SSRC that arrives carrying its rid (or, failing that, the mid)
// header extension, or — when the producer has exactly one such encoding — to the first unknown
// SSRC on the transport.
//
// Consumer (`WebRTCTransport.consume(producer:codecs:headerExtensions:)`): the subscriber's codecs
// (with *its* payload types) and header extensions; the SFU picks the first subscriber codec
// matching the producer's (mimeType case-insensitive, clockRate, channels, and for H.264 the
// `packetization-mode` and `profile-level-id` profile), and answers with the ``Consumer/rtpParameters``
// it will send (SSRCs chosen by the SFU, the producer's cname) for Signalling to put into the
// subscriber's SDP.

/// Audio or video.
public enum MediaKind: String, Hashable, Sendable {
    case audio
    case video
}

/// One `a=rtcp-fb` value (RFC 4585 §4.2): `type` and optional `parameter`, e.g. `nack`, `nack pli`,
/// `ccm fir`, `transport-cc`, `goog-remb`.
public struct RTCPFeedback: Hashable, Sendable {
    public var type: String
    public var parameter: String?

    public init(type: String, parameter: String? = nil) {
        self.type = type
        self.parameter = parameter
    }

    public static let nack = RTCPFeedback(type: "nack")
    public static let pli = RTCPFeedback(type: "nack", parameter: "pli")
    public static let fir = RTCPFeedback(type: "ccm", parameter: "fir")
    public static let transportCC = RTCPFeedback(type: "transport-cc")
    public static let remb = RTCPFeedback(type: "goog-remb")
}

/// One codec of a media section (`a=rtpmap` + `a=fmtp` + `a=rtcp-fb`).
public struct RTPCodecParameters: Hashable, Sendable {
    /// `"<kind>/<encoding name>"`, e.g. `"video/VP8"`, `"video/H264"`, `"audio/opus"`. Compared
    /// case-insensitively.
    public var mimeType: String
    /// 0...127 (dynamic types are 96...127).
    public var payloadType: UInt8
    /// RTP clock rate in Hz (90000 for video, 48000 for Opus).
    public var clockRate: UInt32
    /// Audio channels (`2` for Opus); `nil` for video.
    public var channels: UInt8?
    /// The `a=fmtp` key/value pairs.
    public var parameters: [String: String]
    /// The `a=rtcp-fb` entries for this payload type.
    public var rtcpFeedback: [RTCPFeedback]
    /// The payload type of this codec's RTX stream (RFC 4588), if negotiated.
    public var rtxPayloadType: UInt8?

    public init(
        mimeType: String, payloadType: UInt8, clockRate: UInt32, channels: UInt8? = nil,
        parameters: [String: String] = [:], rtcpFeedback: [RTCPFeedback] = [], rtxPayloadType: UInt8? = nil
    ) {
        self.mimeType = mimeType
        self.payloadType = payloadType
        self.clockRate = clockRate
        self.channels = channels
        self.parameters = parameters
        self.rtcpFeedback = rtcpFeedback
        self.rtxPayloadType = rtxPayloadType
    }

    /// The encoding name in lower case: `"vp8"`, `"opus"`, …
    public var codecName: String {
        let lower = mimeType.lowercased()
        guard let slash = lower.firstIndex(of: "/") else { return lower }
        return String(lower[lower.index(after: slash)...])
    }

    /// Whether a sender of `self` may be forwarded to a receiver that negotiated `other` (same
    /// codec, clock rate and channels; for H.264 the same packetization mode and profile).
    public func isCompatible(with other: RTPCodecParameters) -> Bool {
        guard mimeType.lowercased() == other.mimeType.lowercased(), clockRate == other.clockRate,
            (channels ?? 1) == (other.channels ?? 1)
        else { return false }
        if codecName == "h264" {
            // RFC 6184 §8.1: packetization-mode defaults to 0; profile_idc + profile-iop (the first
            // four hex digits of profile-level-id) must match, the level may differ.
            let mode = parameters["packetization-mode"] ?? "0"
            let otherMode = other.parameters["packetization-mode"] ?? "0"
            let profile = (parameters["profile-level-id"] ?? "42001f").lowercased().prefix(4)
            let otherProfile = (other.parameters["profile-level-id"] ?? "42001f").lowercased().prefix(4)
            return mode == otherMode && profile == otherProfile
        }
        return true
    }

    func hasFeedback(_ feedback: RTCPFeedback) -> Bool { rtcpFeedback.contains(feedback) }
}

/// Well-known header extension URIs (RFC 8285 `a=extmap`).
public enum RTPHeaderExtensionURI {
    /// RFC 8843 §15.2.
    public static let mid = "urn:ietf:params:rtp-hdrext:sdes:mid"
    /// RFC 8852 §4.3.
    public static let rtpStreamID = "urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id"
    /// RFC 8852 §4.4.
    public static let repairedRTPStreamID = "urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id"
    /// RFC 6464.
    public static let audioLevel = "urn:ietf:params:rtp-hdrext:ssrc-audio-level"
    public static let absSendTime = "http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time"
    public static let transportWideCC =
        "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01"
}

/// One `a=extmap:<id> <uri>`.
public struct RTPHeaderExtensionParameters: Hashable, Sendable {
    public var uri: String
    /// 1...14 for the one-byte form, up to 255 for the two-byte form (RFC 8285 §4.2-§4.3).
    public var id: UInt8

    public init(uri: String, id: UInt8) {
        self.uri = uri
        self.id = id
    }
}

/// One RTP stream a producer sends (or a consumer will send): `a=ssrc` / `a=ssrc-group:FID` /
/// `a=rid`.
public struct RTPEncodingParameters: Hashable, Sendable {
    public var ssrc: UInt32?
    /// The RTX (RFC 4588) SSRC of this encoding.
    public var rtxSSRC: UInt32?
    /// The RID (RFC 8851) for simulcast.
    public var rid: String?

    public init(ssrc: UInt32? = nil, rtxSSRC: UInt32? = nil, rid: String? = nil) {
        self.ssrc = ssrc
        self.rtxSSRC = rtxSSRC
        self.rid = rid
    }
}

/// The RTP parameters of one media section. See the header of this file for the SDP mapping.
public struct RTPParameters: Hashable, Sendable {
    public var mid: String?
    public var codecs: [RTPCodecParameters]
    public var headerExtensions: [RTPHeaderExtensionParameters]
    public var encodings: [RTPEncodingParameters]
    /// RTCP CNAME (RFC 3550 §6.5.1).
    public var cname: String?

    public init(
        mid: String? = nil, codecs: [RTPCodecParameters], headerExtensions: [RTPHeaderExtensionParameters] = [],
        encodings: [RTPEncodingParameters] = [], cname: String? = nil
    ) {
        self.mid = mid
        self.codecs = codecs
        self.headerExtensions = headerExtensions
        self.encodings = encodings
        self.cname = cname
    }

    /// The id negotiated for `uri`, if any.
    public func extensionID(_ uri: String) -> UInt8? {
        headerExtensions.first { $0.uri == uri }?.id
    }
}
