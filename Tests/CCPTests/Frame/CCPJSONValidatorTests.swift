import Testing

@testable import CCP

@Suite struct CCPJSONValidatorTests {
    func isValid(_ bytes: [UInt8], maxDepth: Int = 64) -> Bool {
        bytes.withUnsafeBytes { CCPJSONValidator.isValid($0, maxDepth: maxDepth) }
    }

    func isValid(_ text: String, maxDepth: Int = 64) -> Bool { self.isValid(Array(text.utf8), maxDepth: maxDepth) }

    static let valid = [
        "{}", "[]", "0", "-0", "1.5", "-1.25e+10", "2E-3", "true", "false", "null", "\"\"",
        " \t\r\n{ \"a\" : [ 1 , { } , [ ] , \"x\" ] }\n", #"{"ack":1}"#, #"{"nonce":"abc","n":[1,2,3]}"#,
        #""\"\\\/\b\f\n\r\t\u00e9\uD83D\uDE00""#, "\"é 😀 \u{10FFFF}\"", #""\ud800""#,
    ]

    static let invalid = [
        "", " ", "{", "}", "[", "[1,]", "{,}", "{\"a\"}", "{\"a\":}", "{\"a\":1,}", "{1:2}", "[1 2]",
        "01", "1.", ".5", "+1", "1e", "1e+", "-", "--1", "0x10", "NaN", "Infinity", "tru", "nul",
        "True", "'a'", "\"abc", "\"\\x\"", "\"\\u12\"", "\"\\u12g4\"", "{}{}", "1 2", "[]]",
        "\"tab\there\"", "{\"a\":1}x", "\u{FEFF}{}",
    ]

    @Test(arguments: valid)
    func acceptsOneJSONValue(text: String) {
        #expect(isValid(text))
    }

    @Test(arguments: invalid)
    func rejectsEverythingElse(text: String) {
        #expect(!isValid(text))
    }

    @Test func rejectsInvalidUTF8InStrings() {
        let quote = UInt8(ascii: "\"")
        for sequence: [UInt8] in [[0xff], [0xc0, 0xaf], [0xc3], [0xe0, 0x80, 0x80], [0xed, 0xa0, 0x80], [0xf4, 0x90, 0x80, 0x80], [0x80]] {
            #expect(!isValid([quote] + sequence + [quote]), "\(sequence)")
        }
        #expect(isValid([quote, 0xc3, 0xa9, quote]))
        #expect(!isValid([0xc3, 0xa9]), "non-ASCII outside a string")
    }

    @Test func nestingDepthIsBounded() {
        let deep = String(repeating: "[", count: 64) + String(repeating: "]", count: 64)
        #expect(isValid(deep, maxDepth: 64))
        #expect(!isValid("[" + deep + "]", maxDepth: 64))
        let objects = String(repeating: "{\"a\":", count: 10) + "1" + String(repeating: "}", count: 10)
        #expect(isValid(objects, maxDepth: 10))
        #expect(!isValid(objects, maxDepth: 9))
        // A million open brackets fail fast at the depth limit, in bounded memory.
        #expect(!isValid(String(repeating: "[", count: 1_000_000)))
    }
}
