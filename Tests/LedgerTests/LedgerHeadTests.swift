import Testing

@testable import Ledger

@Suite struct LedgerHeadTests {
    @Test func headRoundTripsAndRejectsJunk() {
        let head = LedgerHead(seq: 12, hash: String(repeating: "ab", count: 32))
        #expect(LedgerHead(parsing: head.encoded()) == head)
        #expect(LedgerHead(parsing: Array(#"{"hash":"x","seq":1}"#.utf8)) == nil)
        #expect(LedgerHead(parsing: [0xFF, 0x00]) == nil)
        #expect(LedgerHead(parsing: []) == nil)
    }

    @Test func headPathIsTheLogPathPlusHead() {
        #expect(LedgerHead.path(for: "/var/commucat/ledger.jsonl") == "/var/commucat/ledger.jsonl.head")
    }
}
