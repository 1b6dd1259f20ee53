/// A strict, allocation-light check that bytes are exactly one JSON value (RFC 8259), used for the
/// payload of every JSON-carrying CCP-1 frame type.
///
/// Choices (docs/PROTOCOL-CCP.md §2):
/// - the text must be UTF-8 (RFC 8259 §8.1); overlong forms, surrogates encoded in UTF-8 and code
///   points above U+10FFFF are rejected; a byte order mark is rejected, not skipped;
/// - leading and trailing whitespace (RFC 8259 §2: space, tab, LF, CR) is allowed, anything else
///   after the value is not;
/// - escaped lone surrogates (`"\ud800"`) pass: they match the RFC 8259 §7 grammar;
/// - nesting deeper than `maxDepth` arrays/objects is rejected, so the check runs in bounded memory.
///
/// It does not build values and does not check for duplicate object keys (RFC 8259 §4 leaves
/// them to the receiver).
public enum CCPJSONValidator {
    /// Returns whether `bytes` is exactly one JSON value nested at most `maxDepth` levels deep.
    public static func isValid(_ bytes: UnsafeRawBufferPointer, maxDepth: Int) -> Bool {
        var scanner = Scanner(bytes: bytes, maxDepth: maxDepth)
        return scanner.scanDocument()
    }
}

private struct Scanner {
    let bytes: UnsafeRawBufferPointer
    let maxDepth: Int
    var index = 0
    /// Open containers, innermost last: `true` for an object, `false` for an array.
    var stack: [Bool] = []

    init(bytes: UnsafeRawBufferPointer, maxDepth: Int) {
        self.bytes = bytes
        self.maxDepth = maxDepth
    }

    var current: UInt8? { self.index < self.bytes.count ? self.bytes[self.index] : nil }

    mutating func skipWhitespace() {
        while let byte = self.current, byte == 0x20 || byte == 0x09 || byte == 0x0a || byte == 0x0d {
            self.index += 1
        }
    }

    mutating func consume(_ expected: UInt8) -> Bool {
        guard self.current == expected else { return false }
        self.index += 1
        return true
    }

    /// An object member's `string ws ":"`, after which a value is due.
    mutating func scanMemberName() -> Bool {
        self.skipWhitespace()
        guard self.scanString() else { return false }
        self.skipWhitespace()
        return self.consume(UInt8(ascii: ":"))
    }

    mutating func scanDocument() -> Bool {
        // Each turn of this loop scans one value, then closes containers / crosses commas until
        // another value is due or the document ends.
        while true {
            self.skipWhitespace()
            guard let byte = self.current else { return false }
            var valueDone = true
            switch byte {
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                guard self.stack.count < self.maxDepth else { return false }
                let isObject = byte == UInt8(ascii: "{")
                self.index += 1
                self.stack.append(isObject)
                self.skipWhitespace()
                if self.consume(isObject ? UInt8(ascii: "}") : UInt8(ascii: "]")) {
                    self.stack.removeLast()
                } else {
                    valueDone = false
                    if isObject && !self.scanMemberName() { return false }
                }
            case UInt8(ascii: "\""):
                guard self.scanString() else { return false }
            case UInt8(ascii: "t"):
                guard self.scanLiteral("true") else { return false }
            case UInt8(ascii: "f"):
                guard self.scanLiteral("false") else { return false }
            case UInt8(ascii: "n"):
                guard self.scanLiteral("null") else { return false }
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
                guard self.scanNumber() else { return false }
            default:
                return false
            }
            guard valueDone else { continue }
            // After a value: close containers or cross a comma.
            var valueDue = false
            while !valueDue {
                self.skipWhitespace()
                guard let isObject = self.stack.last else {
                    return self.index == self.bytes.count
                }
                if self.consume(UInt8(ascii: ",")) {
                    if isObject && !self.scanMemberName() { return false }
                    valueDue = true
                } else if self.consume(isObject ? UInt8(ascii: "}") : UInt8(ascii: "]")) {
                    self.stack.removeLast()
                } else {
                    return false
                }
            }
        }
    }

    mutating func scanLiteral(_ literal: StaticString) -> Bool {
        let count = literal.utf8CodeUnitCount
        guard self.bytes.count - self.index >= count else { return false }
        let start = literal.utf8Start
        for offset in 0..<count where self.bytes[self.index + offset] != start[offset] {
            return false
        }
        self.index += count
        return true
    }

    mutating func scanDigits() -> Int {
        let start = self.index
        while let byte = self.current, byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") {
            self.index += 1
        }
        return self.index - start
    }

    /// RFC 8259 §6: `[ minus ] int [ frac ] [ exp ]`, no leading zeros, no bare `.` or `+`.
    mutating func scanNumber() -> Bool {
        _ = self.consume(UInt8(ascii: "-"))
        if self.consume(UInt8(ascii: "0")) {
            // A zero integer part stands alone.
        } else if self.scanDigits() == 0 {
            return false
        }
        if self.consume(UInt8(ascii: ".")) && self.scanDigits() == 0 { return false }
        if self.consume(UInt8(ascii: "e")) || self.consume(UInt8(ascii: "E")) {
            if !self.consume(UInt8(ascii: "+")) { _ = self.consume(UInt8(ascii: "-")) }
            if self.scanDigits() == 0 { return false }
        }
        return true
    }

    /// RFC 8259 §7 strings, with UTF-8 checked per RFC 3629 §4.
    mutating func scanString() -> Bool {
        guard self.consume(UInt8(ascii: "\"")) else { return false }
        while let byte = self.current {
            switch byte {
            case UInt8(ascii: "\""):
                self.index += 1
                return true
            case UInt8(ascii: "\\"):
                self.index += 1
                guard let escaped = self.current else { return false }
                self.index += 1
                switch escaped {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"),
                    UInt8(ascii: "f"), UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
                    continue
                case UInt8(ascii: "u"):
                    for _ in 0..<4 {
                        guard let hex = self.current, hex.isHexDigit else { return false }
                        self.index += 1
                    }
                default:
                    return false
                }
            case 0x00..<0x20:
                return false
            case 0x20..<0x80:
                self.index += 1
            default:
                guard self.scanUTF8Sequence(lead: byte) else { return false }
            }
        }
        return false
    }

    /// One multi-byte UTF-8 sequence starting with `lead` (RFC 3629 §4 table).
    mutating func scanUTF8Sequence(lead: UInt8) -> Bool {
        let continuationCount: Int
        var secondRange: ClosedRange<UInt8> = 0x80...0xbf
        switch lead {
        case 0xc2...0xdf: continuationCount = 1
        case 0xe0: continuationCount = 2; secondRange = 0xa0...0xbf
        case 0xe1...0xec, 0xee...0xef: continuationCount = 2
        case 0xed: continuationCount = 2; secondRange = 0x80...0x9f
        case 0xf0: continuationCount = 3; secondRange = 0x90...0xbf
        case 0xf1...0xf3: continuationCount = 3
        case 0xf4: continuationCount = 3; secondRange = 0x80...0x8f
        default: return false
        }
        guard self.bytes.count - self.index > continuationCount else { return false }
        for offset in 1...continuationCount {
            let byte = self.bytes[self.index + offset]
            let range = offset == 1 ? secondRange : 0x80...0xbf
            guard range.contains(byte) else { return false }
        }
        self.index += 1 + continuationCount
        return true
    }
}

extension UInt8 {
    fileprivate var isHexDigit: Bool {
        (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(self) || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains(self)
            || (UInt8(ascii: "A")...UInt8(ascii: "F")).contains(self)
    }
}
