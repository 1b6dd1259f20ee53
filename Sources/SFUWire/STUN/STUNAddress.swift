/// A transport address as carried by (XOR-)MAPPED-ADDRESS (RFC 8489 §14.1-14.2): IP and port.
///
/// Pure value type, independent of sockets; `init?(ipAddress:port:)` parses textual forms so the
/// I/O layer can convert from NIO's `SocketAddress.ipAddress`.
public struct STUNAddress: Hashable, Sendable, CustomStringConvertible {
    public enum IP: Hashable, Sendable {
        /// IPv4 address in host order (`0x7F000001` is 127.0.0.1).
        case v4(UInt32)
        /// IPv6 address as two host-order halves, most significant first.
        case v6(UInt64, UInt64)
    }

    public var ip: IP
    public var port: UInt16

    public init(ip: IP, port: UInt16) {
        self.ip = ip
        self.port = port
    }

    /// Parses a dotted-quad IPv4 address or an RFC 4291 §2.2 IPv6 text address (brackets allowed).
    public init?(ipAddress: String, port: UInt16) {
        var text = Substring(ipAddress)
        if text.first == "[", text.last == "]" { text = text.dropFirst().dropLast() }
        if let v4 = STUNAddress.parseIPv4(text) {
            self.init(ip: .v4(v4), port: port)
        } else if let (high, low) = STUNAddress.parseIPv6(text) {
            self.init(ip: .v6(high, low), port: port)
        } else {
            return nil
        }
    }

    /// The address family code of RFC 8489 §14.1: 0x01 IPv4, 0x02 IPv6.
    public var familyCode: UInt8 {
        switch ip {
        case .v4: return 0x01
        case .v6: return 0x02
        }
    }

    /// The IP in text form: dotted quad or RFC 5952 canonical IPv6.
    public var ipString: String {
        switch ip {
        case .v4(let value):
            return (0..<4).map { String((value >> (24 - 8 * UInt32($0))) & 0xFF) }.joined(separator: ".")
        case .v6(let high, let low):
            let groups: [UInt16] = (0..<8).map { index in
                let half = index < 4 ? high : low
                return UInt16(truncatingIfNeeded: half >> (48 - 16 * UInt64(index % 4)))
            }
            return STUNAddress.formatIPv6(groups)
        }
    }

    public var description: String {
        switch ip {
        case .v4: return "\(ipString):\(port)"
        case .v6: return "[\(ipString)]:\(port)"
        }
    }

    static func parseIPv4(_ text: Substring) -> UInt32? {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var value: UInt32 = 0
        for part in parts {
            guard !part.isEmpty, part.count <= 3, part.allSatisfy(\.isASCIIDigit),
                  let octet = UInt32(part), octet <= 255
            else { return nil }
            value = value << 8 | octet
        }
        return value
    }

    static func parseIPv6(_ text: Substring) -> (UInt64, UInt64)? {
        guard text.contains(":"), text.count <= 45 else { return nil }
        var head: [UInt16] = []
        var tail: [UInt16] = []
        let pieces = text.split(separator: "::", maxSplits: 2, omittingEmptySubsequences: false)
        guard pieces.count <= 2 else { return nil }
        func groups(_ part: Substring, allowIPv4: Bool) -> [UInt16]? {
            if part.isEmpty { return [] }
            var result: [UInt16] = []
            let fields = part.split(separator: ":", omittingEmptySubsequences: false)
            for (index, field) in fields.enumerated() {
                if allowIPv4, index == fields.count - 1, field.contains(".") {
                    guard let v4 = parseIPv4(field) else { return nil }
                    result.append(UInt16(v4 >> 16))
                    result.append(UInt16(v4 & 0xFFFF))
                } else {
                    guard (1...4).contains(field.count), let group = UInt16(field, radix: 16) else { return nil }
                    result.append(group)
                }
            }
            return result
        }
        if pieces.count == 1 {
            guard let all = groups(pieces[0], allowIPv4: true), all.count == 8 else { return nil }
            head = all
        } else {
            guard let first = groups(pieces[0], allowIPv4: false),
                  let second = groups(pieces[1], allowIPv4: true),
                  first.count + second.count <= 7
            else { return nil }
            head = first
            tail = second
        }
        let all = head + [UInt16](repeating: 0, count: 8 - head.count - tail.count) + tail
        var high: UInt64 = 0
        var low: UInt64 = 0
        for (index, group) in all.enumerated() {
            if index < 4 { high = high << 16 | UInt64(group) } else { low = low << 16 | UInt64(group) }
        }
        return (high, low)
    }

    /// RFC 5952 §4: lowercase, no leading zeros, the longest run (≥ 2) of zero groups as `::`.
    static func formatIPv6(_ groups: [UInt16]) -> String {
        var bestStart = -1
        var bestLength = 0
        var index = 0
        while index < groups.count {
            if groups[index] == 0 {
                var end = index
                while end < groups.count, groups[end] == 0 { end += 1 }
                if end - index > bestLength, end - index >= 2 {
                    bestStart = index
                    bestLength = end - index
                }
                index = end
            } else {
                index += 1
            }
        }
        func hex(_ slice: ArraySlice<UInt16>) -> String {
            slice.map { String($0, radix: 16) }.joined(separator: ":")
        }
        guard bestStart >= 0 else { return hex(groups[...]) }
        return hex(groups[..<bestStart]) + "::" + hex(groups[(bestStart + bestLength)...])
    }
}

extension Character {
    var isASCIIDigit: Bool { isASCII && isNumber }
}
