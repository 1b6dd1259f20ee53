/// An error from opening, writing or closing a ledger.
///
/// Shaped like postgres-nio's `PSQLError`: a stable ``Code`` that callers and metrics can match on,
/// plus human context. Verification problems are not errors: they are reported as
/// ``LedgerProblem`` inside a ``LedgerVerification``.
public struct LedgerError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A stable, machine-readable error code.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        private enum Base: String, Sendable, Hashable {
            case io
            case closed
            case malformed
            case headMismatch = "head_mismatch"
            case tornTail = "torn_tail"
            case invalidConfiguration = "invalid_configuration"
        }

        private let base: Base
        private init(_ base: Base) { self.base = base }

        /// A system call failed (see ``LedgerError/errno``).
        public static let io = Code(.io)
        /// The ledger or sink was closed before the operation.
        public static let closed = Code(.closed)
        /// A ledger line (or the head file) could not be parsed.
        public static let malformed = Code(.malformed)
        /// On open, the `.head` file does not match the end of the log: the tail was truncated or
        /// replaced, so appending would hide the damage.
        public static let headMismatch = Code(.headMismatch)
        /// On open, the last line of the log is incomplete (no newline), e.g. after a torn write.
        public static let tornTail = Code(.tornTail)
        /// A parameter such as the path or `maxBytes` is unusable.
        public static let invalidConfiguration = Code(.invalidConfiguration)

        /// The stable string, e.g. `head_mismatch`.
        public var description: String { base.rawValue }
    }

    /// The stable code.
    public var code: Code
    /// One human sentence describing what went wrong.
    public var message: String
    /// The file involved, when there is one.
    public var path: String?
    /// The `errno` value for ``Code/io`` errors.
    public var errno: Int32?

    public init(code: Code, message: String, path: String? = nil, errno: Int32? = nil) {
        self.code = code
        self.message = message
        self.path = path
        self.errno = errno
    }

    public var description: String {
        var text = "ledger \(code): \(message)"
        if let path { text += " (\(path))" }
        if let errno { text += " [errno \(errno)]" }
        return text
    }
}
