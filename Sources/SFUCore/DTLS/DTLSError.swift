/// A DTLS failure with a stable code; `detail` carries OpenSSL's error text when there is one.
public struct DTLSError: Error, Hashable, Sendable, CustomStringConvertible {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: String, Sendable {
            case certificate_generation, context_setup, invalid_fingerprint, fingerprint_mismatch
            case missing_peer_certificate, no_srtp_profile, keying_material_export
            case handshake_failed, handshake_timeout, protocol_error
        }

        private let base: Base
        private init(_ base: Base) { self.base = base }

        /// The code as a string, e.g. `"fingerprint_mismatch"`; stable across releases.
        public var description: String { base.rawValue }

        /// OpenSSL could not generate the key or self-signed certificate.
        public static let certificateGeneration = Code(.certificate_generation)
        /// OpenSSL rejected the SSL_CTX/SSL configuration (profiles, groups, MTU, BIO).
        public static let contextSetup = Code(.context_setup)
        /// A fingerprint string is not `<hash-func> XX:XX:…` with a supported hash (RFC 8122 §5).
        public static let invalidFingerprint = Code(.invalid_fingerprint)
        /// The peer's certificate matches none of the SDP fingerprints (RFC 5763 §5).
        public static let fingerprintMismatch = Code(.fingerprint_mismatch)
        /// The peer sent no certificate (RFC 5763 §5 requires one from both sides).
        public static let missingPeerCertificate = Code(.missing_peer_certificate)
        /// The handshake finished without a `use_srtp` profile (RFC 5764 §4.1.1).
        public static let noSRTPProfile = Code(.no_srtp_profile)
        /// `SSL_export_keying_material` failed (RFC 5764 §4.2).
        public static let keyingMaterialExport = Code(.keying_material_export)
        /// The handshake failed: alert sent or received, bad message, no common cipher.
        public static let handshakeFailed = Code(.handshake_failed)
        /// Retransmissions exhausted or the handshake deadline passed (RFC 6347 §4.2.4).
        public static let handshakeTimeout = Code(.handshake_timeout)
        /// A fatal error after the handshake (e.g. a fatal alert from the peer).
        public static let protocolError = Code(.protocol_error)
    }

    /// The stable code.
    public var code: Code
    /// Human-readable context (OpenSSL's error string); not stable, for logs only.
    public var detail: String?

    public init(code: Code, detail: String? = nil) {
        self.code = code
        self.detail = detail
    }

    public var description: String {
        if let detail { return "DTLSError(\(code): \(detail))" }
        return "DTLSError(\(code))"
    }
}
