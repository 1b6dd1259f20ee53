/// An SRTP/SRTCP failure with a stable code, so the SFU can count drops by reason.
///
/// Codes mirror libsrtp2's `srtp_err_status_t` names (`auth_fail`, `replay_fail`, …) plus
/// `invalid_packet` for packets rejected before reaching libsrtp. Creating one never allocates.
public struct SRTPError: Error, Hashable, Sendable, CustomStringConvertible {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: String, Sendable {
            case fail, bad_param, alloc_fail, init_fail, auth_fail, cipher_fail, replay_fail
            case replay_old, algo_fail, no_such_op, no_ctx, cant_check, key_expired, parse_err
            case bad_mki, pkt_idx_old, pkt_idx_adv, invalid_packet, other
        }

        private let base: Base
        private init(_ base: Base) { self.base = base }

        /// The code as a string, e.g. `"auth_fail"`; stable across releases.
        public var description: String { base.rawValue }

        /// Unspecified libsrtp failure.
        public static let fail = Code(.fail)
        /// Unsupported parameter, e.g. a packet too short for its header.
        public static let badParam = Code(.bad_param)
        /// libsrtp could not allocate (a new SSRC stream).
        public static let allocFail = Code(.alloc_fail)
        /// libsrtp or a session failed to initialise.
        public static let initFail = Code(.init_fail)
        /// Authentication tag mismatch: tampered, truncated, or wrong keys.
        public static let authFail = Code(.auth_fail)
        /// Cipher failure.
        public static let cipherFail = Code(.cipher_fail)
        /// Packet index already seen (replayed packet, RFC 3711 §3.3.2).
        public static let replayFail = Code(.replay_fail)
        /// Packet index older than the replay window.
        public static let replayOld = Code(.replay_old)
        /// Self-test of an algorithm failed.
        public static let algoFail = Code(.algo_fail)
        /// Unsupported operation.
        public static let noSuchOp = Code(.no_such_op)
        /// No stream for this SSRC and no wildcard policy.
        public static let noContext = Code(.no_ctx)
        /// Unable to perform the check.
        public static let cantCheck = Code(.cant_check)
        /// Key usage limit reached (RFC 3711 §9.2).
        public static let keyExpired = Code(.key_expired)
        /// Header could not be parsed by libsrtp.
        public static let parseError = Code(.parse_err)
        /// MKI present in packet is invalid.
        public static let badMKI = Code(.bad_mki)
        /// Packet index too old to be considered.
        public static let packetIndexOld = Code(.pkt_idx_old)
        /// Packet index advanced, re-keying required.
        public static let packetIndexAdvanced = Code(.pkt_idx_adv)
        /// Rejected before libsrtp: not an RTP/RTCP packet, or its header runs past its length.
        public static let invalidPacket = Code(.invalid_packet)
        /// Any other libsrtp status; see ``SRTPError/status``.
        public static let other = Code(.other)

        /// Maps a libsrtp `srtp_err_status_t` raw value.
        init(status: UInt32) {
            switch status {
            case 1: self = .fail
            case 2: self = .badParam
            case 3: self = .allocFail
            case 5: self = .initFail
            case 7: self = .authFail
            case 8: self = .cipherFail
            case 9: self = .replayFail
            case 10: self = .replayOld
            case 11: self = .algoFail
            case 12: self = .noSuchOp
            case 13: self = .noContext
            case 14: self = .cantCheck
            case 15: self = .keyExpired
            case 21: self = .parseError
            case 25: self = .badMKI
            case 26: self = .packetIndexOld
            case 27: self = .packetIndexAdvanced
            default: self = .other
            }
        }
    }

    /// The stable code.
    public var code: Code
    /// libsrtp's raw status, or 0 when the packet never reached libsrtp.
    public var status: UInt32

    public init(code: Code, status: UInt32 = 0) {
        self.code = code
        self.status = status
    }

    init(status: UInt32) {
        self.init(code: Code(status: status), status: status)
    }

    public var description: String { "SRTPError(\(code), status: \(status))" }
}
