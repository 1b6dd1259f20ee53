/// An ICE candidate line (RFC 8839 §5.1, TCP candidates RFC 6544 §4.5):
///
///     candidate:<foundation> <component> <transport> <priority> <address> <port> typ <type>
///               [raddr <address>] [rport <port>] *(<extension name> <extension value>)
public struct SDPCandidate: Hashable, Sendable {
    public enum CandidateType: Hashable, Sendable {
        case host, serverReflexive, peerReflexive, relay
        case other(String)

        public init(_ text: String) {
            switch text {
            case "host": self = .host
            case "srflx": self = .serverReflexive
            case "prflx": self = .peerReflexive
            case "relay": self = .relay
            default: self = .other(text)
            }
        }

        public var sdpValue: String {
            switch self {
            case .host: return "host"
            case .serverReflexive: return "srflx"
            case .peerReflexive: return "prflx"
            case .relay: return "relay"
            case .other(let text): return text
            }
        }
    }

    /// RFC 6544 §4.5 `tcptype`.
    public enum TCPType: String, Hashable, Sendable {
        case active, passive, so
    }

    public struct Extension: Hashable, Sendable {
        public var name: String
        public var value: String

        public init(name: String, value: String) {
            self.name = name
            self.value = value
        }
    }

    public var foundation: String
    public var component: UInt16
    /// `UDP` or `TCP` as written (case preserved).
    public var transport: String
    public var priority: UInt32
    /// IP address or FQDN (e.g. an mDNS `.local` name).
    public var address: String
    public var port: UInt16
    public var type: CandidateType
    public var relatedAddress: String?
    public var relatedPort: UInt16?
    public var tcpType: TCPType?
    /// Other extensions in order (`generation`, `ufrag`, `network-id`, …).
    public var extensions: [Extension]

    public init(
        foundation: String, component: UInt16 = 1, transport: String = "UDP", priority: UInt32, address: String,
        port: UInt16, type: CandidateType, relatedAddress: String? = nil, relatedPort: UInt16? = nil,
        tcpType: TCPType? = nil, extensions: [Extension] = []
    ) {
        self.foundation = foundation
        self.component = component
        self.transport = transport
        self.priority = priority
        self.address = address
        self.port = port
        self.type = type
        self.relatedAddress = relatedAddress
        self.relatedPort = relatedPort
        self.tcpType = tcpType
        self.extensions = extensions
    }

    public var isTCP: Bool { transport.lowercased() == "tcp" }

    /// Parses `candidate:…`, `a=candidate:…`, or the bare value after `a=candidate:`.
    public init(parsing text: some StringProtocol, line: Int? = nil) throws(WireParseError) {
        var value = Substring(text)
        while let last = value.last, last.isNewline { value = value.dropLast() }  // "\r\n" is one Character
        if value.hasPrefix("a=") { value = value.dropFirst(2) }
        if value.hasPrefix("candidate:") { value = value.dropFirst("candidate:".count) }
        func fail(_ detail: String) -> WireParseError {
            WireParseError(.sdpInvalidCandidate, line: line, detail: detail)
        }
        let fields = value.split(separator: " ")
        guard fields.count >= 8 else { throw fail("fewer than 8 fields") }
        // RFC 8839 §5.1: foundation = 1*32ice-char; ice-char = ALPHA / DIGIT / "+" / "/".
        guard (1...32).contains(fields[0].count),
              fields[0].allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "+" || $0 == "/") })
        else { throw fail("bad foundation") }
        guard fields[1].count <= 3, let component = UInt16(fields[1]), (1...256).contains(component) else {
            throw fail("bad component id")
        }
        guard !fields[2].isEmpty, fields[2].allSatisfy({ $0.isASCII && !$0.isWhitespace }) else {
            throw fail("bad transport")
        }
        guard fields[3].count <= 10, let priority = UInt32(fields[3]) else { throw fail("bad priority") }
        guard let port = UInt16(fields[5]) else { throw fail("bad port") }
        guard fields[6] == "typ" else { throw fail("missing typ") }
        self.init(
            foundation: String(fields[0]), component: component, transport: String(fields[2]), priority: priority,
            address: String(fields[4]), port: port, type: CandidateType(String(fields[7]))
        )
        var index = 8
        guard (fields.count - index) % 2 == 0 else { throw fail("extension without value") }
        while index + 1 < fields.count {
            let name = fields[index]
            let argument = fields[index + 1]
            switch name {
            case "raddr" where relatedAddress == nil && extensions.isEmpty && tcpType == nil:
                relatedAddress = String(argument)
            case "rport" where relatedPort == nil && extensions.isEmpty && tcpType == nil:
                guard let value = UInt16(argument) else { throw fail("bad rport") }
                relatedPort = value
            case "tcptype" where tcpType == nil:
                guard let value = TCPType(rawValue: String(argument)) else { throw fail("bad tcptype") }
                tcpType = value
            default:
                extensions.append(Extension(name: String(name), value: String(argument)))
            }
            index += 2
        }
    }

    /// The value after `a=candidate:`.
    public var sdpValue: String {
        var text = "\(foundation) \(component) \(transport) \(priority) \(address) \(port) typ \(type.sdpValue)"
        if let relatedAddress { text += " raddr \(relatedAddress)" }
        if let relatedPort { text += " rport \(relatedPort)" }
        if let tcpType { text += " tcptype \(tcpType.rawValue)" }
        for item in extensions { text += " \(item.name) \(item.value)" }
        return text
    }

    /// `candidate:…`, the form of `RTCIceCandidate.candidate` and of trickle fragments.
    public var attributeText: String { "candidate:" + sdpValue }

    /// RFC 8445 §5.1.2.1: (2^24)·type preference + (2^8)·local preference + (256 − component).
    public static func priority(typePreference: UInt32, localPreference: UInt32, component: UInt16) -> UInt32 {
        (min(typePreference, 126) << 24) | (min(localPreference, 65535) << 8) | (256 - UInt32(min(component, 256)))
    }
}
