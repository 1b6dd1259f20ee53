import Crypto
import Foundation

/// One ledger record, i.e. one line of the JSON Lines file (SPEC §6).
///
/// A line has its keys in this fixed order, so the same record always encodes to the same bytes:
///
///     {"seq":0,"recorded_at":"2025-01-02T03:04:05.678Z","scope":"handshake","result":"ok",
///      "fields":{"device":"d1"},"prev":"000…000","hash":"9f86…"}
///
/// (one line on disk). `fields` keys are sorted by their UTF-8 bytes.
///
/// - `prev` is SPEC §6's chain link: hex SHA-256 of the previous line's exact bytes without its
///   newline; 64 zeros for the first record of a ledger.
/// - `hash` is an extension of SPEC §6 made by this implementation: hex SHA-256 of this line's
///   bytes as they would be without `,"hash":"…"`, i.e. of `{"seq":…,"prev":"…"}`. Without it a
///   change to the last line could not be detected, since no later line links to it. It is always
///   the last key.
public struct LedgerRecord: Sendable, Hashable {
    /// Position in the ledger: 0-based and contiguous, also across rotated files.
    public var seq: UInt64
    /// RFC 3339 UTC time with milliseconds, e.g. `2025-01-02T03:04:05.678Z`.
    public var recordedAt: String
    public var scope: LedgerScope
    /// `ok`, `failure` or a taxonomy code such as `rate_limited`.
    public var result: String
    public var fields: [String: LedgerValue]
    /// Hex SHA-256 of the previous line (64 zeros for the first record).
    public var prev: String
    /// Hex SHA-256 of this line without its `hash` member (see the type's documentation).
    public var hash: String

    /// `prev` of the very first record of a ledger.
    public static let genesisPrev = String(repeating: "0", count: 64)

    /// Builds a record and computes its ``hash``.
    public init(
        seq: UInt64,
        recordedAt: String,
        scope: LedgerScope,
        result: String,
        fields: [String: LedgerValue],
        prev: String
    ) {
        self.seq = seq
        self.recordedAt = recordedAt
        self.scope = scope
        self.result = result
        self.fields = fields
        self.prev = prev
        self.hash = ""
        self.hash = LedgerHash.hex(SHA256.hash(data: unhashedBytes()))
    }

    /// The line's bytes without the trailing newline, `hash` included.
    public func encodedLine() -> [UInt8] {
        var line = unhashedBytes()
        line.removeLast()  // the closing brace
        line.append(contentsOf: Array(#","hash":"#.utf8))
        JSONWriter.writeString(hash, into: &line)
        line.append(UInt8(ascii: "}"))
        return line
    }

    /// Hex SHA-256 of ``encodedLine()``: what the next record's `prev` must be.
    public func lineDigest() -> String {
        LedgerHash.hex(SHA256.hash(data: encodedLine()))
    }

    /// `{"seq":…,"prev":"…"}`: the bytes that ``hash`` covers.
    func unhashedBytes() -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(192 + fields.count * 32)
        out.append(contentsOf: Array(#"{"seq":"#.utf8))
        out.append(contentsOf: Array(String(seq).utf8))
        out.append(contentsOf: Array(#","recorded_at":"#.utf8))
        JSONWriter.writeString(recordedAt, into: &out)
        out.append(contentsOf: Array(#","scope":"#.utf8))
        JSONWriter.writeString(scope.rawValue, into: &out)
        out.append(contentsOf: Array(#","result":"#.utf8))
        JSONWriter.writeString(result, into: &out)
        out.append(contentsOf: Array(#","fields":{"#.utf8))
        let keys = fields.keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        for (position, key) in keys.enumerated() {
            if position > 0 { out.append(UInt8(ascii: ",")) }
            JSONWriter.writeString(key, into: &out)
            out.append(UInt8(ascii: ":"))
            if let value = fields[key] { JSONWriter.writeValue(value, into: &out) }
        }
        out.append(contentsOf: Array(#"},"prev":"#.utf8))
        JSONWriter.writeString(prev, into: &out)
        out.append(UInt8(ascii: "}"))
        return out
    }
}

/// Hex helpers for SHA-256 digests.
enum LedgerHash {
    private static let digits = Array("0123456789abcdef".utf8)

    static func hex(_ digest: SHA256.Digest) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(64)
        for byte in digest {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    static func hex(of bytes: some Collection<UInt8>) -> String {
        hex(SHA256.hash(data: Array(bytes)))
    }

    /// 64 lowercase hex digits, the only spelling the ledger writes.
    static func isDigestHex(_ text: String) -> Bool {
        text.utf8.count == 64
            && text.utf8.allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) }
    }
}

/// RFC 3339 §5.6 `date-time` in UTC with exactly three fractional digits, computed without
/// `DateFormatter` (no locale, no calendar state, cheap enough to run under the ledger's lock).
enum LedgerTimestamp {
    static func format(_ date: Date) -> String {
        // Round to whole microseconds first so binary noise (x.899 stored as x.89899999) does not
        // lose a millisecond, then truncate to milliseconds.
        let microseconds = (date.timeIntervalSince1970 * 1_000_000).rounded()
        // Clamp to years 0000-9999, the range RFC 3339 §5.6 can spell. Both bounds are exact doubles.
        let low = -62_167_219_200_000_000.0
        let high = 253_402_300_800_000_000.0
        let micros: Int64
        if microseconds.isNaN {
            micros = 0
        } else if microseconds <= low {
            micros = Int64(low)
        } else if microseconds >= high {
            micros = Int64(high) - 1
        } else {
            micros = Int64(microseconds)
        }
        var total = micros / 1000
        if micros % 1000 < 0 { total -= 1 }
        var days = total / 86_400_000
        var millisOfDay = total % 86_400_000
        if millisOfDay < 0 {
            millisOfDay += 86_400_000
            days -= 1
        }
        let (year, month, day) = civilDate(daysSinceEpoch: days)
        let hour = millisOfDay / 3_600_000
        let minute = millisOfDay / 60_000 % 60
        let second = millisOfDay / 1000 % 60
        let millis = millisOfDay % 1000
        return "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2))T\(pad(hour, 2)):\(pad(minute, 2)):"
            + "\(pad(second, 2)).\(pad(millis, 3))Z"
    }

    private static func pad(_ value: Int64, _ width: Int) -> String {
        let text = String(value)
        return text.count >= width ? text : String(repeating: "0", count: width - text.count) + text
    }

    /// Days since 1970-01-01 to a proleptic Gregorian date (H. Hinnant's `civil_from_days`).
    private static func civilDate(daysSinceEpoch: Int64) -> (Int64, Int64, Int64) {
        let shifted = daysSinceEpoch + 719_468
        let era = (shifted >= 0 ? shifted : shifted - 146_096) / 146_097
        let dayOfEra = shifted - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthIndex = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * monthIndex + 2) / 5 + 1
        let month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        return (year, month, day)
    }
}
