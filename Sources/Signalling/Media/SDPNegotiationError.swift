import SFUWire

/// Why an offer cannot be answered. Two stable codes: `bad_sdp` (the text is not valid SDP, or a
/// required transport attribute is missing or malformed) and `sdp_unsupported` (valid SDP that
/// CommuCat cannot accept: no BUNDLE, no rtcp-mux, no common codec), both HTTP 400; and
/// `limit_exceeded` (more m-sections than allowed), HTTP 403.
public struct SDPNegotiationError: Error, Hashable, Sendable, CustomStringConvertible {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        public let description: String
        private init(_ text: String) { description = text }

        /// The SDP does not parse, or lacks ICE credentials, fingerprint or setup.
        public static let badSDP = Code("bad_sdp")
        /// The SDP is valid but asks for something CommuCat does not do.
        public static let unsupported = Code("sdp_unsupported")
        /// The offer is valid but exceeds a limit (more m-sections than `media.max_tracks_per_offer`);
        /// HTTP 403.
        public static let limitExceeded = Code("limit_exceeded")
    }

    public var code: Code
    /// 1-based line of the offending line, when known.
    public var line: Int?
    /// A human-readable reason, sent as the problem `detail`.
    public var reason: String
    /// The parser's error, for parse failures.
    public var wireError: WireParseError?

    public init(_ code: Code, line: Int? = nil, reason: String, wireError: WireParseError? = nil) {
        self.code = code
        self.line = line
        self.reason = reason
        self.wireError = wireError
    }

    init(parsing error: WireParseError) {
        let reason = error.detail.isEmpty ? "\(error.code)" : "\(error.code): \(error.detail)"
        self.init(.badSDP, line: error.line, reason: reason, wireError: error)
    }

    /// `line 7: sdpInvalidAttribute: malformed a=rtpmap`.
    public var detail: String { line.map { "line \($0): \(reason)" } ?? reason }

    public var description: String { "SDPNegotiationError(\(code): \(detail))" }
}
