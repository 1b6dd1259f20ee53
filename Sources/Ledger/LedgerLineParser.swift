import Crypto

/// Reads one ledger line back into a ``LedgerRecord`` and checks its `hash` member.
enum LedgerLineParser {
    /// Longest line the ledger writes or reads back (records whose fields would exceed it are
    /// written with their fields replaced, see ``Ledger``).
    static let maxLineBytes = 1 << 20

    /// `,"hash":"` + 64 hex digits + `"}`: every line ends with exactly these 75 bytes.
    static let hashSuffixCount = 75
    private static let hashSuffixHead = Array(#","hash":""#.utf8)

    enum Problem: Error, Equatable {
        case malformed(String)
        case hashMismatch(expected: String, found: String)
    }

    /// Parses `line` (no newline) and verifies its `hash`.
    static func parse(_ line: [UInt8]) throws(Problem) -> LedgerRecord {
        guard !line.isEmpty else { throw .malformed("empty line") }
        guard line.count <= maxLineBytes else { throw .malformed("line longer than \(maxLineBytes) bytes") }
        guard line.count > hashSuffixCount + 2,
              line.last == UInt8(ascii: "}"),
              line[line.count - 2] == UInt8(ascii: "\""),
              Array(line[(line.count - hashSuffixCount)..<(line.count - hashSuffixCount + hashSuffixHead.count)])
                == hashSuffixHead
        else {
            throw .malformed("line does not end with the \"hash\" member")
        }
        let value: JSONValue
        do {
            value = try JSONReader.parse(line, maxDepth: 2)
        } catch {
            throw .malformed("invalid JSON at byte \(error.offset + 1): \(error.reason)")
        }
        let record = try record(from: value)
        var hashed = Array(line[..<(line.count - hashSuffixCount)])
        hashed.append(UInt8(ascii: "}"))
        let computed = LedgerHash.hex(SHA256.hash(data: hashed))
        guard computed == record.hash else { throw .hashMismatch(expected: computed, found: record.hash) }
        return record
    }

    private static func record(from value: JSONValue) throws(Problem) -> LedgerRecord {
        guard case .object(let members) = value else { throw .malformed("line is not a JSON object") }
        guard members.last?.key == "hash" else { throw .malformed("\"hash\" is not the last member") }
        var seq: UInt64?
        var recordedAt: String?
        var scope: LedgerScope?
        var result: String?
        var fields: [String: LedgerValue]?
        var prev: String?
        var hash: String?
        for entry in members {
            let (key, member) = (entry.key, entry.value)
            switch (key, member) {
            case ("seq", .number(let text)):
                guard let number = UInt64(text) else { throw .malformed("seq \(text) is not a non-negative integer") }
                seq = number
            case ("recorded_at", .string(let text)): recordedAt = text
            case ("scope", .string(let text)):
                guard let known = LedgerScope(rawValue: text) else { throw .malformed("unknown scope \"\(text)\"") }
                scope = known
            case ("result", .string(let text)): result = text
            case ("fields", .object(let entries)): fields = try fieldValues(entries)
            case ("prev", .string(let text)):
                guard LedgerHash.isDigestHex(text) else { throw .malformed("prev is not 64 lowercase hex digits") }
                prev = text
            case ("hash", .string(let text)):
                guard LedgerHash.isDigestHex(text) else { throw .malformed("hash is not 64 lowercase hex digits") }
                hash = text
            case ("seq", _), ("recorded_at", _), ("scope", _), ("result", _), ("fields", _), ("prev", _), ("hash", _):
                throw .malformed("\"\(key)\" has the wrong type")
            default:
                throw .malformed("unknown member \"\(key)\"")
            }
        }
        guard let seq, let recordedAt, let scope, let result, let fields, let prev, let hash else {
            let required = ["seq", "recorded_at", "scope", "result", "fields", "prev", "hash"]
            let present = Set(members.map(\.key))
            let missing = required.filter { !present.contains($0) }.joined(separator: ", ")
            throw .malformed("missing \(missing)")
        }
        var record = LedgerRecord(
            seq: seq, recordedAt: recordedAt, scope: scope, result: result, fields: fields, prev: prev
        )
        record.hash = hash
        return record
    }

    private static func fieldValues(_ entries: [JSONMember]) throws(Problem) -> [String: LedgerValue] {
        var fields: [String: LedgerValue] = [:]
        for entry in entries {
            let (key, member) = (entry.key, entry.value)
            switch member {
            case .string(let text): fields[key] = .string(text)
            case .bool(let flag): fields[key] = .bool(flag)
            case .number(let text):
                if let integer = Int64(text) {
                    fields[key] = .int(integer)
                } else if let double = Double(text) {
                    fields[key] = .double(double)
                } else {
                    throw .malformed("field \"\(key)\" is not a number")
                }
            case .null, .array, .object:
                throw .malformed("field \"\(key)\" is not a string, number or boolean")
            }
        }
        return fields
    }
}

extension LedgerRecord {
    /// Parses one ledger line (without its newline) and checks its `hash` member.
    ///
    /// - Throws: ``LedgerError/Code/malformed`` when the bytes are not a ledger record or the hash
    ///   does not match them.
    public init(parsingLine line: some Collection<UInt8>) throws(LedgerError) {
        do {
            self = try LedgerLineParser.parse(Array(line))
        } catch {
            switch error {
            case .malformed(let reason):
                throw LedgerError(code: .malformed, message: reason)
            case .hashMismatch:
                throw LedgerError(code: .malformed, message: "hash does not match the line (modified line)")
            }
        }
    }
}
