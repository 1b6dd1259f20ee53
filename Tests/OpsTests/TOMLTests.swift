import Testing

@testable import Ops

@Suite struct TOMLTests {
    @Test func parsesTablesScalarsAndArrays() throws {
        let doc = try parseTOML(
            """
            # a comment
            title = "CommuCat" # trailing comment
            [server]
            domain = 'example.org'
            port = 8_443
            hex = 0xff
            ratio = 0.5
            on = true
            ips = ["127.0.0.1", "::1",]
            nested = { a = 1, b.c = "d" }
            [a.b]
            x = -3
            """)
        #expect(doc["title"] == .string("CommuCat"))
        guard case .table(let server)? = doc["server"] else {
            Issue.record("no server table")
            return
        }
        #expect(server["domain"] == .string("example.org"))
        #expect(server["port"] == .integer(8443))
        #expect(server["hex"] == .integer(255))
        #expect(server["ratio"] == .float(0.5))
        #expect(server["on"] == .bool(true))
        #expect(server["ips"] == .array([.string("127.0.0.1"), .string("::1")]))
        #expect(server["nested"] == .table(["a": .integer(1), "b": .table(["c": .string("d")])]))
        #expect(doc["a"] == .table(["b": .table(["x": .integer(-3)])]))
    }

    @Test func stringsFollowTOMLEscapes() throws {
        let doc = try parseTOML(
            #"""
            basic = "tab\tquote\"slash\\u\u00e9"
            literal = 'C:\path\n'
            multi = """
            one\
               two"""
            raw = '''
            keep \n this'''
            """#)
        #expect(doc["basic"] == .string("tab\tquote\"slash\\u\u{e9}"))
        #expect(doc["literal"] == .string(#"C:\path\n"#))
        #expect(doc["multi"] == .string("onetwo"))
        #expect(doc["raw"] == .string(#"keep \n this"#))
    }

    @Test func arraysOfTables() throws {
        let doc = try parseTOML("[[peer]]\nname = \"a\"\n[[peer]]\nname = \"b\"\n")
        #expect(doc["peer"] == .array([.table(["name": .string("a")]), .table(["name": .string("b")])]))
    }

    @Test(arguments: [
        ("a = 1\na = 2", 2, "defined twice"),
        ("[s]\n[s]", 2, "defined twice"),
        ("a = \"open", 1, "unterminated"),
        ("a = bare", 1, "strings need quotes"),
        ("a = 1 b = 2", 1, "end of the line"),
        ("a = 2024-01-01T00:00:00Z", 1, "date"),
        ("a = 01", 1, "leading zeros"),
        ("a = [1, 2", 1, "expected"),
        ("= 1", 1, "key"),
        ("a = 1__0", 1, "underscore"),
    ])
    func rejectsMalformedInputWithItsLine(text: String, line: Int, reason: String) {
        #expect {
            _ = try parseTOML(text)
        } throws: { error in
            guard let error = error as? TOMLError else { return false }
            return error.line == line && error.reason.contains(reason)
        }
    }

    @Test func neverCrashesOnMutatedInput() {
        let seed = Array(
            """
            [server]
            domain = "x" # c
            list = [1, "two", { a = 3 }]
            s = '''lit'''
            """.utf8)
        var generator = SplitMix64(seed: 42)
        let alphabet = Array("[]{}=\"'#.,\n\\ abc019_-+:".utf8)
        for _ in 0..<5_000 {
            var bytes = seed
            for _ in 0..<Int.random(in: 1...6, using: &generator) {
                let i = Int.random(in: 0..<bytes.count, using: &generator)
                switch Int.random(in: 0..<3, using: &generator) {
                case 0: bytes[i] = alphabet.randomElement(using: &generator) ?? 0
                case 1: bytes.remove(at: i)
                default: bytes.insert(alphabet.randomElement(using: &generator) ?? 0, at: i)
                }
                if bytes.isEmpty { bytes = [0x61] }
            }
            _ = try? parseTOML(String(decoding: bytes, as: UTF8.self))
        }
    }
}

/// A tiny deterministic generator so fuzz-style tests repeat exactly.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
