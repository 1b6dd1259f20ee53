/// The kind of event a ledger record describes (SPEC §6).
public enum LedgerScope: String, Sendable, Hashable, CaseIterable, Codable {
    case handshake
    case device
    case pairing
    case delivery
    case call
    case federation
    case admin
}

/// One value in a record's `fields` object: a JSON string, number or boolean (SPEC §6).
///
/// Literals work directly: `["device": "d1", "attempt": 3, "ratio": 0.5, "ok": true]`.
/// Non-finite doubles have no JSON spelling; they are written as the strings `"NaN"`,
/// `"Infinity"` and `"-Infinity"` and therefore read back as ``string(_:)``.
public enum LedgerValue: Sendable, Hashable {
    case string(String)
    case int(Int64)
    case double(Double)
    case bool(Bool)
}

extension LedgerValue: ExpressibleByStringLiteral {
    public init(stringLiteral value: String) { self = .string(value) }
}

extension LedgerValue: ExpressibleByIntegerLiteral {
    public init(integerLiteral value: Int64) { self = .int(value) }
}

extension LedgerValue: ExpressibleByFloatLiteral {
    public init(floatLiteral value: Double) { self = .double(value) }
}

extension LedgerValue: ExpressibleByBooleanLiteral {
    public init(booleanLiteral value: Bool) { self = .bool(value) }
}

extension LedgerValue: CustomStringConvertible {
    public var description: String {
        switch self {
        case .string(let value): return value
        case .int(let value): return String(value)
        case .double(let value): return String(value)
        case .bool(let value): return String(value)
        }
    }
}
