import Foundation
import Testing

@testable import Ledger

@Suite struct FileLedgerSinkTests {
    @Test func createsDirectoryAndFilesWithMode0600() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanup() }
        let path = directory.file("nested/deeper/ledger.jsonl")
        try await writeLedger(at: path, count: 2)
        for file in [path, LedgerHead.path(for: path)] {
            let attributes = try FileManager.default.attributesOfItem(atPath: file)
            let mode = try #require(attributes[.posixPermissions] as? NSNumber)
            #expect(mode.intValue & 0o777 == 0o600, "\(file)")
        }
    }

    @Test func forcesMode0600OnAnExistingFile() throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanup() }
        let path = directory.file("ledger.jsonl")
        _ = FileManager.default.createFile(atPath: path, contents: nil, attributes: [.posixPermissions: 0o644])
        let sink = try FileLedgerSink(path: path)
        try sink.close()
        let mode = try #require(try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? NSNumber)
        #expect(mode.intValue & 0o777 == 0o600)
    }

    @Test func resumesSeqAndChainAfterReopen() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanup() }
        let path = directory.file("ledger.jsonl")
        let first = try await writeLedger(at: path, count: 5)
        let sink = try FileLedgerSink(path: path)
        #expect(sink.tail.nextSeq == 5)
        #expect(sink.tail.prev == first[4].lineDigest())
        try sink.close()
        let second = try await writeLedger(at: path, count: 5, startIndex: 5)
        #expect(second.map(\.seq) == [5, 6, 7, 8, 9])
        #expect(second[0].prev == first[4].lineDigest())
        let result = verifyLedger(at: path)
        #expect(result.isIntact)
        #expect(result.recordCount == 10)
    }

    @Test func refusesToOpenWhenTheTailWasTruncated() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanup() }
        let path = directory.file("ledger.jsonl")
        try await writeLedger(at: path, count: 5)
        var lines = try readLines(path)
        lines.removeLast()
        try writeLines(lines, to: path)
        #expect { try FileLedgerSink(path: path) } throws: { ($0 as? LedgerError)?.code == .headMismatch }
        try writeBytes([], to: path)
        #expect { try FileLedgerSink(path: path) } throws: { ($0 as? LedgerError)?.code == .headMismatch }
    }

    @Test func acceptsAHeadOneBehindAfterACrashAndRepairsIt() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanup() }
        let path = directory.file("ledger.jsonl")
        let records = try await writeLedger(at: path, count: 5)
        // As if the process died between writing line 5 and replacing the head.
        try writeBytes(LedgerHead(records[3]).encoded(), to: LedgerHead.path(for: path))
        #expect(verifyLedger(at: path).problem?.kind == .headMismatch)
        let sink = try FileLedgerSink(path: path)
        #expect(sink.tail.nextSeq == 5)
        try sink.close()
        #expect(verifyLedger(at: path).isIntact)
    }

    @Test func refusesATornLastLine() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanup() }
        let path = directory.file("ledger.jsonl")
        try await writeLedger(at: path, count: 3)
        let bytes = Array(try Data(contentsOf: URL(fileURLWithPath: path)))
        try writeBytes(Array(bytes.dropLast(10)), to: path)
        #expect { try FileLedgerSink(path: path) } throws: { ($0 as? LedgerError)?.code == .tornTail }
    }

    @Test func rejectsATinyMaxBytes() {
        #expect { try FileLedgerSink(path: "/tmp/unused-ledger.jsonl", maxBytes: 10) } throws: {
            ($0 as? LedgerError)?.code == .invalidConfiguration
        }
    }

    @Test func rotationKeepsTheChainAcrossFiles() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanup() }
        let path = directory.file("ledger.jsonl")
        let records = try await writeLedger(at: path, count: 60, maxBytes: 4096)
        let sink = try FileLedgerSink(path: path, maxBytes: 4096)
        let rotated = sink.rotatedFiles()
        try sink.close()
        #expect(rotated.count >= 3)
        #expect(rotated.first == "\(path).1")

        var expectingPrev: String?
        var expectingSeq: UInt64?
        var total = 0
        for file in rotated + [path] {
            let size = try #require(try FileManager.default.attributesOfItem(atPath: file)[.size] as? NSNumber)
            #expect(size.intValue <= 4096)
            let result = verifyLedger(at: file, expectingPrevOfFirst: expectingPrev, expectingSeqOfFirst: expectingSeq)
            #expect(result.isIntact, "\(result)")
            if file != rotated.first {
                #expect(result.anchorConfirmed)
                #expect(result.description.contains("chain intact from anchor"))
            }
            total += result.recordCount
            expectingPrev = result.lastLineDigest
            expectingSeq = result.lastSeq.map { $0 + 1 }
        }
        #expect(total == 60)
        #expect(expectingPrev == records.last?.lineDigest())

        // Alone, a later file verifies from its (unconfirmed) anchor.
        let alone = verifyLedger(at: rotated[1])
        #expect(alone.isIntact)
        #expect(alone.anchor != nil && !alone.anchorConfirmed)
        #expect(alone.description.contains("unconfirmed anchor"))

        let series = verifyLedgerSeries(at: path)
        #expect(series.count == rotated.count + 1)
        #expect(series.allSatisfy { $0.isIntact })
    }

    @Test func seriesDetectsARemovedMiddleFile() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanup() }
        let path = directory.file("ledger.jsonl")
        try await writeLedger(at: path, count: 60, maxBytes: 4096)
        try FileManager.default.moveItem(atPath: "\(path).2", toPath: directory.file("elsewhere"))
        let series = verifyLedgerSeries(at: path)
        #expect(series.last?.problem?.kind == .prevMismatch)
        #expect(series.last?.problem?.line == 1)
    }

    @Test func resumesFromTheNewestRotatedFileWhenTheLogIsMissing() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanup() }
        let path = directory.file("ledger.jsonl")
        let records = try await writeLedger(at: path, count: 30, maxBytes: 4096)
        // As if the process died right after renaming the log during a rotation.
        let next = (LedgerRotation.rotatedFiles(of: path).last?.index ?? 0) + 1
        try FileManager.default.moveItem(atPath: path, toPath: "\(path).\(next)")
        let sink = try FileLedgerSink(path: path, maxBytes: 4096)
        #expect(sink.tail.nextSeq == 30)
        #expect(sink.tail.prev == records.last?.lineDigest())
        try sink.close()
    }

    @Test func closedSinkRejectsAppends() throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanup() }
        let sink = try FileLedgerSink(path: directory.file("ledger.jsonl"))
        try sink.close()
        try sink.close()
        let record = LedgerRecord(seq: 0, recordedAt: "t", scope: .admin, result: "ok", fields: [:], prev: LedgerRecord.genesisPrev)
        #expect { try sink.append(record, line: record.encodedLine()) } throws: { ($0 as? LedgerError)?.code == .closed }
    }
}
