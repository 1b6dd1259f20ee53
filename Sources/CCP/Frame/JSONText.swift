/// A small JSON value for the payloads the server writes (Ack, Error, Presence, GroupEvent), so that
/// building them needs neither `Any` nor a Codable type per frame. Keys are written sorted.
/// ``appendQuoted(_:to:)`` is the project's one RFC 8259 string escaper (HTTP problem bodies and room
/// messages use it too).
public indirect enum JSONText: Sendable, Hashable {
    case string(String)
    case int(Int64)
    case bool(Bool)
    case null
    case array([JSONText])
    case object([String: JSONText])

    public static func object(_ members: [String: JSONText]) -> String { JSONText.object(members).rendered }

    public var rendered: String {
        var out = ""
        write(to: &out)
        return out
    }

    func write(to out: inout String) {
        switch self {
        case .string(let value): Self.appendQuoted(value, to: &out)
        case .int(let value): out += String(value)
        case .bool(let value): out += value ? "true" : "false"
        case .null: out += "null"
        case .array(let values):
            out += "["
            for (index, value) in values.enumerated() {
                if index > 0 { out += "," }
                value.write(to: &out)
            }
            out += "]"
        case .object(let members):
            out += "{"
            for (index, key) in members.keys.sorted().enumerated() {
                if index > 0 { out += "," }
                Self.appendQuoted(key, to: &out)
                out += ":"
                members[key]?.write(to: &out)
            }
            out += "}"
        }
    }

    /// Appends `value` as a JSON string literal (RFC 8259 §7): quotes, backslashes and control
    /// characters escaped, everything else as is.
    public static func appendQuoted(_ value: String, to out: inout String) {
        out += "\""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        out += "\""
    }

    public static func strings(_ values: [String]) -> JSONText { .array(values.map(JSONText.string)) }
}
