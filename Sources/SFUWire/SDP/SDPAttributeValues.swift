/// Typed values of the WebRTC attributes (RFC 8829 / JSEP usage). Each has a failable
/// `init?(value:)` over the text after `a=<name>:` and an `sdpValue` that serialises it back.

/// Media direction (RFC 8866 §6.7).
public enum SDPDirection: String, Hashable, Sendable, CaseIterable {
    case sendrecv, sendonly, recvonly, inactive

    /// The direction seen from the other side.
    public var reversed: SDPDirection {
        switch self {
        case .sendonly: return .recvonly
        case .recvonly: return .sendonly
        case .sendrecv, .inactive: return self
        }
    }
}

/// `a=setup` (RFC 4145 §4, RFC 8842 §5.1).
public enum SDPSetupRole: String, Hashable, Sendable {
    case active, passive, actpass, holdconn
}

/// `a=fingerprint:<hash-func> <fingerprint>` (RFC 8122 §5).
public struct SDPFingerprint: Hashable, Sendable {
    /// E.g. `sha-256`.
    public var algorithm: String
    /// Upper-case hex pairs separated by colons, as written.
    public var value: String

    public init(algorithm: String, value: String) {
        self.algorithm = algorithm
        self.value = value
    }

    /// Formats a digest as `AB:CD:…` (RFC 8122 §5).
    public init(algorithm: String, digest: some Sequence<UInt8>) {
        let hex = digest.map { byte -> String in
            let text = String(byte, radix: 16, uppercase: true)
            return text.count == 1 ? "0" + text : text
        }
        self.init(algorithm: algorithm, value: hex.joined(separator: ":"))
    }

    init?(value text: Substring) {
        let fields = text.split(separator: " ")
        guard fields.count == 2 else { return nil }
        self.init(algorithm: String(fields[0]), value: String(fields[1]))
        guard bytes != nil else { return nil }
    }

    /// The digest bytes, or `nil` if the value is not colon-separated hex pairs.
    public var bytes: [UInt8]? {
        var result: [UInt8] = []
        for pair in value.split(separator: ":", omittingEmptySubsequences: false) {
            guard pair.count == 2, let byte = UInt8(pair, radix: 16) else { return nil }
            result.append(byte)
        }
        return result.isEmpty ? nil : result
    }

    public var sdpValue: String { "\(algorithm) \(value)" }
}

/// `a=group:<semantics> <mid>…` (RFC 5888 §5), e.g. `BUNDLE 0 1`.
public struct SDPGroup: Hashable, Sendable {
    public var semantics: String
    public var mids: [String]

    public init(semantics: String, mids: [String]) {
        self.semantics = semantics
        self.mids = mids
    }

    init?(value: Substring) {
        let fields = value.split(separator: " ")
        guard let first = fields.first else { return nil }
        self.init(semantics: String(first), mids: fields.dropFirst().map(String.init))
    }

    public var sdpValue: String { ([semantics] + mids).joined(separator: " ") }
}

/// `a=msid:<stream id> [<track id>]` (RFC 8830 §2).
public struct SDPMsid: Hashable, Sendable {
    public var streamID: String
    public var trackID: String?

    public init(streamID: String, trackID: String? = nil) {
        self.streamID = streamID
        self.trackID = trackID
    }

    init?(value: Substring) {
        let fields = value.split(separator: " ")
        guard fields.count == 1 || fields.count == 2 else { return nil }
        self.init(streamID: String(fields[0]), trackID: fields.count == 2 ? String(fields[1]) : nil)
    }

    public var sdpValue: String { trackID.map { "\(streamID) \($0)" } ?? streamID }
}

/// `a=extmap:<id>[/<direction>] <uri> [<attributes>]` (RFC 8285 §8).
public struct SDPExtmap: Hashable, Sendable {
    /// 1...14 (one-byte), 1...255 (two-byte), 4096...4351 (negotiation range).
    public var id: UInt16
    public var direction: SDPDirection?
    public var uri: String
    public var extensionAttributes: String?

    public init(id: UInt16, direction: SDPDirection? = nil, uri: String, extensionAttributes: String? = nil) {
        self.id = id
        self.direction = direction
        self.uri = uri
        self.extensionAttributes = extensionAttributes
    }

    init?(value: Substring) {
        let fields = value.split(separator: " ", maxSplits: 2)
        guard fields.count >= 2 else { return nil }
        let idParts = fields[0].split(separator: "/", omittingEmptySubsequences: false)
        guard idParts.count <= 2, let id = UInt16(idParts[0]), (1...4351).contains(id) else { return nil }
        var direction: SDPDirection?
        if idParts.count == 2 {
            guard let parsed = SDPDirection(rawValue: String(idParts[1])) else { return nil }
            direction = parsed
        }
        self.init(
            id: id, direction: direction, uri: String(fields[1]), extensionAttributes: fields.count == 3 ? String(fields[2]) : nil
        )
    }

