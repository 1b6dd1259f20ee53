import Crypto
import Foundation
import Testing

@testable import Ledger

@Suite struct LedgerRecordTests {
    private func sample(prev: String = LedgerRecord.genesisPrev) -> LedgerRecord {
        LedgerRecord(
            seq: 0, recordedAt: "2023-11-14T22:13:20.000Z", scope: .handshake, result: "ok",
            fields: ["zeta": 1, "alpha": "a", "ok": true, "ratio": 0.5], prev: prev
        )
    }

    @Test func lineHasFixedKeyOrderAndSortedFields() {
        let line = String(decoding: sample().encodedLine(), as: UTF8.self)
        let expectedPrefix = #"{"seq":0,"recorded_at":"2023-11-14T22:13:20.000Z","scope":"handshake","result":"ok","#
            + #""fields":{"alpha":"a","ok":true,"ratio":0.5,"zeta":1},"prev":""# + LedgerRecord.genesisPrev + #"","hash":""#
        #expect(line.hasPrefix(expectedPrefix))
        #expect(line.hasSuffix("\"}"))
        #expect(!line.contains("\n"))
    }

    @Test func sameRecordEncodesToSameBytes() {
        #expect(sample().encodedLine() == sample().encodedLine())
    }

    @Test func hashCoversTheLineWithoutTheHashMember() {
        let record = sample()
        let line = String(decoding: record.encodedLine(), as: UTF8.self)
        let withoutHash = line.replacingOccurrences(of: #","hash":"\#(record.hash)""#, with: "")
        let digest = SHA256.hash(data: Array(withoutHash.utf8)).map { String(format: "%02x", $0) }.joined()
        #expect(record.hash == digest)
        #expect(withoutHash.hasSuffix(#""prev":"\#(LedgerRecord.genesisPrev)"}"#))
    }

    @Test func lineDigestIsSHA256OfTheLine() {
        let record = sample()
        let digest = SHA256.hash(data: record.encodedLine()).map { String(format: "%02x", $0) }.joined()
        #expect(record.lineDigest() == digest)
    }

    @Test func roundTripsThroughParsingIncludingEscapes() throws {
        let record = LedgerRecord(
            seq: 42, recordedAt: "2023-11-14T22:13:20.123Z", scope: .federation, result: "rate_limited",
            fields: [
                "quote\"back\\slash": "line\nbreak\ttab\r\u{01}\u{1F}",
                "emoji": "猫 🐈",
                "big": .int(Int64.max), "negative": .int(Int64.min), "tiny": .double(1e-300), "minus_zero": .double(-0.0),
                "no": false,
            ],
            prev: String(repeating: "ab", count: 32)
        )
        let parsed = try LedgerRecord(parsingLine: record.encodedLine())
        #expect(parsed == record)
    }

    @Test func nonFiniteDoublesAreWrittenAsStrings() throws {
        let record = LedgerRecord(
            seq: 1, recordedAt: "t", scope: .admin, result: "ok",
            fields: ["nan": .double(.nan), "inf": .double(.infinity), "ninf": .double(-.infinity)], prev: LedgerRecord.genesisPrev
        )
        let parsed = try LedgerRecord(parsingLine: record.encodedLine())
        #expect(parsed.fields == ["nan": "NaN", "inf": "Infinity", "ninf": "-Infinity"])
    }

    @Test func parsingRejectsAModifiedLine() {
        let text = String(decoding: sample().encodedLine(), as: UTF8.self)
        let line = Array(text.replacingOccurrences(of: #""result":"ok""#, with: #""result":"OK""#).utf8)
        #expect(line != sample().encodedLine())
        #expect(throws: LedgerError.self) { try LedgerRecord(parsingLine: line) }
    }

    @Test(arguments: [
        (0.0, "1970-01-01T00:00:00.000Z"),
        (1_700_000_000.123, "2023-11-14T22:13:20.123Z"),
        (951_782_400.999, "2000-02-29T00:00:00.999Z"),
        (-1.5, "1969-12-31T23:59:58.500Z"),
        (253_402_300_799.999, "9999-12-31T23:59:59.999Z"),
        (1e300, "9999-12-31T23:59:59.999Z"),
        (-.infinity, "0000-01-01T00:00:00.000Z"),
        (.nan, "1970-01-01T00:00:00.000Z"),
        (1_700_000_000.0009, "2023-11-14T22:13:20.000Z"),
    ])
    func timestampsAreRFC3339UTCWithMilliseconds(seconds: Double, expected: String) {
        #expect(LedgerTimestamp.format(Date(timeIntervalSince1970: seconds)) == expected)
    }

    @Test func timestampMatchesFoundationFormatter() {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        formatter.timeZone = TimeZone(identifier: "UTC")
        var generator = SplitMix64(state: 7)
        for _ in 0..<500 {
            let millis = Int64.random(in: 0...4_102_444_800_000, using: &generator)
            let date = Date(timeIntervalSince1970: Double(millis) / 1000)
            #expect(LedgerTimestamp.format(date) == formatter.string(from: date))
        }
    }
}
