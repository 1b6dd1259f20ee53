/// The error of the media core's control-plane calls (worker start, transports, produce, consume).
/// Per-packet problems are never errors: they are drops, counted by reason (``SFUDropReason``).
///
/// Shaped like postgres-nio's `PSQLError`: a stable ``Code`` plus a short detail.
public struct SFUError: Error, Hashable, Sendable, CustomStringConvertible {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: String, Sendable {
            case bind_failed, closed, ice, dtls, invalid_parameters, unsupported_codec
            case no_compatible_codec, duplicate_ssrc, producer_not_found, wrong_router, limit_exceeded
        }

        private let base: Base
        private init(_ base: Base) { self.base = base }

        /// The code as a string, e.g. `"no_compatible_codec"`; stable across releases.
        public var description: String { base.rawValue }

        /// The UDP media port could not be bound.
        public static let bindFailed = Code(.bind_failed)
        /// The worker, router, transport or producer is closed.
        public static let closed = Code(.closed)
        /// ICE rejected the credentials (see the detail).
        public static let ice = Code(.ice)
        /// DTLS could not be set up (see the detail).
        public static let dtls = Code(.dtls)
        /// Parameters are inconsistent (no codec, bad payload type, …).
        public static let invalidParameters = Code(.invalid_parameters)
        /// A producer codec the SFU cannot forward.
        public static let unsupportedCodec = Code(.unsupported_codec)
        /// The subscriber negotiated no codec compatible with the producer's.
        public static let noCompatibleCodec = Code(.no_compatible_codec)
        /// An SSRC is already used by another producer of the transport.
        public static let duplicateSSRC = Code(.duplicate_ssrc)
        /// The producer is unknown or closed.
        public static let producerNotFound = Code(.producer_not_found)
        /// The producer belongs to another router.
        public static let wrongRouter = Code(.wrong_router)
        /// A resource limit of the worker is reached (the retransmission memory budget).
        public static let limitExceeded = Code(.limit_exceeded)
    }

    public var code: Code
    public var detail: String

    public init(_ code: Code, detail: String = "") {
        self.code = code
        self.detail = detail
    }

    public var description: String { detail.isEmpty ? "SFUError(\(code))" : "SFUError(\(code): \(detail))" }
}

/// Why the forwarding path dropped a packet, as a metric label
/// (`commucat_sfu_dropped_packets_total{reason}`).
public enum SFUDropReason: String, Sendable, CaseIterable {
    /// RTP/RTCP before the DTLS handshake finished.
    case notConnected = "not_connected"
    /// SRTP/SRTCP refused (counted by libsrtp reason in `commucat_sfu_srtp_failures_total`).
    case srtp
    /// RTP header malformed after decryption.
    case malformedRTP = "malformed_rtp"
    /// RTCP compound malformed after decryption.
    case malformedRTCP = "malformed_rtcp"
    /// SSRC of no producer of the transport.
    case unknownSSRC = "unknown_ssrc"
    /// Payload type of no producer codec.
    case unknownPayloadType = "unknown_payload_type"
    /// Too old for the stream (before a source switch, or a late duplicate).
    case stale
    /// Not a DTLS/RTP/RTCP packet, or DTLS after the transport closed.
    case unexpected
}