    public var sdpValue: String {
        var text = "\(id)"
        if let direction { text += "/\(direction.rawValue)" }
        text += " \(uri)"
        if let extensionAttributes { text += " \(extensionAttributes)" }
        return text
    }
}

/// `a=rtpmap:<payload type> <encoding name>/<clock rate>[/<channels>]` (RFC 8866 §6.6).
public struct SDPRtpmap: Hashable, Sendable {
    public var payloadType: UInt8
    public var encodingName: String
    public var clockRate: UInt32
    public var channels: Int?

    public init(payloadType: UInt8, encodingName: String, clockRate: UInt32, channels: Int? = nil) {
        self.payloadType = payloadType
        self.encodingName = encodingName
        self.clockRate = clockRate
        self.channels = channels
    }

    init?(value: Substring) {
        let fields = value.split(separator: " ")
        guard fields.count == 2, let payloadType = UInt8(fields[0]), payloadType <= 127 else { return nil }
        let parts = fields[1].split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2 || parts.count == 3, !parts[0].isEmpty, let clockRate = UInt32(parts[1]) else {
            return nil
        }
        var channels: Int?
        if parts.count == 3 {
            guard let count = Int(parts[2]), count > 0, count <= 255 else { return nil }
            channels = count
        }
        self.init(payloadType: payloadType, encodingName: String(parts[0]), clockRate: clockRate, channels: channels)
    }

    public var sdpValue: String {
        var text = "\(payloadType) \(encodingName)/\(clockRate)"
        if let channels { text += "/\(channels)" }
        return text
    }
}

/// `a=fmtp:<format> <format specific parameters>` (RFC 8866 §6.15).
public struct SDPFmtp: Hashable, Sendable {
    public var format: String
    /// Verbatim parameter text, e.g. `minptime=10;useinbandfec=1`.
    public var parameters: String

    public init(format: String, parameters: String) {
        self.format = format
        self.parameters = parameters
    }

    init?(value: Substring) {
        let fields = value.split(separator: " ", maxSplits: 1)
        guard fields.count == 2, !fields[0].isEmpty else { return nil }
        self.init(format: String(fields[0]), parameters: String(fields[1]))
    }

    /// `key=value` pairs split on `;` (keys without `=` get an empty value), whitespace trimmed.
    public var parameterList: [(key: String, value: String)] {
        parameters.split(separator: ";").map { pair in
            let trimmed = pair.drop { $0 == " " }
            guard let equals = trimmed.firstIndex(of: "=") else { return (String(trimmed), "") }
            return (String(trimmed[..<equals]), String(trimmed[trimmed.index(after: equals)...]))
        }
    }

    /// The value of parameter `key`, if present.
    public func parameter(_ key: String) -> String? {
        parameterList.first { $0.key == key }?.value
    }

    public var sdpValue: String { "\(format) \(parameters)" }
}

/// `a=rtcp-fb:<format|*> <type> [<parameter>]` (RFC 4585 §4.2), e.g. `96 nack pli`.
public struct SDPRtcpFeedback: Hashable, Sendable {
    /// A payload type or `*`.
    public var format: String
    public var type: String
    public var parameter: String?

    public init(format: String, type: String, parameter: String? = nil) {
        self.format = format
        self.type = type
        self.parameter = parameter
    }

    init?(value: Substring) {
        let fields = value.split(separator: " ", maxSplits: 2)
        guard fields.count >= 2 else { return nil }
        self.init(format: String(fields[0]), type: String(fields[1]), parameter: fields.count == 3 ? String(fields[2]) : nil)
    }

    public var sdpValue: String { [format, type, parameter].compactMap { $0 }.joined(separator: " ") }
}

/// `a=ssrc:<ssrc> <attribute>[:<value>]` (RFC 5576 §4.1).
public struct SDPSsrc: Hashable, Sendable {
    public var ssrc: UInt32
    public var attribute: String
    public var value: String?

    public init(ssrc: UInt32, attribute: String, value: String? = nil) {
        self.ssrc = ssrc
        self.attribute = attribute
        self.value = value
    }

    init?(value text: Substring) {
        let fields = text.split(separator: " ", maxSplits: 1)
        guard fields.count == 2, let ssrc = UInt32(fields[0]) else { return nil }
        if let colon = fields[1].firstIndex(of: ":") {
            self.init(ssrc: ssrc, attribute: String(fields[1][..<colon]), value: String(fields[1][fields[1].index(after: colon)...]))
        } else {
            self.init(ssrc: ssrc, attribute: String(fields[1]))
        }
    }

