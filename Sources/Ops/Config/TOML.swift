import Foundation

// A TOML 1.0 reader for commucat.toml.
//
// The TOML package on this machine (LebJe/TOMLKit) cannot be resolved here (it depends on a package
// that is not mirrored), so the project reads TOML itself. Supported: comments, bare/quoted/dotted
// keys, [tables], [[arrays of tables]], basic and literal strings (single- and multi-line, with the
// escapes of TOML 1.0 §String), integers (decimal, 0x, 0o, 0b, underscores), floats (incl. inf/nan),
// booleans, arrays, inline tables. Offset date-times are rejected with a clear error: no config key
// takes one. Redefinition of a key or table is an error, as the spec requires.

/// A parsed TOML value.
public enum TOMLValue: Equatable, Sendable {
    case string(String)
    case integer(Int64)
    case float(Double)
    case bool(Bool)
    case array([TOMLValue])
    case table([String: TOMLValue])

    /// The name of the TOML type, for error messages.
    public var typeName: String {
        switch self {
        case .string: "string"
        case .integer: "integer"
        case .float: "float"
        case .bool: "boolean"
        case .array: "array"
        case .table: "table"
        }
    }
}

/// A TOML syntax error with its 1-based position.
public struct TOMLError: Error, Equatable, CustomStringConvertible {
    public var line: Int
    public var column: Int
    public var reason: String
    public var description: String { "line \(line), column \(column): \(reason)" }
}

/// Parses TOML text into its root table.
public func parseTOML(_ text: String) throws(TOMLError) -> [String: TOMLValue] {
    var parser = TOMLParser(text)
    return try parser.parseDocument()
}

struct TOMLParser {
    private let bytes: [UInt8]
    private var index = 0
    private var line = 1
    private var lineStart = 0

    private var root: [String: TOMLValue] = [:]
    /// Path of the current [table] header; empty for the root.
    private var currentPath: [String] = []
    /// Tables defined explicitly by a header, and those made implicitly (by dotted keys or as parents).
    private var explicitTables: Set<[String]> = []
    /// Paths fixed by an inline table or a key/value: they cannot be extended by headers.
    private var sealedPaths: Set<[String]> = []
    private var arrayTablePaths: Set<[String]> = []

    init(_ text: String) {
        self.bytes = Array(text.utf8)
    }

    // MARK: Document

    mutating func parseDocument() throws(TOMLError) -> [String: TOMLValue] {
        while true {
            skipWhitespace()
            guard let byte = peek() else { break }
            switch byte {
            case UInt8(ascii: "#"):
                skipComment()
            case UInt8(ascii: "\n"):
                newline()
            case UInt8(ascii: "\r"):
                try expectCRLF()
            case UInt8(ascii: "["):
                try parseHeader()
                try expectEndOfLine()
            default:
                try parseKeyValue(into: currentPath)
                try expectEndOfLine()
            }
        }
        return root
    }

    private mutating func parseHeader() throws(TOMLError) {
        advance()  // [
        let isArray = peek() == UInt8(ascii: "[")
        if isArray { advance() }
        skipWhitespace()
        let path = try parseKey()
        skipWhitespace()
        try expect("]")
        if isArray { try expect("]") }
        if isArray {
            if explicitTables.contains(path) || sealedPaths.contains(path) {
                throw error("cannot redefine `\(path.joined(separator: "."))` as an array of tables")
            }
            try appendArrayTable(at: path)
            arrayTablePaths.insert(path)
            currentPath = path
        } else {
            if explicitTables.contains(path) || sealedPaths.contains(path) || arrayTablePaths.contains(path) {
                throw error("table `\(path.joined(separator: "."))` is defined twice")
            }
            try ensureTable(at: path)
            explicitTables.insert(path)
            currentPath = path
        }
    }

