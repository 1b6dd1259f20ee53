/// The error of the ICE module's control-plane calls (session registration, configuration).
/// Per-packet problems are never errors: they are ``ICEDropReason``s, counted.
///
/// Shaped like postgres-nio's `PSQLError`: a stable ``Code`` plus a short detail.
public struct ICEError: Error, Hashable, Sendable, CustomStringConvertible {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: String, Sendable {
            case invalidUfrag
            case invalidPassword
            case duplicateUfrag
            case unknownSession
        }

        private let base: Base
        private init(_ base: Base) { self.base = base }

        /// The code as a stable string, e.g. `"duplicateUfrag"`.
        public var description: String { base.rawValue }

        /// A ufrag is not 4...256 ice-chars (RFC 8839 §5.4), or a local one is longer than
        /// ``ICEUfragKey/maximumLength``.
        public static let invalidUfrag = Code(.invalidUfrag)
        /// A password is not 22...256 ice-chars (RFC 8839 §5.4).
        public static let invalidPassword = Code(.invalidPassword)
        /// A session with this local ufrag is already registered.
        public static let duplicateUfrag = Code(.duplicateUfrag)
        /// The session handle is stale or was never registered.
        public static let unknownSession = Code(.unknownSession)
    }

    public var code: Code
    public var detail: String

    public init(_ code: Code, detail: String = "") {
        self.code = code
        self.detail = detail
    }

    public var description: String { detail.isEmpty ? "ICEError(\(code))" : "ICEError(\(code): \(detail))" }
}
