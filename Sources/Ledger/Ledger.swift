import Crypto
import Dispatch
import Foundation
import Logging
import Synchronization

/// The ledger adapters of SPEC §6, as spelled in `ledger.mode`.
public enum LedgerMode: String, Sendable, CaseIterable {
    case file
    case debug
    case null
}

/// The audit ledger (SPEC §6): a hash chain of records appended through one ``LedgerSink``.
///
/// ``record(scope:result:fields:)`` is cheap and never blocks on I/O: under a lock it assigns
/// `seq`, the timestamp, `prev` and `hash` (so the chain order is the call order) and hands the
/// line to a serial writer queue. A record that was accepted is never dropped: if the sink fails
/// (disk full), the line stays queued and is retried with the next record and by ``flush()`` and
/// ``close()``, which report the failure. ``close()`` drains everything accepted before it.
public final class Ledger: Sendable {
    private struct Chain {
        var tail: LedgerChainTail
        var closed = false
    }

    private struct Writer {
        var pending: [(record: LedgerRecord, line: [UInt8])] = []
        var failure: LedgerError?
        var sinkClosed = false
    }

    public let sink: any LedgerSink
    private let clock: @Sendable () -> Date
    private let logger: Logger
    private let chain: Mutex<Chain>
    private let writer = Mutex(Writer())
    private let queue = DispatchQueue(label: "commucat.ledger.writer")

    /// - Parameters:
    ///   - sink: the adapter; the chain continues from its ``LedgerSink/tail``.
    ///   - clock: the wall clock for `recorded_at` (tests inject a fixed one).
    ///   - logger: where write failures are reported.
    public init(
        sink: any LedgerSink,
        clock: @escaping @Sendable () -> Date = { Date() },
        logger: Logger = Logger(label: "commucat.ledger")
    ) {
        self.sink = sink
        self.clock = clock
        self.logger = logger
        self.chain = Mutex(Chain(tail: sink.tail))
    }

    /// Opens the adapter named by `ledger.mode`. `path` and `maxBytes` matter only for `file`.
    public static func open(
        mode: LedgerMode,
        path: String,
        maxBytes: Int? = FileLedgerSink.defaultMaxBytes,
        clock: @escaping @Sendable () -> Date = { Date() },
        logger: Logger = Logger(label: "commucat.ledger")
    ) throws(LedgerError) -> Ledger {
        let sink: any LedgerSink
        switch mode {
        case .file: sink = try FileLedgerSink(path: path, maxBytes: maxBytes)
        case .debug: sink = DebugLedgerSink(logger: logger)
        case .null: sink = NullLedgerSink()
        }
        return Ledger(sink: sink, clock: clock, logger: logger)
    }

    /// Where the next record will continue the chain.
    public var tail: LedgerChainTail {
        chain.withLock { $0.tail }
    }

    /// Appends a record and returns it (with its `seq` and `hash`) without waiting for the write.
    ///
    /// Returns `nil` only after ``close()`` was called: the record was not accepted. A record whose
    /// line would exceed 1 MiB is kept, with its fields replaced by
    /// `{"ledger_error":"fields_too_large","fields_bytes":N}`.
    @discardableResult
    public func record(scope: LedgerScope, result: String, fields: [String: LedgerValue] = [:]) -> LedgerRecord? {
        chain.withLock { chain -> LedgerRecord? in
            guard !chain.closed else { return nil }
            let recordedAt = LedgerTimestamp.format(clock())
            var record = LedgerRecord(
                seq: chain.tail.nextSeq, recordedAt: recordedAt, scope: scope, result: result, fields: fields,
                prev: chain.tail.prev
            )
            var line = record.encodedLine()
            if line.count > LedgerLineParser.maxLineBytes {
                let shortResult = result.utf8.count <= 4096 ? result : "ledger_error_result_too_large"
                record = LedgerRecord(
                    seq: record.seq, recordedAt: recordedAt, scope: scope, result: shortResult,
                    fields: ["ledger_error": "fields_too_large", "fields_bytes": .int(Int64(line.count))],
                    prev: record.prev
                )
                line = record.encodedLine()
            }
            chain.tail = LedgerChainTail(nextSeq: record.seq &+ 1, prev: LedgerHash.hex(of: line))
            // Enqueued under the lock, so the writer sees records in seq order.
            let accepted = record
            let acceptedLine = line
            queue.async { self.enqueueAndDrain(accepted, acceptedLine) }
            return record
        }
    }

    /// Waits until every record accepted so far is written, then flushes the sink (`fsync`).
    ///
    /// - Throws: the sink's error when records could not be written; they stay queued.
    public func flush() async throws(LedgerError) {
        let result = await onWriter { () -> Result<Void, LedgerError> in
            self.writer.withLock { writer in
                guard self.drain(&writer) else { return .failure(writer.failure ?? Self.stuck) }
                do throws(LedgerError) {
                    try self.sink.flush()
                    return .success(())
                } catch {
                    return .failure(error)
                }
            }
        }
        try result.get()
    }

    /// Stops accepting records, writes every accepted one, flushes and closes the sink. Safe to
    /// call again, e.g. after it threw because the disk was full.
    public func close() async throws(LedgerError) {
        chain.withLock { $0.closed = true }
        let result = await onWriter { () -> Result<Void, LedgerError> in
            self.writer.withLock { writer in
                guard !writer.sinkClosed else { return .success(()) }
                guard self.drain(&writer) else { return .failure(writer.failure ?? Self.stuck) }
                do throws(LedgerError) {
                    try self.sink.close()
                    writer.sinkClosed = true
                    return .success(())
                } catch {
                    return .failure(error)
                }
            }
        }
        try result.get()
    }

    private static let stuck = LedgerError(code: .io, message: "records are waiting to be written")

    private func onWriter(
        _ body: @escaping @Sendable () -> Result<Void, LedgerError>
    ) async -> Result<Void, LedgerError> {
        await withCheckedContinuation { continuation in
            queue.async { continuation.resume(returning: body()) }
        }
    }

    private func enqueueAndDrain(_ record: LedgerRecord, _ line: [UInt8]) {
        writer.withLock { writer in
            writer.pending.append((record, line))
            _ = drain(&writer)
        }
    }

    /// Writes queued lines in order; `false` when one failed (it stays first in the queue).
    private func drain(_ writer: inout Writer) -> Bool {
        var written = 0
        defer { writer.pending.removeFirst(written) }
        for (record, line) in writer.pending {
            do {
                try sink.append(record, line: line)
                written += 1
            } catch {
                if writer.failure == nil {
                    logger.error(
                        "ledger write failed; records are kept and retried",
                        metadata: ["error": "\(error)", "ledger_seq": "\(record.seq)"]
                    )
                }
                writer.failure = error
                return false
            }
        }
        if let failure = writer.failure {
            logger.notice("ledger writes recovered", metadata: ["previous_error": "\(failure)"])
            writer.failure = nil
        }
        return true
    }
}
