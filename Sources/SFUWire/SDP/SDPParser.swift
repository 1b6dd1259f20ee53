extension SessionDescription {
    /// Largest SDP accepted (bytes); WHIP bodies beyond this are rejected before parsing.
    public static let maximumSize = 256 * 1024

    /// Parses an SDP text (CRLF or LF line endings). Errors carry the 1-based line number and a
    /// reason suitable for an HTTP 400 body.
    public init(parsing text: String) throws(WireParseError) {
        guard text.utf8.count <= SessionDescription.maximumSize else {
            throw WireParseError(.sdpInvalidLine, line: nil, detail: "SDP larger than \(SessionDescription.maximumSize) bytes")
        }
        var parser = SDPParser()
        // "\r\n" is one Character in Swift, so split on both forms.
        let lines = text.split(omittingEmptySubsequences: false) { $0 == "\n" || $0 == "\r\n" }
        for (index, rawLine) in lines.enumerated() {
            let line = rawLine.last == "\r" ? rawLine.dropLast() : rawLine
            try parser.consume(line, number: index + 1)
        }
        self = try parser.finish()
    }
}

/// Line-by-line state machine for RFC 8866 §5 ordering:
/// session `v o s [i] [u] *e *p [c] *b *(t *r) [z] [k] *a`, then `*(m [i] *c *b [k] *a)`.
struct SDPParser {
    private var version: Int?
    private var origin: SDPOrigin?
    private var sessionName: String?
    private var session: SessionDescription?
    private var currentMedia: SDPMediaDescription?
    private var lastLine = 0

    private static let sessionTypes: Set<Character> = ["v", "o", "s", "i", "u", "e", "p", "c", "b", "t", "r", "z", "k", "a"]
    private static let mediaTypes: Set<Character> = ["i", "c", "b", "k", "a", "m"]

    mutating func consume(_ line: Substring, number: Int) throws(WireParseError) {
        if line.isEmpty { return }  // tolerated: blank lines, and the empty tail after a final CRLF
        lastLine = number
        guard line.count >= 2, let type = line.first, line[line.index(after: line.startIndex)] == "=",
              type.isASCII, type.isLowercase
        else { throw WireParseError(.sdpInvalidLine, line: number, detail: "expected <type>=<value>") }
        let value = line.dropFirst(2)

        if version == nil {
            guard type == "v" else { throw WireParseError(.sdpMissingVersion, line: number, detail: "first line must be v=") }
            guard value == "0" else { throw WireParseError(.sdpInvalidVersion, line: number, detail: "v= must be 0") }
            version = 0
            return
        }
        if session == nil {
            try consumeSessionHeader(type: type, value: value, number: number)
            return
        }
        if type == "m" {
            flushMedia()
            currentMedia = try SDPParser.mediaLine(value, number: number)
            return
        }
        if currentMedia != nil {
            try consumeMedia(type: type, value: value, number: number)
        } else {
            try consumeSession(type: type, value: value, number: number)
        }
    }

    /// `o=` then `s=` must follow `v=` (RFC 8866 §5).
    private mutating func consumeSessionHeader(type: Character, value: Substring, number: Int) throws(WireParseError) {
        if origin == nil {
            guard type == "o" else { throw WireParseError(.sdpUnexpectedLine, line: number, detail: "expected o= after v=") }
            guard let parsed = SDPOrigin(value: value) else {
                throw WireParseError(.sdpInvalidOrigin, line: number, detail: "o= needs 6 fields with numeric session id and version")
            }
            origin = parsed
            return
        }
        guard type == "s" else { throw WireParseError(.sdpUnexpectedLine, line: number, detail: "expected s= after o=") }
        guard let origin else { return }
        var description = SessionDescription(origin: origin, sessionName: String(value), timings: [])
        description.version = 0
        session = description
    }

    private mutating func consumeSession(type: Character, value: Substring, number: Int) throws(WireParseError) {
        guard var description = session else { return }
        switch type {
        case "i": description.information = String(value)
        case "u": description.uri = String(value)
        case "e": description.emails.append(String(value))
        case "p": description.phones.append(String(value))
        case "c":
            guard let connection = SDPConnection(value: value) else {
                throw WireParseError(.sdpInvalidConnection, line: number, detail: "c= needs nettype addrtype address")
            }
            description.connection = connection
        case "b":
            guard let bandwidth = SDPBandwidth(value: value) else {
                throw WireParseError(.sdpInvalidLine, line: number, detail: "b= needs <type>:<number>")
            }
            description.bandwidths.append(bandwidth)
        case "t":
            guard let timing = SDPTiming(value: value) else {
                throw WireParseError(.sdpInvalidTiming, line: number, detail: "t= needs two numbers")
            }
            description.timings.append(timing)
        case "r":
            guard !description.timings.isEmpty else {
                throw WireParseError(.sdpUnexpectedLine, line: number, detail: "r= without t=")
            }
            description.timings[description.timings.count - 1].repeats.append(String(value))
        case "z": description.timeZones = String(value)
        case "k": description.encryptionKey = String(value)
        case "a": description.attributes.append(try SDPAttribute(parsing: value, line: number))
        case "v", "o", "s":
            throw WireParseError(.sdpUnexpectedLine, line: number, detail: "duplicate \(type)= line")
        default:
            throw WireParseError(.sdpInvalidLine, line: number, detail: "unknown line type \(type)=")
        }
        session = description
    }

