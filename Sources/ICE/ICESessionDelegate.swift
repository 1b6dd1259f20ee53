import NIOCore
import SFUWire

/// What a session's owner (SFUCore's WebRTC transport) hears from the shared UDP port. Every call
/// happens on the channel's event loop, outside any table mutation, so a delegate may call back
/// into the handler (write, remove its session).
public protocol ICESessionDelegate: AnyObject, SendableMetatype {
    /// A DTLS, RTP or RTCP packet (RFC 7983 §7) from a transport address this session validated.
    /// `packet` is a slice of a pooled receive buffer: copy it if kept beyond the read batch.
    func iceSession(_ session: ICESessionHandle, didReceive packet: ByteBuffer, kind: PacketClass, from source: SocketAddress)
    /// The peer nominated a pair (or the agent fell back to another): send media to `remote`.
    func iceSession(_ session: ICESessionHandle, didSelectPair remote: SocketAddress)
    /// Consent freshness was lost (RFC 7675 §5.1): stop sending and close the session.
    func iceSessionConsentExpired(_ session: ICESessionHandle)
    /// The session failed (e.g. nothing nominated in time).
    func iceSession(_ session: ICESessionHandle, didFail reason: ICEFailureReason)
}
