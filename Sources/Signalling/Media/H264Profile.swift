import SFUWire

/// An H.264 profile as signalled by `profile-level-id` (RFC 6184 §8.1): `profile_idc`, the
/// `profile-iop` constraint flags and `level_idc`, three bytes in hex. Only the profile must match
/// between offer and answer; the level may differ when `level-asymmetry-allowed=1` (RFC 6184 §8.2.2)
/// and an SFU forwards whatever level the publisher sends.
public enum H264Profile: String, Hashable, Sendable {
    case constrainedBaseline = "constrained-baseline"
    case baseline
    case main
    case extended
    case high
    case constrainedHigh = "constrained-high"

    /// Classifies a `profile-level-id` value; `nil` for malformed text or unsupported profiles
    /// (High 10, 4:2:2, 4:4:4, …).
    public init?(profileLevelID text: String) {
        guard text.utf8.count == 6, let value = UInt32(text, radix: 16) else { return nil }
        let profileIDC = UInt8(truncatingIfNeeded: value >> 16)
        let iop = UInt8(truncatingIfNeeded: value >> 8)
        let set0: UInt8 = 0x80, set1: UInt8 = 0x40
        let set4: UInt8 = 0x08, set5: UInt8 = 0x04
        // ITU-T H.264 Annex A.2: a stream conforming to Constrained Baseline may be signalled by
        // Baseline with constraint_set1, Main with constraint_set0, or Extended with set0 and set1.
        switch profileIDC {
        case 0x42:
            self = iop & set1 != 0 ? .constrainedBaseline : .baseline
        case 0x4D:
            self = iop & set0 != 0 ? .constrainedBaseline : .main
        case 0x58:
            if iop & (set0 | set1) == set0 | set1 {
                self = .constrainedBaseline
            } else if iop & set0 != 0 {
                self = .baseline
            } else {
                self = .extended
            }
        case 0x64:
            // A.2.11: constraint_set4 and constraint_set5 together mark Constrained High.
            self = iop & (set4 | set5) == set4 | set5 ? .constrainedHigh : .high
        default:
            return nil
        }
    }

    /// RFC 6184 §8.1: without `profile-level-id`, Baseline at level 1 (`42000a`) is inferred.
    public static let defaultProfileLevelID = "42000a"

    /// The profile of an H.264 fmtp, or `nil` when unsupported.
    static func of(_ fmtp: SDPFmtp?) -> H264Profile? {
        H264Profile(profileLevelID: fmtp?.parameter("profile-level-id") ?? defaultProfileLevelID)
    }

    /// RFC 6184 §8.1: `packetization-mode` defaults to 0 (single NAL unit); the SFU needs 1
    /// (non-interleaved, with STAP-A and FU-A), which is what WebRTC endpoints send.
    static func packetizationMode(_ fmtp: SDPFmtp?) -> Int {
        fmtp?.parameter("packetization-mode").flatMap { Int($0) } ?? 0
    }
}
