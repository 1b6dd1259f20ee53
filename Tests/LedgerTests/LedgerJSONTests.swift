import Testing

@testable import Ledger

@Suite struct LedgerJSONTests {
    private func parse(_ text: String, maxDepth: Int = 8) throws(JSONParseError) -> JSONValue {
        try JSONReader.parse(Array(text.utf8), maxDepth: maxDepth)
    }

    @Test func parsesScalarsObjectsAndArrays() throws {
        let value = try parse(#" {"a": [1, -2.5e3, true, false, null], "b": {"c": "d"}} "#)
        #expect(value == .object([
            JSONMember(key: "a", value: .array([.number("1"), .number("-2.5e3"), .bool(true), .bool(false), .null])),
            JSONMember(key: "b", value: .object([JSONMember(key: "c", value: .string("d"))])),
        ]))
    }

    @Test func decodesEscapesAndSurrogatePairs() throws {
        #expect(try parse(#""\u00e9\ud83d\ude00\n\/""#) == .string("é😀\n/"))
    }

    @Test(arguments: [
        "", "{", "}", #"{"a":1,}"#, #"{"a":1,"a":2}"#, "01", "1.", "-", "1e", "+1", #""\ud800""#, #""\udc00""#,
        #""\x""#, "\"a\nb\"", "nul", "[1 2]", #"{"a" 1}"#, "1 2", #""unterminated"#, #""\u12""#,
    ])
    func rejectsInvalidJSON(text: String) {
        #expect(throws: JSONParseError.self) { try parse(text) }
    }

    @Test func rejectsInvalidUTF8() {
        #expect(throws: JSONParseError.self) { try JSONReader.parse([0x22, 0xC3, 0x28, 0x22]) }
    }

    @Test func boundsNestingWithoutRecursingDeeply() {
        let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        #expect(throws: JSONParseError.self) { try parse(deep) }
        #expect(throws: JSONParseError.self) { try parse(#"{"a":{"b":{}}}"#, maxDepth: 2) }
        #expect((try? parse(#"{"a":{"b":1}}"#, maxDepth: 2)) != nil)
    }

    @Test func writerEscapesControlCharacters() {
        var out: [UInt8] = []
        JSONWriter.writeString("a\"\\\n\r\t\u{0}\u{1F}é", into: &out)
        #expect(String(decoding: out, as: UTF8.self) == #""a\"\\\n\r\t\u0000\u001fé""#)
    }
}
