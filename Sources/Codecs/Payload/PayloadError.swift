/// The one error type of the RTP payload formats: every payload parser, descriptor, depacketizer
/// and packetizer in `Codecs/Payload` throws it, typed.
///
/// Shaped like `WireParseError` (postgres-nio's `PSQLError`): a stable ``Code`` to switch on,
/// plus an optional byte offset and a short reason. Building one never allocates on packet paths:
/// `detail` is a string literal there.
public struct PayloadError: Error, Hashable, Sendable, CustomStringConvertible {
    /// A stable, machine-readable error code. New codes may be added; existing ones never change.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: String, Sendable {
            case truncated
            case invalidDescriptor = "invalid_descriptor"
            case invalidLength = "invalid_length"
            case invalidNALUnit = "invalid_nal_unit"
            case fuWithoutStart = "fu_without_start"
            case fuWithoutEnd = "fu_without_end"
            case invalidOBU = "invalid_obu"
            case badOBUSize = "bad_obu_size"
            case invalidTOC = "invalid_toc"
            case missingStructure = "missing_structure"
            case valueOutOfRange = "value_out_of_range"
            case unsupported
        }

        private let base: Base
        private init(_ base: Base) { self.base = base }

        /// The code as a string, e.g. `"bad_obu_size"`; stable across releases.
        public var description: String { base.rawValue }

        /// Fewer bytes than the format requires.
        public static let truncated = Code(.truncated)
        /// A payload descriptor / header has a field combination the format forbids.
        public static let invalidDescriptor = Code(.invalidDescriptor)
        /// A length field points past the end of the payload (e.g. a STAP-A NAL size, RFC 6184 §5.7.1).
        public static let invalidLength = Code(.invalidLength)
        /// An H.264 NAL unit header is malformed (F bit set, type 0, empty unit).
        public static let invalidNALUnit = Code(.invalidNALUnit)
        /// A continuation fragment (H.264 FU-A, AV1 OBU fragment) arrived with no fragment started.
        public static let fuWithoutStart = Code(.fuWithoutStart)
        /// A fragment start or a frame end arrived while a fragmented unit was still incomplete.
        public static let fuWithoutEnd = Code(.fuWithoutEnd)
        /// An AV1 OBU header is malformed (forbidden bit set, reserved bit set, missing extension).
        public static let invalidOBU = Code(.invalidOBU)
        /// An AV1 OBU or OBU element size (LEB128) is malformed, zero, or disagrees with the bytes present.
        public static let badOBUSize = Code(.badOBUSize)
        /// An Opus TOC / frame count byte violates RFC 6716 §3.4.
        public static let invalidTOC = Code(.invalidTOC)
        /// A dependency descriptor needs the template structure of an earlier packet, and none is known.
        public static let missingStructure = Code(.missingStructure)
        /// A value given to a writer does not fit its field.
        public static let valueOutOfRange = Code(.valueOutOfRange)
        /// A valid construct this implementation does not handle (STAP-B, MTAP, FU-B, flexible-mode VP9 packetizing…).
        public static let unsupported = Code(.unsupported)
    }

    /// What went wrong.
    public var code: Code
    /// Byte offset in the payload where the problem was found, when known.
    public var offset: Int?
    /// A short human-readable reason (a literal on packet paths).
    public var detail: String

    public init(_ code: Code, offset: Int? = nil, detail: String = "") {
        self.code = code
        self.offset = offset
        self.detail = detail
    }

    public var description: String {
        var text = "PayloadError(\(code)"
        if let offset { text += ", offset \(offset)" }
        if !detail.isEmpty { text += ": \(detail)" }
        return text + ")"
    }
}
