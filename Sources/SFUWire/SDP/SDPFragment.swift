/// An SDP fragment as carried by `application/trickle-ice-sdpfrag` (RFC 8840 §9), the body of a
/// WHIP/WHEP `PATCH` (RFC 9725 §4.3.1): session-level `a=` lines (`ice-ufrag`, `ice-pwd`,
/// `ice-options`) followed by `m=` sections carrying `a=mid`, `a=candidate` and
/// `a=end-of-candidates`. There is no `v=`, `o=`, `s=` or `t=`.
public struct SDPFragment: Hashable, Sendable, SDPAttributeCarrier {
    public var attributes: [SDPAttribute]
    public var media: [SDPMediaDescription]

    public init(attributes: [SDPAttribute] = [], media: [SDPMediaDescription] = []) {
        self.attributes = attributes
        self.media = media
    }

    /// Parses a fragment; errors carry the 1-based line number.
    public init(parsing text: String) throws(WireParseError) {
        guard text.utf8.count <= SessionDescription.maximumSize else {
            throw WireParseError(.sdpInvalidLine, detail: "SDP fragment too large")
        }
        var attributes: [SDPAttribute] = []
        var media: [SDPMediaDescription] = []
        let lines = text.split(omittingEmptySubsequences: false) { $0 == "\n" || $0 == "\r\n" }
        for (index, rawLine) in lines.enumerated() {
            let number = index + 1
            let line = rawLine.last == "\r" ? rawLine.dropLast() : rawLine
            if line.isEmpty { continue }
            guard line.count >= 2, line[line.index(after: line.startIndex)] == "=" else {
                throw WireParseError(.sdpInvalidLine, line: number, detail: "expected <type>=<value>")
            }
            let value = line.dropFirst(2)
            switch line.first {
            case "m":
                media.append(try SDPParser.mediaLine(value, number: number))
            case "a":
                let attribute = try SDPAttribute(parsing: value, line: number)
                if media.isEmpty { attributes.append(attribute) } else { media[media.count - 1].attributes.append(attribute) }
            case "c" where !media.isEmpty:
                guard let connection = SDPConnection(value: value) else {
                    throw WireParseError(.sdpInvalidConnection, line: number, detail: "c= needs nettype addrtype address")
                }
                media[media.count - 1].connections.append(connection)
            default:
                throw WireParseError(.sdpUnexpectedLine, line: number, detail: "only a=, m= and c= lines belong in a fragment")
            }
        }
        self.init(attributes: attributes, media: media)
    }

    /// The fragment text with CRLF line endings.
    public var serialized: String {
        var lines = attributes.map { "a=\($0.sdpText)" }
        for section in media { lines += section.serializedLines }
        return lines.isEmpty ? "" : lines.joined(separator: "\r\n") + "\r\n"
    }

    /// Every candidate with the mid of its section.
    public var candidates: [(mid: String?, candidate: SDPCandidate)] {
        media.flatMap { section in section.candidates.map { (section.mid, $0) } }
    }
}
