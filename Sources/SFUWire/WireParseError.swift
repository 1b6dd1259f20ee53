/// The one error type of the wire plane: every parser in `SFUWire` throws it, typed.
///
/// Shaped like postgres-nio's `PSQLError`: a stable ``Code`` that callers switch on and map to
/// STUN error codes, RTCP drops, or HTTP 400 bodies at the edge, plus optional context. Building
/// one never allocates on packet paths: `detail` is a string literal there.
public struct WireParseError: Error, Hashable, Sendable, CustomStringConvertible {
    /// A stable, machine-readable error code. New codes may be added; existing ones never change.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: String, Sendable {
            case truncated
            case invalidVersion
            case invalidLength
            case invalidPadding
            case invalidHeaderExtension
            case badMagicCookie
            case invalidMessageType
            case invalidAttribute
            case attributeAfterFingerprint
            case unsupportedAddressFamily
            case invalidFeedback
            case unknownPacketType
            case valueOutOfRange
            case frameTooLarge
            case sdpMissingVersion
            case sdpInvalidLine
            case sdpInvalidVersion
            case sdpInvalidOrigin
            case sdpInvalidConnection
            case sdpInvalidTiming
            case sdpInvalidMediaLine
            case sdpInvalidPort
            case sdpInvalidAttribute
            case sdpInvalidCandidate
            case sdpUnexpectedLine
        }

        private let base: Base
        private init(_ base: Base) { self.base = base }

        /// The code as a string, e.g. `"truncated"`; stable across releases.
        public var description: String { base.rawValue }

        /// Fewer bytes than the format requires.
        public static let truncated = Code(.truncated)
        /// RTP/RTCP version field is not 2.
        public static let invalidVersion = Code(.invalidVersion)
        /// A length field disagrees with the bytes present or with the format's alignment.
        public static let invalidLength = Code(.invalidLength)
        /// RTP/RTCP padding count is zero or larger than the payload.
        public static let invalidPadding = Code(.invalidPadding)
        /// RFC 8285 header extension block is malformed.
        public static let invalidHeaderExtension = Code(.invalidHeaderExtension)
        /// STUN magic cookie is not 0x2112A442 (RFC 8489 §5).
        public static let badMagicCookie = Code(.badMagicCookie)
        /// STUN message type has the top two bits set, or is otherwise not a STUN type.
        public static let invalidMessageType = Code(.invalidMessageType)
        /// A STUN attribute has a length its type does not allow.
        public static let invalidAttribute = Code(.invalidAttribute)
        /// An attribute follows FINGERPRINT (RFC 8489 §14.7).
        public static let attributeAfterFingerprint = Code(.attributeAfterFingerprint)
        /// Address family other than IPv4 (0x01) or IPv6 (0x02).
        public static let unsupportedAddressFamily = Code(.unsupportedAddressFamily)
        /// RTCP feedback message content (FCI) is malformed.
        public static let invalidFeedback = Code(.invalidFeedback)
        /// The packet type is not the one the parser handles.
        public static let unknownPacketType = Code(.unknownPacketType)
        /// A value given to a writer does not fit the field.
        public static let valueOutOfRange = Code(.valueOutOfRange)
        /// An RFC 4571 frame exceeds the configured maximum.
        public static let frameTooLarge = Code(.frameTooLarge)
        /// SDP does not start with `v=` (RFC 8866 §5).
        public static let sdpMissingVersion = Code(.sdpMissingVersion)
        /// SDP line is not `<type>=<value>` or its type letter is unknown.
        public static let sdpInvalidLine = Code(.sdpInvalidLine)
        /// SDP `v=` is not 0.
        public static let sdpInvalidVersion = Code(.sdpInvalidVersion)
        /// SDP `o=` line malformed.
        public static let sdpInvalidOrigin = Code(.sdpInvalidOrigin)
        /// SDP `c=` line malformed.
        public static let sdpInvalidConnection = Code(.sdpInvalidConnection)
        /// SDP `t=` line malformed.
        public static let sdpInvalidTiming = Code(.sdpInvalidTiming)
        /// SDP `m=` line malformed.
        public static let sdpInvalidMediaLine = Code(.sdpInvalidMediaLine)
        /// A port is not a number in 0...65535.
        public static let sdpInvalidPort = Code(.sdpInvalidPort)
        /// A known SDP attribute has a malformed value.
        public static let sdpInvalidAttribute = Code(.sdpInvalidAttribute)
        /// `a=candidate` does not follow RFC 8839 §5.1.
        public static let sdpInvalidCandidate = Code(.sdpInvalidCandidate)
        /// A line appears where RFC 8866 §5 does not allow it (e.g. a second `v=`).
        public static let sdpUnexpectedLine = Code(.sdpUnexpectedLine)
    }

    /// What went wrong.
    public var code: Code
    /// Byte offset in the packet where the problem was found, when known.
    public var offset: Int?
    /// 1-based SDP line number, for SDP errors.
    public var line: Int?
    /// A short human-readable reason (a literal on packet paths).
    public var detail: String

    public init(_ code: Code, offset: Int? = nil, line: Int? = nil, detail: String = "") {
        self.code = code
        self.offset = offset
        self.line = line
        self.detail = detail
    }

    public var description: String {
        var text = "WireParseError(\(code)"
        if let line { text += ", line \(line)" }
        if let offset { text += ", offset \(offset)" }
        if !detail.isEmpty { text += ": \(detail)" }
        return text + ")"
    }
}
