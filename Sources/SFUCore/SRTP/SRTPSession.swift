import CSRTP
import NIOCore

/// libsrtp2 wants `srtp_init` exactly once per process before any session exists. A Swift global
/// is initialised lazily and exactly once (swift_once), which is what this needs.
private let srtpLibraryStatus: UInt32 = srtp_init().rawValue

/// SRTP/SRTCP protection for one WebRTC transport (RFC 3711, RFC 7714 for AES-GCM), over libsrtp2.
///
/// Owns one outbound `srtp_t` (policy `ssrc_any_outbound`, keyed with the local master key) and one
/// inbound `srtp_t` (policy `ssrc_any_inbound`, keyed with the remote master key); both are freed in
/// `deinit`. Replay protection is on for both directions (RFC 3711 §3.3.2) with a window of
/// ``defaultReplayWindowSize`` packets; `allow_repeat_tx` lets the SFU re-protect a retransmitted
/// packet with the same sequence number (NACK answered without RTX).
///
/// Not thread-safe: confine a session to its transport's event loop, like the transport itself.
///
/// ## Buffers and trailer room
/// Every call transforms the readable bytes of the caller's `ByteBuffer` in place. Protecting grows
/// the packet by the authentication tag (and SRTCP index), at most ``maximumTrailerLength`` bytes, so
/// callers building outbound packets reserve it up front, e.g.
/// `allocator.buffer(capacity: packetLength + SRTPSession.maximumTrailerLength)` or
/// `buffer.reserveCapacity(minimumWritableBytes: SRTPSession.maximumTrailerLength)`. With that room
/// present and the buffer uniquely referenced nothing is allocated; otherwise `ByteBuffer` grows or
/// copies once (copy-on-write), which is correct but not free. Unprotecting only shrinks.
public final class SRTPSession {
    /// Most bytes `protect`/`protectRTCP` add to a packet (`SRTP_MAX_TRAILER_LEN`: 16-byte tag +
    /// 128-byte MKI; CommuCat uses no MKI, so the real growth is 10–20 bytes).
    public static let maximumTrailerLength = Int(SRTP_MAX_TAG_LEN) + Int(SRTP_MAX_MKI_LEN)

    /// Replay window in packets (RFC 3711 §3.3.2 asks for at least 64; browsers reorder more).
    public static let defaultReplayWindowSize = 1024

    /// The profile both directions use.
    public let profile: SRTPProfile

    private let outbound: OpaquePointer
    private let inbound: OpaquePointer

    /// Creates the two directions from DTLS-exported keying material.
    public convenience init(
        keyingMaterial: SRTPKeyingMaterial,
        replayWindowSize: Int = SRTPSession.defaultReplayWindowSize
    ) throws(SRTPError) {
        try self.init(
            profile: keyingMaterial.profile,
            localMasterKey: keyingMaterial.localMasterKey,
            localMasterSalt: keyingMaterial.localMasterSalt,
            remoteMasterKey: keyingMaterial.remoteMasterKey,
            remoteMasterSalt: keyingMaterial.remoteMasterSalt,
            replayWindowSize: replayWindowSize
        )
    }

    /// Creates the two directions from explicit master keys and salts (lengths per `profile`).
    /// `replayWindowSize` must be within 64...32768 (libsrtp's limits).
    public init(
        profile: SRTPProfile,
        localMasterKey: [UInt8],
        localMasterSalt: [UInt8],
        remoteMasterKey: [UInt8],
        remoteMasterSalt: [UInt8],
        replayWindowSize: Int = SRTPSession.defaultReplayWindowSize
    ) throws(SRTPError) {
        guard srtpLibraryStatus == 0 else { throw SRTPError(code: .initFail, status: srtpLibraryStatus) }
        guard localMasterKey.count == profile.keyLength, remoteMasterKey.count == profile.keyLength,
            localMasterSalt.count == profile.saltLength, remoteMasterSalt.count == profile.saltLength,
            (64...0x8000).contains(replayWindowSize)
        else { throw SRTPError(code: .badParam) }
        let outbound = try Self.makeContext(
            profile: profile, key: localMasterKey + localMasterSalt, type: ssrc_any_outbound,
            window: replayWindowSize)
        do {
            self.inbound = try Self.makeContext(
                profile: profile, key: remoteMasterKey + remoteMasterSalt, type: ssrc_any_inbound,
                window: replayWindowSize)
        } catch {
            srtp_dealloc(outbound)
            throw error
        }
        self.outbound = outbound
        self.profile = profile
    }

    deinit {
        srtp_dealloc(outbound)
        srtp_dealloc(inbound)
    }

    /// Encrypts and authenticates the RTP packet in `rtp`'s readable bytes (RFC 3711 §3.3,
    /// RFC 7714 §8); on return the readable bytes are the SRTP packet.
    public func protect(rtp: inout ByteBuffer) throws(SRTPError) {
        try Self.validateRTPHeader(rtp)
        try transform(&rtp, context: outbound, growth: Self.maximumTrailerLength) { srtp_protect($0, $1, $2) }
    }

