import Testing

@testable import Ledger

@Suite struct LedgerLineParserTests {
    private let zeros = LedgerRecord.genesisPrev

    /// Builds a line from `body` (the members before `hash`) with a correct hash member.
    private func line(_ body: String) -> [UInt8] {
        let unhashed = Array("{\(body)}".utf8)
        var out = Array(unhashed.dropLast())
        out += Array(#","hash":"\#(LedgerHash.hex(of: unhashed))"}"#.utf8)
        return out
    }

    private func reason(_ bytes: [UInt8]) -> LedgerLineParser.Problem? {
        do {
            _ = try LedgerLineParser.parse(bytes)
            return nil
        } catch {
            return error
        }
    }

    @Test func acceptsAHandBuiltLine() throws {
        let record = try LedgerLineParser.parse(
            line(#""seq":3,"recorded_at":"x","scope":"call","result":"ok","fields":{"n":1.25},"prev":"\#(zeros)""#)
        )
        #expect(record.seq == 3 && record.scope == .call && record.fields == ["n": .double(1.25)])
    }

    @Test(arguments: [
        #""seq":3,"recorded_at":"x","scope":"call","result":"ok","fields":{},"prev":"\#(String(repeating: "0", count: 64))","extra":1"#,
        #""seq":3,"recorded_at":"x","scope":"call","result":"ok","fields":{},"prev":"\#(String(repeating: "A", count: 64))""#,
        #""seq":3,"recorded_at":"x","scope":"lunch","result":"ok","fields":{},"prev":"\#(String(repeating: "0", count: 64))""#,
        #""seq":-3,"recorded_at":"x","scope":"call","result":"ok","fields":{},"prev":"\#(String(repeating: "0", count: 64))""#,
        #""seq":3.0,"recorded_at":"x","scope":"call","result":"ok","fields":{},"prev":"\#(String(repeating: "0", count: 64))""#,
        #""seq":"3","recorded_at":"x","scope":"call","result":"ok","fields":{},"prev":"\#(String(repeating: "0", count: 64))""#,
        #""seq":3,"recorded_at":"x","scope":"call","result":"ok","fields":{"a":null},"prev":"\#(String(repeating: "0", count: 64))""#,
        #""seq":3,"recorded_at":"x","scope":"call","result":"ok","fields":{"a":[1]},"prev":"\#(String(repeating: "0", count: 64))""#,
        #""seq":3,"seq":4,"recorded_at":"x","scope":"call","result":"ok","fields":{},"prev":"\#(String(repeating: "0", count: 64))""#,
        #""seq":3,"recorded_at":"x","scope":"call","fields":{},"prev":"\#(String(repeating: "0", count: 64))""#,
    ])
    func rejectsMalformedRecords(body: String) {
        guard case .malformed = reason(line(body)) else {
            Issue.record("accepted or misclassified: \(body)")
            return
        }
    }

    @Test func hashMustBeTheLastMemberAndMatch() {
        let good = line(#""seq":0,"recorded_at":"x","scope":"call","result":"ok","fields":{},"prev":"\#(zeros)""#)
        var tampered = good
        tampered[10] = UInt8(ascii: "y")  // inside "recorded_at"
        #expect(reason(tampered) != nil)
        let text = String(decoding: good, as: UTF8.self)
        let changed = Array(text.replacingOccurrences(of: #""result":"ok""#, with: #""result":"no""#).utf8)
        guard case .hashMismatch = reason(changed) else {
            Issue.record("modified line not reported as a hash mismatch")
            return
        }
        let reordered = Array(text.replacingOccurrences(of: #"{"seq":0,"#, with: "{").dropLast().utf8)
            + Array(#","seq":0}"#.utf8)
        guard case .malformed = reason(reordered) else {
            Issue.record("hash not last was accepted")
            return
        }
    }
}