    private mutating func parseKeyValue(into tablePath: [String]) throws(TOMLError) {
        let key = try parseKey()
        skipWhitespace()
        try expect("=")
        skipWhitespace()
        let value = try parseValue()
        let fullPath = tablePath + key
        for prefixLength in (tablePath.count + 1)..<fullPath.count {
            let prefix = Array(fullPath.prefix(prefixLength))
            if sealedPaths.contains(prefix) {
                throw error("cannot add keys to `\(prefix.joined(separator: "."))`: it is already a value")
            }
        }
        try ensureTable(at: Array(fullPath.dropLast()))
        try insert(value, at: fullPath)
        sealedPaths.insert(fullPath)
    }

    // MARK: Tree building

    /// Walks `path` from the root, creating missing tables, descending into the last element of an
    /// array of tables (TOML 1.0 §Array of Tables), and applies `change` to the table at the end.
    private mutating func modifyTable(
        at path: [String],
        _ change: (inout [String: TOMLValue]) throws(TOMLError) -> Void
    ) throws(TOMLError) {
        try Self.modify(&root, path: path[...], position: (line, column), change)
    }

    private static func modify(
        _ table: inout [String: TOMLValue],
        path: ArraySlice<String>,
        position: (Int, Int),
        _ change: (inout [String: TOMLValue]) throws(TOMLError) -> Void
    ) throws(TOMLError) {
        guard let head = path.first else { return try change(&table) }
        switch table[head] {
        case nil:
            var inner: [String: TOMLValue] = [:]
            try modify(&inner, path: path.dropFirst(), position: position, change)
            table[head] = .table(inner)
        case .table(var inner):
            try modify(&inner, path: path.dropFirst(), position: position, change)
            table[head] = .table(inner)
        case .array(var elements):
            guard case .table(var last)? = elements.last else {
                throw TOMLError(line: position.0, column: position.1, reason: "`\(head)` is not a table")
            }
            try modify(&last, path: path.dropFirst(), position: position, change)
            elements[elements.count - 1] = .table(last)
            table[head] = .array(elements)
        case let other?:
            throw TOMLError(line: position.0, column: position.1, reason: "`\(head)` is a \(other.typeName), not a table")
        }
    }

    private mutating func ensureTable(at path: [String]) throws(TOMLError) {
        try modifyTable(at: path) { _ throws(TOMLError) in }
    }

    private mutating func insert(_ value: TOMLValue, at path: [String]) throws(TOMLError) {
        guard let key = path.last else { return }
        let position = (line, column)
        try modifyTable(at: Array(path.dropLast())) { table throws(TOMLError) in
            if table[key] != nil {
                throw TOMLError(line: position.0, column: position.1, reason: "key `\(key)` is defined twice")
            }
            table[key] = value
        }
    }

    private mutating func appendArrayTable(at path: [String]) throws(TOMLError) {
        guard let key = path.last else { return }
        let position = (line, column)
        try modifyTable(at: Array(path.dropLast())) { table throws(TOMLError) in
            switch table[key] {
            case nil: table[key] = .array([.table([:])])
            case .array(var elements):
                elements.append(.table([:]))
                table[key] = .array(elements)
            case let other?:
                throw TOMLError(line: position.0, column: position.1, reason: "`\(key)` is a \(other.typeName), not an array of tables")
            }
        }
    }

    // MARK: Keys

    private mutating func parseKey() throws(TOMLError) -> [String] {
        var parts: [String] = []
        while true {
            skipWhitespace()
            guard let byte = peek() else { throw error("expected a key") }
            switch byte {
            case UInt8(ascii: "\""):
                parts.append(try parseBasicString())
            case UInt8(ascii: "'"):
                parts.append(try parseLiteralString())
            default:
                let start = index
                while let b = peek(), Self.isBareKeyByte(b) { advance() }
                if start == index { throw error("expected a key, found `\(Character(UnicodeScalar(byte)))`") }
                parts.append(String(decoding: bytes[start..<index], as: UTF8.self))
            }
            skipWhitespace()
            if peek() == UInt8(ascii: ".") {
                advance()
            } else {
                return parts
            }
        }
    }