    /// Authenticates, replay-checks and decrypts the SRTP packet in `srtp`'s readable bytes; on
    /// return the readable bytes are the RTP packet. On error the readable length is unchanged but
    /// the bytes may not be (libsrtp's AES-GCM decrypts before it rejects): drop the packet.
    public func unprotect(srtp: inout ByteBuffer) throws(SRTPError) {
        try Self.validateRTPHeader(srtp)
        try transform(&srtp, context: inbound, growth: 0) { srtp_unprotect($0, $1, $2) }
    }

    /// Protects the compound RTCP packet in `rtcp` (RFC 3711 §3.4): encrypts, appends E-flag/index
    /// and tag.
    public func protectRTCP(rtcp: inout ByteBuffer) throws(SRTPError) {
        try Self.validateRTCPHeader(rtcp)
        try transform(&rtcp, context: outbound, growth: Self.maximumTrailerLength) { srtp_protect_rtcp($0, $1, $2) }
    }

    /// Authenticates, replay-checks and decrypts the SRTCP packet in `srtcp`.
    public func unprotectRTCP(srtcp: inout ByteBuffer) throws(SRTPError) {
        try Self.validateRTCPHeader(srtcp)
        try transform(&srtcp, context: inbound, growth: 0) { srtp_unprotect_rtcp($0, $1, $2) }
    }

    // MARK: - Internals

    private func transform(
        _ buffer: inout ByteBuffer,
        context: OpaquePointer,
        growth: Int,
        _ operation: (OpaquePointer, UnsafeMutableRawPointer, UnsafeMutablePointer<Int32>) -> srtp_err_status_t
    ) throws(SRTPError) {
        let length = buffer.readableBytes
        guard length < Int(Int32.max) - growth else { throw SRTPError(code: .badParam) }
        if growth > 0 && buffer.writableBytes < growth {
            buffer.reserveCapacity(minimumWritableBytes: growth)
        }
        let reader = buffer.readerIndex
        var newLength = Int32(length)
        let status = buffer.withVeryUnsafeMutableBytes { storage -> UInt32 in
            guard let base = storage.baseAddress else { return srtp_err_status_bad_param.rawValue }
            return operation(context, base + reader, &newLength).rawValue
        }
        guard status == 0 else { throw SRTPError(status: status) }
        buffer.moveWriterIndex(to: reader + Int(newLength))
    }

    /// RFC 3550 §5.1: version 2, 12-byte fixed header, CSRC list and (if X) the extension header
    /// and its words all inside the packet. libsrtp trusts these lengths.
    private static func validateRTPHeader(_ buffer: ByteBuffer) throws(SRTPError) {
        let start = buffer.readerIndex
        guard buffer.readableBytes >= 12, let first = buffer.getInteger(at: start, as: UInt8.self),
            first >> 6 == 2
        else { throw SRTPError(code: .invalidPacket) }
        var headerLength = 12 + 4 * Int(first & 0x0F)
        if first & 0x10 != 0 {
            guard let words = buffer.getInteger(at: start + headerLength + 2, as: UInt16.self) else {
                throw SRTPError(code: .invalidPacket)
            }
            headerLength += 4 + 4 * Int(words)
        }
        guard headerLength <= buffer.readableBytes else { throw SRTPError(code: .invalidPacket) }
    }

    /// RFC 3550 §6.4: version 2 and at least the 8-byte common header plus sender SSRC.
    private static func validateRTCPHeader(_ buffer: ByteBuffer) throws(SRTPError) {
        guard buffer.readableBytes >= 8, let first = buffer.getInteger(at: buffer.readerIndex, as: UInt8.self),
            first >> 6 == 2
        else { throw SRTPError(code: .invalidPacket) }
    }

    private static func makeContext(
        profile: SRTPProfile,
        key: [UInt8],
        type: srtp_ssrc_type_t,
        window: Int
    ) throws(SRTPError) -> OpaquePointer {
        var policy = srtp_policy_t()
        switch profile {
        case .aeadAES128GCM:
            srtp_crypto_policy_set_aes_gcm_128_16_auth(&policy.rtp)
            srtp_crypto_policy_set_aes_gcm_128_16_auth(&policy.rtcp)
        case .aes128CMHMACSHA1_80:
            srtp_crypto_policy_set_rtp_default(&policy.rtp)
            srtp_crypto_policy_set_rtcp_default(&policy.rtcp)
        }
        policy.ssrc.type = type
        policy.window_size = UInt(window)
        policy.allow_repeat_tx = 1
        policy.next = nil
        var session: OpaquePointer?
        var keyBytes = key
        let status = keyBytes.withUnsafeMutableBufferPointer { keyPointer -> UInt32 in
            policy.key = keyPointer.baseAddress
            return srtp_create(&session, &policy).rawValue
        }
        // libsrtp copied the key into its own context; scrub our copy.
        for index in keyBytes.indices { keyBytes[index] = 0 }
        guard status == 0, let session else { throw SRTPError(status: status == 0 ? 5 : status) }
        return session
    }
}
