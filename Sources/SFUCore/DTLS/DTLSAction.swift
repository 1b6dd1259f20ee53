import NIOCore

/// Which side of the DTLS handshake this endpoint plays (RFC 5763 §5, RFC 8842 §5.1): our own
/// `a=setup:passive` makes us the DTLS `.server`, `a=setup:active` the `.client`. An SFU answering an
/// `actpass` offer usually answers `passive`.
public enum DTLSRole: Hashable, Sendable {
    case client
    case server
}

/// What the owner of a ``DTLSTransport`` must do after an event, in order.
public enum DTLSAction: Hashable, Sendable {
    /// Send this datagram to the peer over the selected ICE pair.
    case send(ByteBuffer)
    /// The handshake finished, the peer's certificate matched its SDP fingerprint, and SRTP keys
    /// were exported (RFC 5764 §4.2). Create an ``SRTPSession`` from the material.
    case connected(SRTPKeyingMaterial, SRTPProfile)
    /// The transport failed and will ignore further input; tear the WebRTC transport down.
    case failed(DTLSError)
    /// The peer sent close_notify (RFC 5246 §7.2.1); the transport ignores further input.
    case closed
}
