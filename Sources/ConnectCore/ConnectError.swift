/// A `/connect` handshake or session failure with a stable taxonomy code (SPEC §4.2).
///
/// The peer sees `Error {error: code, detail}` and the stream closes; the ledger records `code`.
public struct ConnectError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The SPEC §4.2 error taxonomy, plus `unsupported` for frames nobody handles.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        public let rawValue: String
        private init(_ rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        /// `supported_versions` shares no version with the server.
        public static let protocolVersion = Code("protocol_version")
        /// `pattern` is not `XK` or `IK`.
        public static let pattern = Code("pattern")
        /// `device_proof` does not verify, or the device key differs from the registered one.
        public static let proof = Code("proof")
        /// A Noise message failed (bad tag, wrong server key, static key mismatch).
        public static let noise = Code("noise")
        /// The device is unknown and may not register itself.
        public static let pairingRequired = Code("pairing_required")
        /// The device was revoked.
        public static let deviceRevoked = Code("device_revoked")
        /// The presented device certificate is malformed, expired, or not ours.
        public static let certificate = Code("certificate")
        /// Too many connection attempts from this address.
        public static let rateLimited = Code("rate_limited")
        /// A frame or JSON payload could not be decoded, or a frame arrived out of turn.
        public static let decode = Code("decode")
        /// A server-side failure (storage, …).
        public static let `internal` = Code("internal")
        /// A frame type this server does not handle (yet).
        public static let unsupported = Code("unsupported")
        /// The server is shutting down (graceful drain); reconnect later.
        public static let shuttingDown = Code("shutting_down")
        /// The handshake did not complete within `limits.handshake_timeout` of the stream's start.
        public static let handshakeTimeout = Code("handshake_timeout")
        /// The session was silent for three keepalive intervals.
        public static let idleTimeout = Code("idle_timeout")
    }

    public var code: Code
    public var detail: String

    public init(_ code: Code, _ detail: String) {
        self.code = code
        self.detail = detail
    }

    public var description: String { "ConnectError(\(code.rawValue): \(detail))" }
}