    private mutating func consumeMedia(type: Character, value: Substring, number: Int) throws(WireParseError) {
        guard var media = currentMedia else { return }
        switch type {
        case "i": media.information = String(value)
        case "c":
            guard let connection = SDPConnection(value: value) else {
                throw WireParseError(.sdpInvalidConnection, line: number, detail: "c= needs nettype addrtype address")
            }
            media.connections.append(connection)
        case "b":
            guard let bandwidth = SDPBandwidth(value: value) else {
                throw WireParseError(.sdpInvalidLine, line: number, detail: "b= needs <type>:<number>")
            }
            media.bandwidths.append(bandwidth)
        case "k": media.encryptionKey = String(value)
        case "a": media.attributes.append(try SDPAttribute(parsing: value, line: number))
        default:
            if SDPParser.sessionTypes.contains(type) {
                throw WireParseError(.sdpUnexpectedLine, line: number, detail: "\(type)= is not allowed in a media section")
            }
            throw WireParseError(.sdpInvalidLine, line: number, detail: "unknown line type \(type)=")
        }
        currentMedia = media
    }

    /// `m=<media> <port>[/<number of ports>] <proto> <fmt> …` (RFC 8866 §5.14).
    static func mediaLine(_ value: Substring, number: Int) throws(WireParseError) -> SDPMediaDescription {
        let fields = value.split(separator: " ")
        guard fields.count >= 4 else {
            throw WireParseError(.sdpInvalidMediaLine, line: number, detail: "m= needs media, port, proto and formats")
        }
        let portParts = fields[1].split(separator: "/", omittingEmptySubsequences: false)
        guard portParts.count <= 2, portParts[0].allSatisfy(\.isASCIIDigit), portParts[0].count <= 5,
              let port = UInt16(portParts[0])
        else { throw WireParseError(.sdpInvalidPort, line: number, detail: "port must be 0...65535") }
        var portCount: Int?
        if portParts.count == 2 {
            guard let count = Int(portParts[1]), count > 0 else {
                throw WireParseError(.sdpInvalidPort, line: number, detail: "bad number of ports")
            }
            portCount = count
        }
        guard fields[0].allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }) else {
            throw WireParseError(.sdpInvalidMediaLine, line: number, detail: "bad media type")
        }
        return SDPMediaDescription(
            media: String(fields[0]), port: port, portCount: portCount, proto: String(fields[2]),
            formats: fields.dropFirst(3).map(String.init)
        )
    }

    private mutating func flushMedia() {
        if let media = currentMedia { session?.media.append(media) }
        currentMedia = nil
    }

    mutating func finish() throws(WireParseError) -> SessionDescription {
        guard version != nil else { throw WireParseError(.sdpMissingVersion, line: 1, detail: "empty SDP") }
        guard origin != nil else { throw WireParseError(.sdpInvalidOrigin, line: lastLine + 1, detail: "missing o=") }
        flushMedia()
        guard let session else { throw WireParseError(.sdpUnexpectedLine, line: lastLine + 1, detail: "missing s=") }
        return session
    }
}

extension SessionDescription {
    /// The SDP text, lines in RFC 8866 §5 order, each ending in CRLF.
    public var serialized: String {
        var lines: [String] = ["v=\(version)", "o=\(origin.sdpValue)", "s=\(sessionName)"]
        if let information { lines.append("i=\(information)") }
        if let uri { lines.append("u=\(uri)") }
        lines += emails.map { "e=\($0)" }
        lines += phones.map { "p=\($0)" }
        if let connection { lines.append("c=\(connection.sdpValue)") }
        lines += bandwidths.map { "b=\($0.sdpValue)" }
        for timing in timings {
            lines.append("t=\(timing.sdpValue)")
            lines += timing.repeats.map { "r=\($0)" }
        }
        if let timeZones { lines.append("z=\(timeZones)") }
        if let encryptionKey { lines.append("k=\(encryptionKey)") }
        lines += attributes.map { "a=\($0.sdpText)" }
        for section in media { lines += section.serializedLines }
        return lines.joined(separator: "\r\n") + "\r\n"
    }
}

extension SDPMediaDescription {
    /// The `m=` line's value.
    public var mediaLineValue: String {
        let port = portCount.map { "\(self.port)/\($0)" } ?? "\(self.port)"
        return ([media, port, proto] + formats).joined(separator: " ")
    }

    var serializedLines: [String] {
        var lines = ["m=\(mediaLineValue)"]
        if let information { lines.append("i=\(information)") }
        lines += connections.map { "c=\($0.sdpValue)" }
        lines += bandwidths.map { "b=\($0.sdpValue)" }
        if let encryptionKey { lines.append("k=\(encryptionKey)") }
        lines += attributes.map { "a=\($0.sdpText)" }
        return lines
    }
}
