/// The one error type of the CCP module: frame decoding, JSON validation and Noise.
///
/// Shaped like postgres-nio's `PSQLError`: a struct with a stable ``Code`` and an optional
/// human-readable ``detail``. ``code`` strings never change once shipped; ``taxonomyCode`` is the
/// CCP-1 error taxonomy code (SPEC §4.2) that the `Error` frame sent to the peer carries.
public struct CCPError: Error, Hashable, Sendable, CustomStringConvertible {
    /// A stable, machine-readable error code.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        /// The stable snake_case string of this code, for logs, metrics labels and tests.
        public let rawValue: String
        /// The SPEC §4.2 taxonomy code this maps to (`decode` or `noise`).
        public let taxonomyCode: String

        private init(_ rawValue: String, taxonomy: String) {
            self.rawValue = rawValue
            self.taxonomyCode = taxonomy
        }

        public var description: String { self.rawValue }

        // MARK: Frame codec (taxonomy `decode`)

        /// A varint has a continuation bit set on its 10th byte.
        public static let varintTooLong = Code("varint_too_long", taxonomy: "decode")
        /// A 10-byte varint's value does not fit in 64 bits.
        public static let varintOverflow = Code("varint_overflow", taxonomy: "decode")
        /// A varint ends in a zero byte after a continuation byte (not the shortest encoding).
        public static let varintNonMinimal = Code("varint_non_minimal", taxonomy: "decode")
        /// `body_len` exceeds the body limit.
        public static let bodyTooLarge = Code("body_too_large", taxonomy: "decode")
        /// The body ends before `type`, `channel_id`, `sequence` or `payload_len` is complete.
        public static let truncatedHeader = Code("truncated_header", taxonomy: "decode")
        /// The stream ended in the middle of a frame.
        public static let truncatedFrame = Code("truncated_frame", taxonomy: "decode")
        /// `type` is not one of 0x01…0x15.
        public static let unknownFrameType = Code("unknown_frame_type", taxonomy: "decode")
        /// `channel_id` is above 2^32-1.
        public static let channelIDOutOfRange = Code("channel_id_out_of_range", taxonomy: "decode")
        /// `sequence` is above 2^32-1.
        public static let sequenceOutOfRange = Code("sequence_out_of_range", taxonomy: "decode")
        /// `payload_len` is not equal to the number of body bytes after it.
        public static let payloadLengthMismatch = Code("payload_length_mismatch", taxonomy: "decode")
        /// The payload exceeds the payload limit.
        public static let payloadTooLarge = Code("payload_too_large", taxonomy: "decode")
        /// A JSON-carrying frame's payload exceeds the JSON limit.
        public static let jsonPayloadTooLarge = Code("json_payload_too_large", taxonomy: "decode")
        /// A JSON-carrying frame's payload is not exactly one RFC 8259 JSON value.
        public static let invalidJSON = Code("invalid_json", taxonomy: "decode")

        // MARK: Noise (taxonomy `noise`)

        /// A handshake or transport message exceeds 65535 bytes (Noise §3).
        public static let noiseMessageTooLarge = Code("noise_message_too_large", taxonomy: "noise")
        /// A handshake message is shorter than its pattern requires, or a ciphertext shorter than a tag.
        public static let noiseMessageTooShort = Code("noise_message_too_short", taxonomy: "noise")
        /// AEAD authentication failed.
        public static let noiseDecryptFailed = Code("noise_decrypt_failed", taxonomy: "noise")
        /// The nonce reached 2^64-1, which Noise §5.1 reserves; the cipher state is unusable.
        public static let noiseNonceExhausted = Code("noise_nonce_exhausted", taxonomy: "noise")
        /// A key is not 32 bytes, or X25519 rejected a public key (all-zero shared secret).
        public static let noiseInvalidKey = Code("noise_invalid_key", taxonomy: "noise")
        /// A required key (local static, remote static for the initiator) was not configured.
        public static let noiseMissingKey = Code("noise_missing_key", taxonomy: "noise")
        /// A handshake call arrived in the wrong state (write when a read is due, after completion…).
        public static let noiseUnexpectedCall = Code("noise_unexpected_call", taxonomy: "noise")
    }

    /// The stable error code.
    public var code: Code
    /// Optional human-readable context; never parsed, may change between versions.
    public var detail: String?

    public init(_ code: Code, detail: String? = nil) {
        self.code = code
        self.detail = detail
    }

    /// The SPEC §4.2 taxonomy code for an `Error` frame: `decode` for frame errors, `noise` for
    /// handshake and transport errors.
    public var taxonomyCode: String { self.code.taxonomyCode }

    public var description: String {
        if let detail { "CCPError(\(self.code.rawValue): \(detail))" } else { "CCPError(\(self.code.rawValue))" }
    }
}
