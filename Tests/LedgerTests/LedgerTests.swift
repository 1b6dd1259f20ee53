import Foundation
import Logging
import Synchronization
import Testing

@testable import Ledger

@Suite struct LedgerTests {
    @Test func appendThenVerify() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanup() }
        let path = directory.file("ledger.jsonl")
        let ledger = try Ledger.open(mode: .file, path: path, clock: { Date(timeIntervalSince1970: 1_700_000_000.5) })
        let first = try #require(ledger.record(scope: .handshake, result: "ok", fields: ["device": "d1"]))
        let second = try #require(ledger.record(scope: .pairing, result: "failure", fields: ["code": "expired"]))
        try await ledger.flush()
        #expect(first.seq == 0 && second.seq == 1)
        #expect(first.prev == LedgerRecord.genesisPrev)
        #expect(second.prev == first.lineDigest())
        #expect(first.recordedAt == "2023-11-14T22:13:20.500Z")
        let lines = try readLines(path)
        #expect(lines == [first, second].map { String(decoding: $0.encodedLine(), as: UTF8.self) })
        try await ledger.close()
        #expect(verifyLedger(at: path).isIntact)
    }

    @Test func closeDrainsAndLaterRecordsAreRefused() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanup() }
        let path = directory.file("ledger.jsonl")
        let ledger = Ledger(sink: try FileLedgerSink(path: path))
        for index in 0..<500 { ledger.record(scope: .call, result: "ok", fields: ["room": .string("r\(index)")]) }
        try await ledger.close()
        #expect(try readLines(path).count == 500)
        #expect(ledger.record(scope: .call, result: "ok") == nil)
        try await ledger.close()
    }

    @Test func concurrentAppendsFormOneValidChain() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanup() }
        let path = directory.file("ledger.jsonl")
        let ledger = Ledger(sink: try FileLedgerSink(path: path, maxBytes: 64 << 10))
        let seqs = await withTaskGroup(of: [UInt64].self) { group in
            for task in 0..<40 {
                group.addTask {
                    (0..<50).compactMap { index in
                        ledger.record(scope: .delivery, result: "ok", fields: ["task": .int(Int64(task)), "i": .int(Int64(index))])?.seq
                    }
                }
            }
            var all: [UInt64] = []
            for await part in group { all += part }
            return all
        }
        try await ledger.close()
        #expect(seqs.sorted() == Array(0..<2000))
        let series = verifyLedgerSeries(at: path)
        #expect(series.allSatisfy { $0.isIntact }, "\(series)")
        #expect(series.reduce(0) { $0 + $1.recordCount } == 2000)
    }

    @Test func oversizedFieldsAreReplacedNotDropped() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanup() }
        let path = directory.file("ledger.jsonl")
        let ledger = Ledger(sink: try FileLedgerSink(path: path))
        let record = try #require(
            ledger.record(scope: .admin, result: "ok", fields: ["blob": .string(String(repeating: "x", count: 2 << 20))])
        )
        try await ledger.close()
        #expect(record.fields["ledger_error"] == "fields_too_large")
        #expect(verifyLedger(at: path).recordCount == 1)
    }

    @Test func failedWritesAreKeptAndRetried() async throws {
        let sink = FlakySink()
        let ledger = Ledger(sink: sink)
        sink.failing.withLock { $0 = true }
        ledger.record(scope: .device, result: "ok")
        ledger.record(scope: .device, result: "ok")
        await #expect(throws: LedgerError.self) { try await ledger.flush() }
        #expect(sink.lines.withLock { $0.count } == 0)
        sink.failing.withLock { $0 = false }
        try await ledger.close()
        #expect(sink.lines.withLock { $0.map(\.seq) } == [0, 1])
    }
}

/// A sink whose appends fail while `failing` is set.
final class FlakySink: LedgerSink {
    let failing = Mutex(false)
    let lines = Mutex<[LedgerRecord]>([])

    var tail: LedgerChainTail { .genesis }

    func append(_ record: LedgerRecord, line: [UInt8]) throws(LedgerError) {
        if failing.withLock({ $0 }) { throw LedgerError(code: .io, message: "disk full", errno: 28) }
        lines.withLock { $0.append(record) }
    }

    func flush() throws(LedgerError) {}
    func close() throws(LedgerError) {}
}