    private static func isBareKeyByte(_ b: UInt8) -> Bool {
        (b >= UInt8(ascii: "a") && b <= UInt8(ascii: "z")) || (b >= UInt8(ascii: "A") && b <= UInt8(ascii: "Z"))
            || (b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9")) || b == UInt8(ascii: "_") || b == UInt8(ascii: "-")
    }

    // MARK: Values

    private mutating func parseValue() throws(TOMLError) -> TOMLValue {
        guard let byte = peek() else { throw error("expected a value") }
        switch byte {
        case UInt8(ascii: "\""):
            if startsWith("\"\"\"") { return .string(try parseMultilineBasicString()) }
            return .string(try parseBasicString())
        case UInt8(ascii: "'"):
            if startsWith("'''") { return .string(try parseMultilineLiteralString()) }
            return .string(try parseLiteralString())
        case UInt8(ascii: "["):
            return try parseArray()
        case UInt8(ascii: "{"):
            return try parseInlineTable()
        case UInt8(ascii: "t"), UInt8(ascii: "f"):
            if startsWith("true") { index += 4; return .bool(true) }
            if startsWith("false") { index += 5; return .bool(false) }
            throw error("expected a value")
        default:
            return try parseNumber()
        }
    }

    private mutating func parseNumber() throws(TOMLError) -> TOMLValue {
        let start = index
        while let b = peek(), !Self.endsScalar(b) { advance() }
        let token = String(decoding: bytes[start..<index], as: UTF8.self)
        if token.isEmpty { throw error("expected a value") }
        if token.contains(":") || (token.count >= 10 && token.dropFirst(4).first == "-" && token.first?.isNumber == true) {
            throw error("date and time values are not supported here (`\(token)`)")
        }
        switch token {
        case "inf", "+inf": return .float(.infinity)
        case "-inf": return .float(-.infinity)
        case "nan", "+nan", "-nan": return .float(.nan)
        default: break
        }
        if token.hasPrefix("0x") || token.hasPrefix("0o") || token.hasPrefix("0b") {
            let radix = token.hasPrefix("0x") ? 16 : token.hasPrefix("0o") ? 8 : 2
            let digits = try stripUnderscores(String(token.dropFirst(2)), token: token)
            guard let value = Int64(digits, radix: radix) else { throw error("invalid integer `\(token)`") }
            return .integer(value)
        }
        let cleaned = try stripUnderscores(token, token: token)
        let unsigned = cleaned.hasPrefix("+") || cleaned.hasPrefix("-") ? String(cleaned.dropFirst()) : cleaned
        if unsigned.count > 1 && unsigned.hasPrefix("0") && !unsigned.hasPrefix("0.") && !unsigned.hasPrefix("0e")
            && !unsigned.hasPrefix("0E")
        {
            throw error("leading zeros are not allowed in `\(token)`")
        }
        if let value = Int64(cleaned) { return .integer(value) }
        if cleaned.contains(where: { $0 == "." || $0 == "e" || $0 == "E" }), let value = Double(cleaned) {
            return .float(value)
        }
        throw error("invalid value `\(token)` (strings need quotes)")
    }

    private func stripUnderscores(_ s: String, token: String) throws(TOMLError) -> String {
        if s.hasPrefix("_") || s.hasSuffix("_") || s.contains("__") {
            throw error("misplaced underscore in `\(token)`")
        }
        return s.replacingOccurrences(of: "_", with: "")
    }

    private static func endsScalar(_ b: UInt8) -> Bool {
        b == UInt8(ascii: " ") || b == UInt8(ascii: "\t") || b == UInt8(ascii: "\n") || b == UInt8(ascii: "\r")
            || b == UInt8(ascii: ",") || b == UInt8(ascii: "]") || b == UInt8(ascii: "}") || b == UInt8(ascii: "#")
    }

    private mutating func parseArray() throws(TOMLError) -> TOMLValue {
        advance()  // [
        var elements: [TOMLValue] = []
        while true {
            try skipWhitespaceCommentsAndNewlines()
            if peek() == UInt8(ascii: "]") {
                advance()
                return .array(elements)
            }
            elements.append(try parseValue())
            try skipWhitespaceCommentsAndNewlines()
            switch peek() {
            case UInt8(ascii: ","): advance()
            case UInt8(ascii: "]"):
                advance()
                return .array(elements)
            default: throw error("expected `,` or `]` in array")
            }
        }
    }

    private mutating func parseInlineTable() throws(TOMLError) -> TOMLValue {
        advance()  // {
        // An inline table is parsed by a nested parser state so that dotted keys inside it build
        // sub-tables exactly like in the document, and the result is sealed.
        var nested = TOMLParser(bytes: bytes, index: index, line: line, lineStart: lineStart)
        skipWhitespace()
        nested.index = index
        nested.skipWhitespace()
        if nested.peek() == UInt8(ascii: "}") {
            nested.advance()
            self.index = nested.index
            return .table([:])
        }
        while true {
            nested.skipWhitespace()
            try nested.parseKeyValue(into: [])
            nested.skipWhitespace()
            switch nested.peek() {
            case UInt8(ascii: ","): nested.advance()
            case UInt8(ascii: "}"):
                nested.advance()
                self.index = nested.index
                return .table(nested.root)
            default: throw nested.error("expected `,` or `}` in inline table")
            }
        }
    }

    private init(bytes: [UInt8], index: Int, line: Int, lineStart: Int) {
        self.bytes = bytes
        self.index = index
        self.line = line
        self.lineStart = lineStart
    }

    // MARK: Strings

    private mutating func parseBasicString() throws(TOMLError) -> String {
        advance()  // "
        var out: [UInt8] = []
        while true {
            guard let b = peek() else { throw error("unterminated string") }
            switch b {
            case UInt8(ascii: "\""):
                advance()
                return String(decoding: out, as: UTF8.self)
            case UInt8(ascii: "\\"):
                try parseEscape(into: &out)
            case UInt8(ascii: "\n"), UInt8(ascii: "\r"):
                throw error("newline in a single-line string")
            default:
                if b < 0x20 && b != UInt8(ascii: "\t") || b == 0x7f { throw error("control character in string") }
                out.append(b)
                advance()
            }
        }
    }

    private mutating func parseMultilineBasicString() throws(TOMLError) -> String {
        index += 3
        skipOneNewline()
        var out: [UInt8] = []
        while true {
            guard let b = peek() else { throw error("unterminated multi-line string") }
            if startsWith("\"\"\"") {
                index += 3
                // Up to two quotes may directly precede the closing delimiter (TOML 1.0 §String).
                var extra = 0
                while peek() == UInt8(ascii: "\""), extra < 2 {
                    out.append(UInt8(ascii: "\""))
                    advance()
                    extra += 1
                }
                return String(decoding: out, as: UTF8.self)
            }
            if b == UInt8(ascii: "\\") {
                // A line-ending backslash trims the newline and following whitespace.
                var probe = index + 1
                while probe < bytes.count, bytes[probe] == UInt8(ascii: " ") || bytes[probe] == UInt8(ascii: "\t") { probe += 1 }
                if probe < bytes.count, bytes[probe] == UInt8(ascii: "\n") || bytes[probe] == UInt8(ascii: "\r") {
                    index = probe
                    while let c = peek(), c == UInt8(ascii: " ") || c == UInt8(ascii: "\t") || c == UInt8(ascii: "\n") || c == UInt8(ascii: "\r") {
                        if c == UInt8(ascii: "\n") { newline() } else { advance() }
                    }
                    continue
                }
                try parseEscape(into: &out)
                continue
            }
            if b == UInt8(ascii: "\n") {
                out.append(b)
                newline()
                continue
            }
            out.append(b)
            advance()
        }
    }

    private mutating func parseLiteralString() throws(TOMLError) -> String {
        advance()  // '
        let start = index
        while let b = peek(), b != UInt8(ascii: "'") {
            if b == UInt8(ascii: "\n") || b == UInt8(ascii: "\r") { throw error("newline in a single-line string") }
            advance()
        }
        guard peek() != nil else { throw error("unterminated string") }
        let s = String(decoding: bytes[start..<index], as: UTF8.self)
        advance()
        return s
    }

    private mutating func parseMultilineLiteralString() throws(TOMLError) -> String {
        index += 3
        skipOneNewline()
        var out: [UInt8] = []
        while true {
            guard let b = peek() else { throw error("unterminated multi-line string") }
            if startsWith("'''") {
                index += 3
                var extra = 0
                while peek() == UInt8(ascii: "'"), extra < 2 {
                    out.append(UInt8(ascii: "'"))
                    advance()
                    extra += 1
                }
                return String(decoding: out, as: UTF8.self)
            }
            if b == UInt8(ascii: "\n") { newline() } else { advance() }
            out.append(b)
        }
    }

    private mutating func parseEscape(into out: inout [UInt8]) throws(TOMLError) {
        advance()  // backslash
        guard let e = peek() else { throw error("unterminated escape") }
        advance()
        switch e {
        case UInt8(ascii: "b"): out.append(0x08)
        case UInt8(ascii: "t"): out.append(0x09)
        case UInt8(ascii: "n"): out.append(0x0a)
        case UInt8(ascii: "f"): out.append(0x0c)
        case UInt8(ascii: "r"): out.append(0x0d)
        case UInt8(ascii: "\""): out.append(0x22)
        case UInt8(ascii: "\\"): out.append(0x5c)
        case UInt8(ascii: "u"), UInt8(ascii: "U"):
            let count = e == UInt8(ascii: "u") ? 4 : 8
            guard index + count <= bytes.count,
                let code = UInt32(String(decoding: bytes[index..<(index + count)], as: UTF8.self), radix: 16),
                let scalar = Unicode.Scalar(code)
            else { throw error("invalid unicode escape") }
            index += count
            out.append(contentsOf: Array(String(Character(scalar)).utf8))
        default:
            throw error("invalid escape `\\\(Character(UnicodeScalar(e)))`")
        }
    }

    // MARK: Lexing helpers

    private func peek() -> UInt8? { index < bytes.count ? bytes[index] : nil }
    private mutating func advance() { index += 1 }
    private mutating func newline() {
        index += 1
        line += 1
        lineStart = index
    }
    private var column: Int { index - lineStart + 1 }

    private func startsWith(_ s: StaticString) -> Bool {
        let count = s.utf8CodeUnitCount
        guard index + count <= bytes.count else { return false }
        return s.withUTF8Buffer { Array($0) == Array(bytes[index..<(index + count)]) }
    }

    private mutating func skipWhitespace() {
        while let b = peek(), b == UInt8(ascii: " ") || b == UInt8(ascii: "\t") { advance() }
    }

    private mutating func skipComment() {
        while let b = peek(), b != UInt8(ascii: "\n") { advance() }
    }

    private mutating func skipOneNewline() {
        if startsWith("\r\n") {
            index += 1
            newline()
        } else if peek() == UInt8(ascii: "\n") {
            newline()
        }
    }

    private mutating func skipWhitespaceCommentsAndNewlines() throws(TOMLError) {
        while let b = peek() {
            switch b {
            case UInt8(ascii: " "), UInt8(ascii: "\t"): advance()
            case UInt8(ascii: "\n"): newline()
            case UInt8(ascii: "\r"): try expectCRLF()
            case UInt8(ascii: "#"): skipComment()
            default: return
            }
        }
    }

    private mutating func expectCRLF() throws(TOMLError) {
        guard startsWith("\r\n") else { throw error("bare carriage return") }
        index += 1
        newline()
    }

    private mutating func expect(_ c: Character) throws(TOMLError) {
        guard let b = peek(), b == c.asciiValue else { throw error("expected `\(c)`") }
        advance()
    }

    private mutating func expectEndOfLine() throws(TOMLError) {
        skipWhitespace()
        if peek() == UInt8(ascii: "#") { skipComment() }
        switch peek() {
        case nil: return
        case UInt8(ascii: "\n"): newline()
        case UInt8(ascii: "\r"): try expectCRLF()
        default: throw error("expected the end of the line")
        }
    }

    private func error(_ reason: String) -> TOMLError {
        TOMLError(line: line, column: column, reason: reason)
    }
}
