/// Why a datagram on the shared media port was dropped without an answer.
///
/// Nothing that fails authentication is answered (no amplification, no reflection); every drop is
/// counted by reason in ``ICEDropCounters`` so `/metrics` can show it (SPEC §10).
public enum ICEDropReason: String, CaseIterable, Hashable, Sendable, CustomStringConvertible {
    /// Empty datagram, or a first byte outside the RFC 7983 §7 ranges we serve (ZRTP, TURN
    /// channel data, anything else).
    case unclassifiable
    /// First byte says STUN but the bytes do not parse (RFC 8489 §5-§6).
    case malformedSTUN
    /// A STUN binding indication (keepalive, RFC 8445 §11): ignored by design.
    case bindingIndication
    /// A STUN message other than a binding request or indication (a response, another method).
    case notBindingRequest
    /// RFC 8445 §7.2.2: checks carry FINGERPRINT; this one did not.
    case missingFingerprint
    /// FINGERPRINT present but wrong (RFC 8489 §14.7).
    case badFingerprint
    /// No USERNAME attribute (RFC 8489 §9.1.3 would answer 400; we stay silent).
    case missingUsername
    /// USERNAME's local part names no registered session.
    case unknownUsername
    /// USERNAME is not exactly `localUfrag:remoteUfrag` of the session (RFC 8445 §7.2.2).
    case wrongUsername
    /// No MESSAGE-INTEGRITY attribute (RFC 8489 §9.1.3 would answer 400; we stay silent).
    case missingIntegrity
    /// MESSAGE-INTEGRITY does not verify with the local password (RFC 8489 §9.1.3 would answer
    /// 401; we stay silent).
    case badIntegrity
    /// The session already ended (consent expired or failed).
    case sessionClosed
    /// A non-STUN packet from a transport address no valid check has come from.
    case unknownSource

    /// The stable code, the raw value (e.g. `"badIntegrity"`).
    public var description: String { rawValue }
}

/// Drop counts by reason. Plain integers: the owner (one event loop) exports them to metrics.
public struct ICEDropCounters: Hashable, Sendable {
    private var counts: [UInt64]

    public init() {
        counts = [UInt64](repeating: 0, count: ICEDropReason.allCases.count)
    }

    private static func index(_ reason: ICEDropReason) -> Int {
        switch reason {
        case .unclassifiable: return 0
        case .malformedSTUN: return 1
        case .bindingIndication: return 2
        case .notBindingRequest: return 3
        case .missingFingerprint: return 4
        case .badFingerprint: return 5
        case .missingUsername: return 6
        case .unknownUsername: return 7
        case .wrongUsername: return 8
        case .missingIntegrity: return 9
        case .badIntegrity: return 10
        case .sessionClosed: return 11
        case .unknownSource: return 12
        }
    }

    public subscript(reason: ICEDropReason) -> UInt64 {
        counts[ICEDropCounters.index(reason)]
    }

    /// Adds one drop of `reason`.
    public mutating func record(_ reason: ICEDropReason) {
        counts[ICEDropCounters.index(reason)] &+= 1
    }

    /// All drops, every reason.
    public var total: UInt64 { counts.reduce(0, &+) }
}
