import Logging

/// Where a ledger chain continues: the `seq` and `prev` the next record must carry.
public struct LedgerChainTail: Sendable, Hashable {
    public var nextSeq: UInt64
    /// Hex SHA-256 of the last line written, or 64 zeros.
    public var prev: String

    public init(nextSeq: UInt64, prev: String) {
        self.nextSeq = nextSeq
        self.prev = prev
    }

    /// The start of a new ledger: seq 0, `prev` of 64 zeros.
    public static let genesis = LedgerChainTail(nextSeq: 0, prev: LedgerRecord.genesisPrev)
}

/// A ledger adapter (SPEC §6: `file`, `debug`, `null`).
///
/// ``Ledger`` calls a sink from one serial writer, in `seq` order; a sink need not be re-entrant,
/// but must be `Sendable` to cross into that writer.
public protocol LedgerSink: Sendable {
    /// Where the sink's storage ends, read once when a ``Ledger`` is created over it.
    var tail: LedgerChainTail { get }

    /// Stores one line (`line` is ``LedgerRecord/encodedLine()``, no newline).
    ///
    /// Throwing means nothing of the line was stored, so the caller may retry it later.
    func append(_ record: LedgerRecord, line: [UInt8]) throws(LedgerError)

    /// Makes everything appended so far durable.
    func flush() throws(LedgerError)

    /// Flushes and releases resources; later appends throw ``LedgerError/Code/closed``.
    func close() throws(LedgerError)
}

/// The `null` adapter: accepts and discards every record.
public struct NullLedgerSink: LedgerSink {
    public init() {}
    public var tail: LedgerChainTail { .genesis }
    public func append(_ record: LedgerRecord, line: [UInt8]) throws(LedgerError) {}
    public func flush() throws(LedgerError) {}
    public func close() throws(LedgerError) {}
}

/// The `debug` adapter: writes each line to a swift-log `Logger` at `debug` level. The chain starts
/// at genesis on every start, since nothing is persisted.
public struct DebugLedgerSink: LedgerSink {
    public let logger: Logger

    public init(logger: Logger) {
        self.logger = logger
    }

    public var tail: LedgerChainTail { .genesis }

    public func append(_ record: LedgerRecord, line: [UInt8]) throws(LedgerError) {
        logger.debug("\(String(decoding: line, as: UTF8.self))", metadata: ["ledger_seq": "\(record.seq)"])
    }

    public func flush() throws(LedgerError) {}
    public func close() throws(LedgerError) {}
}