    public var sdpValue: String { "\(ssrc) \(attribute)" + (value.map { ":\($0)" } ?? "") }
}

/// `a=ssrc-group:<semantics> <ssrc>…` (RFC 5576 §4.2), e.g. `FID 1 2` (RTX) or `SIM 1 2 3`.
public struct SDPSsrcGroup: Hashable, Sendable {
    public var semantics: String
    public var ssrcs: [UInt32]

    public init(semantics: String, ssrcs: [UInt32]) {
        self.semantics = semantics
        self.ssrcs = ssrcs
    }

    init?(value: Substring) {
        let fields = value.split(separator: " ")
        guard fields.count >= 2 else { return nil }
        var ssrcs: [UInt32] = []
        for field in fields.dropFirst() {
            guard let ssrc = UInt32(field) else { return nil }
            ssrcs.append(ssrc)
        }
        self.init(semantics: String(fields[0]), ssrcs: ssrcs)
    }

    public var sdpValue: String { ([semantics] + ssrcs.map(String.init)).joined(separator: " ") }
}

/// `a=rid:<rid-id> <send|recv> [<restrictions>]` (RFC 8851 §10).
public struct SDPRid: Hashable, Sendable {
    public enum Direction: String, Hashable, Sendable { case send, recv }

    public var id: String
    public var direction: Direction
    /// Verbatim restriction list, e.g. `pt=96,97;max-width=1280`.
    public var restrictions: String?

    public init(id: String, direction: Direction, restrictions: String? = nil) {
        self.id = id
        self.direction = direction
        self.restrictions = restrictions
    }

    init?(value: Substring) {
        let fields = value.split(separator: " ", maxSplits: 2)
        guard fields.count >= 2, let direction = Direction(rawValue: String(fields[1])),
              fields[0].allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") })
        else { return nil }
        self.init(id: String(fields[0]), direction: direction, restrictions: fields.count == 3 ? String(fields[2]) : nil)
    }

    public var sdpValue: String { "\(id) \(direction.rawValue)" + (restrictions.map { " \($0)" } ?? "") }
}

/// `a=simulcast` (RFC 8853 §5.1): per direction, a `;`-separated list of streams, each a
/// `,`-separated list of alternative rids, each optionally paused with `~`.
public struct SDPSimulcast: Hashable, Sendable {
    public struct Alternative: Hashable, Sendable {
        public var rid: String
        public var paused: Bool

        public init(rid: String, paused: Bool = false) {
            self.rid = rid
            self.paused = paused
        }

        public var sdpValue: String { (paused ? "~" : "") + rid }
    }

    /// Streams to send; each stream lists alternatives (usually one).
    public var send: [[Alternative]]?
    public var receive: [[Alternative]]?

    public init(send: [[Alternative]]? = nil, receive: [[Alternative]]? = nil) {
        self.send = send
        self.receive = receive
    }

    init?(value: Substring) {
        let fields = value.split(separator: " ")
        guard fields.count == 2 || fields.count == 4 else { return nil }
        var send: [[Alternative]]?
        var receive: [[Alternative]]?
        for index in stride(from: 0, to: fields.count, by: 2) {
            guard let list = SDPSimulcast.parseList(fields[index + 1]) else { return nil }
            switch fields[index] {
            case "send" where send == nil: send = list
            case "recv" where receive == nil: receive = list
            default: return nil
            }
        }
        self.init(send: send, receive: receive)
    }

    static func parseList(_ text: Substring) -> [[Alternative]]? {
        var streams: [[Alternative]] = []
        for stream in text.split(separator: ";", omittingEmptySubsequences: false) {
            var alternatives: [Alternative] = []
            for alternative in stream.split(separator: ",", omittingEmptySubsequences: false) {
                let paused = alternative.first == "~"
                let rid = paused ? alternative.dropFirst() : alternative
                guard !rid.isEmpty, !rid.contains("~") else { return nil }
                alternatives.append(Alternative(rid: String(rid), paused: paused))
            }
            streams.append(alternatives)
        }
        return streams
    }

    public var sdpValue: String {
        func list(_ streams: [[Alternative]]) -> String {
            streams.map { $0.map(\.sdpValue).joined(separator: ",") }.joined(separator: ";")
        }
        var parts: [String] = []
        if let send { parts.append("send \(list(send))") }
        if let receive { parts.append("recv \(list(receive))") }
        return parts.joined(separator: " ")
    }

    /// The same description from the answerer's side: send ⇄ recv (RFC 8853 §5.3).
    public var reversed: SDPSimulcast { SDPSimulcast(send: receive, receive: send) }
}
