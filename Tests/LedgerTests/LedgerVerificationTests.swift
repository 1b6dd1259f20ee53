import Foundation
import Testing

@testable import Ledger

@Suite struct LedgerVerificationTests {
    @Test func intactLedgerVerifies() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanup() }
        let path = directory.file("ledger.jsonl")
        try await writeLedger(at: path, count: 1204)
        let result = verifyLedger(at: path)
        #expect(result.isIntact)
        #expect(result.recordCount == 1204)
        #expect(result.firstSeq == 0 && result.lastSeq == 1203)
        #expect(result.headChecked)
        #expect(result.anchor == nil)
        #expect(result.description == "\(path): 1,204 records, chain intact")
    }

    @Test func emptyFileIsValid() throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanup() }
        let path = directory.file("ledger.jsonl")
        try writeBytes([], to: path)
        let result = verifyLedger(at: path)
        #expect(result.isIntact)
        #expect(result.recordCount == 0)
        #expect(result.description == "\(path): 0 records, chain intact")
    }

    @Test func missingFileIsUnreadable() throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanup() }
        let result = verifyLedger(at: directory.file("absent.jsonl"))
        #expect(result.problem?.kind == .unreadable)
        #expect(result.problem?.line == nil)
    }

    @Test func modifiedFieldInTheMiddleIsDetectedAtThatLine() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanup() }
        let path = directory.file("ledger.jsonl")
        try await writeLedger(at: path, count: 30)
        var lines = try readLines(path)
        #expect(lines[16].contains(#""message_id":"m-16""#))
        lines[16] = lines[16].replacingOccurrences(of: #""message_id":"m-16""#, with: #""message_id":"m-99""#)
        try writeLines(lines, to: path)
        let result = verifyLedger(at: path)
        #expect(result.problem?.kind == .hashMismatch)
        #expect(result.problem?.line == 17)
        #expect(result.recordCount == 16)
        #expect(result.description.hasPrefix("\(path):17: hash does not match"))
    }

    @Test func modifiedLineWithRecomputedHashBreaksTheNextPrev() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanup() }
        let path = directory.file("ledger.jsonl")
        try await writeLedger(at: path, count: 30)
        var lines = try readLines(path)
        var forged = try LedgerRecord(parsingLine: Array(lines[16].utf8))
        forged = LedgerRecord(
            seq: forged.seq, recordedAt: forged.recordedAt, scope: forged.scope, result: "forged",
            fields: forged.fields, prev: forged.prev
        )
        lines[16] = String(decoding: forged.encodedLine(), as: UTF8.self)
        try writeLines(lines, to: path)
        let result = verifyLedger(at: path)
        #expect(result.problem?.kind == .prevMismatch)
        #expect(result.problem?.line == 18)
        #expect(result.description == "\(path):18: prev does not match line 17 (modified, removed or reordered line)")
    }

    @Test func removedLineIsDetected() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanup() }
        let path = directory.file("ledger.jsonl")
        try await writeLedger(at: path, count: 20)
        var lines = try readLines(path)
        lines.remove(at: 9)
        try writeLines(lines, to: path)
        let result = verifyLedger(at: path)
        #expect(result.problem?.kind == .prevMismatch)
        #expect(result.problem?.line == 10)
    }

    @Test func swappedLinesAreDetected() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanup() }
        let path = directory.file("ledger.jsonl")
        try await writeLedger(at: path, count: 20)
        var lines = try readLines(path)
        lines.swapAt(5, 6)
        try writeLines(lines, to: path)
        let result = verifyLedger(at: path)
        #expect(result.problem?.kind == .prevMismatch)
        #expect(result.problem?.line == 6)
    }

    @Test func modifiedLastLineIsDetected() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanup() }
        let path = directory.file("ledger.jsonl")
        try await writeLedger(at: path, count: 10)
        var lines = try readLines(path)
        lines[9] = lines[9].replacingOccurrences(of: #""attempt":0"#, with: #""attempt":2"#)
        try writeLines(lines, to: path)
        let result = verifyLedger(at: path)
        #expect(result.problem?.kind == .hashMismatch)
        #expect(result.problem?.line == 10)
    }

    @Test func truncatedTailIsDetectedThroughTheHead() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanup() }
        let path = directory.file("ledger.jsonl")
        try await writeLedger(at: path, count: 10)
        var lines = try readLines(path)
        lines.removeLast()
        try writeLines(lines, to: path)
        let result = verifyLedger(at: path)
        #expect(result.problem?.kind == .truncated)
        #expect(result.problem?.line == 9)
        #expect(result.description.contains("records seq 9 but the log ends here at seq 8"))

        try writeBytes([], to: path)
        #expect(verifyLedger(at: path).problem?.kind == .truncated)
    }

    @Test func replacedTailAndBadHeadAreHeadMismatches() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanup() }
        let path = directory.file("ledger.jsonl")
        try await writeLedger(at: path, count: 3)
        let head = LedgerHead.path(for: path)
        try writeBytes(LedgerHead(seq: 2, hash: String(repeating: "1", count: 64)).encoded(), to: head)
        #expect(verifyLedger(at: path).problem?.kind == .headMismatch)
        try writeBytes(LedgerHead(seq: 1, hash: String(repeating: "1", count: 64)).encoded(), to: head)
        #expect(verifyLedger(at: path).problem?.kind == .headMismatch)
        try writeBytes(Array("not a head".utf8), to: head)
        #expect(verifyLedger(at: path).problem?.kind == .headMismatch)
        try FileManager.default.removeItem(atPath: head)
        let withoutHead = verifyLedger(at: path)
        #expect(withoutHead.isIntact && !withoutHead.headChecked)
    }

    @Test func unterminatedLastLineIsMalformed() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanup() }
        let path = directory.file("ledger.jsonl")
        try await writeLedger(at: path, count: 3)
        var bytes = Array(try Data(contentsOf: URL(fileURLWithPath: path)))
        bytes.removeLast(5)
        try writeBytes(bytes, to: path)
        let result = verifyLedger(at: path)
        #expect(result.problem?.kind == .malformed)
        #expect(result.problem?.line == 3)
    }

    @Test func genesisLineMustBeSeqZero() throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanup() }
        let path = directory.file("ledger.jsonl")
        let record = LedgerRecord(seq: 5, recordedAt: "t", scope: .admin, result: "ok", fields: [:], prev: LedgerRecord.genesisPrev)
        try writeBytes(record.encodedLine() + [0x0A], to: path)
        #expect(verifyLedger(at: path).problem?.kind == .seqGap)
    }

    @Test func everySingleByteChangeIsDetected() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanup() }
        let path = directory.file("ledger.jsonl")
        try await writeLedger(at: path, count: 3)
        let original = Array(try Data(contentsOf: URL(fileURLWithPath: path)))
        #expect(original.count < 1200)
        for index in original.indices {
            var bytes = original
            bytes[index] = bytes[index] == UInt8(ascii: "0") ? UInt8(ascii: "1") : UInt8(ascii: "0")
            try writeBytes(bytes, to: path)
            let result = verifyLedger(at: path)
            #expect(!result.isIntact, "byte \(index) changed without detection")
        }
    }

    @Test func garbageNeverCrashes() throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanup() }
        let path = directory.file("garbage.jsonl")
        var generator = SplitMix64(state: 42)
        var inputs: [[UInt8]] = [
            [0x0A], [0x0A, 0x0A], Array("{}\n".utf8), Array("null\n".utf8), [0xFF, 0xFE, 0x00, 0x0A],
            Array(repeating: UInt8(ascii: "{"), count: 3 << 20),  // huge line, no newline
            Array(repeating: UInt8(ascii: "["), count: 200_000) + [0x0A],
            Array(#"{"seq":1e400,"hash":"x"}"#.utf8) + [0x0A],
            Array(#"{"seq":-1,"recorded_at":"t","scope":"admin","result":"ok","fields":{},"prev":"0","hash":""}"#.utf8) + [0x0A],
        ]
        for _ in 0..<200 {
            let count = Int.random(in: 0...2000, using: &generator)
            inputs.append((0..<count).map { _ in UInt8.random(in: 0...255, using: &generator) })
        }
        for (index, input) in inputs.enumerated() {
            try writeBytes(input, to: path)
            let result = verifyLedger(at: path)
            #expect(!result.isIntact, "input \(index) verified")
            #expect(!result.description.isEmpty)
        }
    }

    @Test func garbageSplicedIntoARealLedgerIsDetected() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanup() }
        let path = directory.file("ledger.jsonl")
        try await writeLedger(at: path, count: 5)
        let original = Array(try Data(contentsOf: URL(fileURLWithPath: path)))
        var generator = SplitMix64(state: 9)
        for _ in 0..<200 {
            var bytes = original
            let position = Int.random(in: 0...bytes.count, using: &generator)
            let junk = (0..<Int.random(in: 1...40, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) }
            bytes.insert(contentsOf: junk, at: position)
            try writeBytes(bytes, to: path)
            #expect(!verifyLedger(at: path).isIntact)
        }
    }

    @Test func groupedNumbers() {
        #expect(LedgerVerification.grouped(0) == "0")
        #expect(LedgerVerification.grouped(999) == "999")
        #expect(LedgerVerification.grouped(1204) == "1,204")
        #expect(LedgerVerification.grouped(1_234_567) == "1,234,567")
    }
}
