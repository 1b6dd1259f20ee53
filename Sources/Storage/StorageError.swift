import Foundation

/// The one error type of the storage layer: a stable ``Code`` plus a one-line human message.
///
/// Shaped like postgres-nio's `PSQLError`: callers switch on `code` (stable strings, safe to put in
/// metrics labels, problem bodies and ledger records); `description` is for logs and operators and is
/// always a single line starting with `storage:`.
public struct StorageError: Error, Sendable, CustomStringConvertible, Equatable {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        public let rawValue: String
        private init(_ rawValue: String) { self.rawValue = rawValue }

        /// The database cannot be reached or opened (connection refused, timeout, bad file path).
        public static let unreachable = Code("unreachable")
        /// `storage.url` is malformed or names an unsupported scheme/option.
        public static let badURL = Code("bad_url")
        /// A migration failed; its transaction was rolled back.
        public static let migrationFailed = Code("migration_failed")
        /// A uniqueness rule was violated (duplicate handle, key, id, pending request...).
        public static let conflict = Code("conflict")
        /// The row addressed (or one it references) does not exist.
        public static let notFound = Code("not_found")
        /// The caller passed a value the schema cannot hold (out of range, wrong state transition).
        public static let invalidArgument = Code("invalid_argument")
        /// Authentication against the database server failed.
        public static let authentication = Code("authentication")
        /// Anything else: driver failures, decoding failures, closed storage.
        public static let `internal` = Code("internal")

        public var description: String { rawValue }
    }

    public var code: Code
    /// One line, without the `storage:` prefix.
    public var message: String

    public init(code: Code, message: String) {
        self.code = code
        self.message = StorageError.singleLine(message)
    }

    public var description: String { "storage: \(message)" }

    static func singleLine(_ text: String) -> String {
        text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty }.joined(separator: " ")
    }

    static func notFound(_ what: String) -> StorageError { .init(code: .notFound, message: "\(what) not found") }
    static func conflict(_ what: String) -> StorageError { .init(code: .conflict, message: what) }
    static func invalid(_ what: String) -> StorageError { .init(code: .invalidArgument, message: what) }
    static func `internal`(_ what: String) -> StorageError { .init(code: .internal, message: what) }
}
