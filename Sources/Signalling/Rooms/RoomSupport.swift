#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The room service's pure helpers: ids, secrets, SDP credential replacement.
extension RoomService {
    /// `sdp` with every `a=ice-ufrag` and `a=ice-pwd` line replaced.
    static func replacingICECredentials(in sdp: String, ufrag: String, pwd: String) -> String {
        let lines = sdp.split(separator: "\r\n", omittingEmptySubsequences: false).map { line -> Substring in
            if line.hasPrefix("a=ice-ufrag:") { return Substring("a=ice-ufrag:" + ufrag) }
            if line.hasPrefix("a=ice-pwd:") { return Substring("a=ice-pwd:" + pwd) }
            return line
        }
        return lines.joined(separator: "\r\n")
    }

    /// 128 random bits in hex (the same ids WHIP/WHEP resources get).
    static func makeSecret() -> String { RandomID.hex128() }

    static func constantTimeEquals(_ lhs: String, _ rhs: String) -> Bool {
        let a = Array(lhs.utf8)
        let b = Array(rhs.utf8)
        guard a.count == b.count else { return false }
        return zip(a, b).reduce(UInt8(0)) { $0 | ($1.0 ^ $1.1) } == 0
    }

    /// A fresh participant id: 64 random bits in hex.
    static func makeID() -> String {
        var generator = SystemRandomNumberGenerator()
        let text = String(generator.next() as UInt64, radix: 16)
        return "P" + String(repeating: "0", count: 16 - text.count) + text
    }
}

/// A refusal on `/rtc`: a stable code and a message for people.
struct RoomError: Error, Sendable {
    var code: String
    var message: String
    init(_ code: String, _ message: String) {
        self.code = code
        self.message = message
    }
}
