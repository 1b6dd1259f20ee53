import COpenSSL
import NIOCore

/// DTLS 1.2 for one WebRTC transport (RFC 6347, DTLS-SRTP RFC 5764), as a state machine that
/// returns actions: the caller feeds datagrams and clock ticks and performs the returned
/// ``DTLSAction``s in order. No sockets, no threads, no wall-clock reads in the decisions it makes.
///
/// Owns one `SSL_CTX` and one `SSL` (and through it the datagram BIO), freed in `deinit`. Not
/// thread-safe: confine it to its router's event loop. OpenSSL's error queue is empty after every
/// public call.
///
/// ## Timers
/// Call ``tick(now:)`` when `now` reaches ``nextTimeout`` (re-read it after every call). The
/// retransmission schedule is RFC 6347 §4.2.4.1's: ``Configuration/initialRetransmissionTimeout``,
/// doubling up to 60 s. OpenSSL 3.0 keeps its own expiry against the system clock
/// (`gettimeofday`) and offers no way to inject one, so `DTLSv1_handle_timeout` retransmits only
/// once both the injected clock has reached ``nextTimeout`` and that much real time has passed; a
/// tick that comes early re-arms ``nextTimeout`` with OpenSSL's remaining time. The overall
/// ``Configuration/handshakeTimeout`` is judged on the injected clock alone.
public final class DTLSTransport {
    /// Largest datagram OpenSSL may emit: fits a 1280-byte IPv6 path with IP/UDP/TURN headers.
    public static let defaultMTU = 1200

    public struct Configuration: Sendable {
        /// Our DTLS role (see ``DTLSRole``).
        public var role: DTLSRole
        /// Our certificate; its ``DTLSCertificate/fingerprint`` goes into our SDP.
        public var certificate: DTLSCertificate
        /// The peer's `a=fingerprint` values (any of sha-1/256/384/512). The peer's certificate must
        /// match one of them (RFC 5763 §5); an empty list fails every handshake.
        public var remoteFingerprints: [DTLSFingerprint]
        /// `use_srtp` profiles in preference order; as server our order wins (RFC 5764 §4.1.1).
        public var srtpProfiles: [SRTPProfile]
        /// Maximum datagram size (DTLS link MTU; OpenSSL does not probe the path MTU).
        public var mtu: Int
        /// First retransmission timeout (RFC 6347 §4.2.4.1 recommends 1 s).
        public var initialRetransmissionTimeout: TimeAmount
        /// Give up if the handshake has not finished this long after it started.
        public var handshakeTimeout: TimeAmount

        public init(
            role: DTLSRole,
            certificate: DTLSCertificate,
            remoteFingerprints: [DTLSFingerprint],
            srtpProfiles: [SRTPProfile] = [.aeadAES128GCM, .aes128CMHMACSHA1_80],
            mtu: Int = DTLSTransport.defaultMTU,
            initialRetransmissionTimeout: TimeAmount = .seconds(1),
            handshakeTimeout: TimeAmount = .seconds(30)
        ) {
            self.role = role
            self.certificate = certificate
            self.remoteFingerprints = remoteFingerprints
            self.srtpProfiles = srtpProfiles
            self.mtu = mtu
            self.initialRetransmissionTimeout = initialRetransmissionTimeout
            self.handshakeTimeout = handshakeTimeout
        }
    }

    public enum State: Hashable, Sendable {
        /// Created; a client waits for ``DTLSTransport/startHandshake(now:)``, a server for the
        /// first datagram.
        case idle
        case handshaking
        case connected(SRTPProfile)
        case failed(DTLSError)
        case closed
    }

    public private(set) var configuration: Configuration
    public private(set) var state: State = .idle
    /// When to call ``tick(now:)`` next, on the injected clock; `nil` when no timer is running.
    public private(set) var nextTimeout: NIODeadline?

    private let context: OpaquePointer
    private let ssl: OpaquePointer
    private let bioContext: DTLSBIOContext
    private var handshakeDeadline: NIODeadline?
    private var readScratch = [UInt8](repeating: 0, count: 2048)

    /// Cipher suites: ECDHE only (forward secrecy), AEAD first; RSA variants accept peers with RSA
    /// certificates.
    private static let cipherList =
        "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:"
        + "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:"
        + "ECDHE-ECDSA-AES128-SHA:ECDHE-RSA-AES128-SHA:ECDHE-ECDSA-AES256-SHA:ECDHE-RSA-AES256-SHA"
    private static let groups = "X25519:P-256:P-384"
    private static let exporterLabel = "EXTRACTOR-dtls_srtp"

    public init(configuration: Configuration) throws(DTLSError) {
        defer { ERR_clear_error() }
        guard !configuration.srtpProfiles.isEmpty, configuration.mtu >= 256, configuration.mtu <= 65_507,
            configuration.initialRetransmissionTimeout > .zero
        else { throw DTLSError(code: .contextSetup, detail: "invalid configuration") }
        guard let method = DTLSDatagramBIOMethod.shared.method, let context = SSL_CTX_new(DTLS_method()) else {
            throw DTLSError(code: .contextSetup, detail: OpenSSLSupport.drainErrors())
        }
        let profiles = configuration.srtpProfiles.map(\.openSSLName).joined(separator: ":")
        let certificate = configuration.certificate
        let contextReady = commucat_SSL_CTX_set_min_proto_version(context, DTLS1_2_VERSION) == 1
            && commucat_SSL_CTX_set_max_proto_version(context, DTLS1_2_VERSION) == 1
            && SSL_CTX_use_certificate(context, certificate.certificate) == 1
            && SSL_CTX_use_PrivateKey(context, certificate.privateKey) == 1
            && SSL_CTX_check_private_key(context) == 1
            && SSL_CTX_set_cipher_list(context, Self.cipherList) == 1
            && commucat_SSL_CTX_set1_groups_list(context, Self.groups) == 1
            // Unlike the rest of OpenSSL, this returns 0 on success.
            && SSL_CTX_set_tlsext_use_srtp(context, profiles) == 0
        guard contextReady else {
            SSL_CTX_free(context)
            throw DTLSError(code: .contextSetup, detail: OpenSSLSupport.drainErrors())
        }
        SSL_CTX_set_options(context, commucat_SSL_OP_NO_QUERY_MTU() | commucat_SSL_OP_NO_TICKET())
        // RFC 5763 §5: both sides present certificates; the server asks for the client's.
        SSL_CTX_set_verify(context, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, verifyPeerCertificate)

        let micros = configuration.initialRetransmissionTimeout.nanoseconds / 1000
        let bioContext = DTLSBIOContext(
            remoteFingerprints: configuration.remoteFingerprints,
            initialTimeoutMicroseconds: UInt32(clamping: max(micros, 1))
        )
        guard let ssl = SSL_new(context) else {
            SSL_CTX_free(context)
            throw DTLSError(code: .contextSetup, detail: OpenSSLSupport.drainErrors())
        }
        guard let bio = BIO_new(method) else {
            SSL_free(ssl)
            SSL_CTX_free(context)
            throw DTLSError(code: .contextSetup, detail: OpenSSLSupport.drainErrors())
        }
        BIO_set_data(bio, Unmanaged.passUnretained(bioContext).toOpaque())
        // One BIO for both directions: SSL_set_bio takes a single reference, SSL_free releases it.
        SSL_set_bio(ssl, bio, bio)
        SSL_set_options(ssl, commucat_SSL_OP_NO_QUERY_MTU())
        guard commucat_DTLS_set_link_mtu(ssl, configuration.mtu) == 1 else {
            SSL_free(ssl)
            SSL_CTX_free(context)
            throw DTLSError(code: .contextSetup, detail: OpenSSLSupport.drainErrors() ?? "link MTU rejected")
        }
        DTLS_set_timer_cb(ssl, retransmissionTimeout)
        switch configuration.role {
        case .client: SSL_set_connect_state(ssl)
        case .server: SSL_set_accept_state(ssl)
        }
        self.configuration = configuration
        self.context = context
        self.ssl = ssl
        self.bioContext = bioContext
    }

    deinit {
        SSL_free(ssl)  // frees the BIO, whose data points at bioContext (still alive here)
        SSL_CTX_free(context)
    }

    /// Sets the peer's fingerprints when they arrive after the transport was made: when the SFU
    /// offers (`a=setup:actpass`) it learns them from the answer (RFC 8842 §5.3). Until then every
    /// handshake fails verification, so media never flows to an unverified peer.
    public func setRemoteFingerprints(_ fingerprints: [DTLSFingerprint]) {
        configuration.remoteFingerprints = fingerprints
        bioContext.remoteFingerprints = fingerprints
    }

    /// Starts the handshake. A client sends its ClientHello; a server only starts its deadline and
    /// waits. Calling it again, or after the handshake, does nothing.
    public func startHandshake(now: NIODeadline) -> [DTLSAction] {
        defer { ERR_clear_error() }
        guard case .idle = state else { return [] }
        begin(now: now)
        let actions = configuration.role == .client ? advanceHandshake() : []
        updateTimer(now: now)
        return actions
    }

    /// Feeds one datagram the RFC 7983 demux classified as DTLS (first byte 20...63). Garbage is
    /// dropped by OpenSSL (RFC 6347 §4.1.2.7) or fails the handshake; it never traps.
    public func receive(datagram: ByteBuffer, now: NIODeadline) -> [DTLSAction] {
        defer { ERR_clear_error() }
        switch state {
        case .idle:
            guard configuration.role == .server else { return [] }
            begin(now: now)
        case .handshaking, .connected:
            break
        case .failed, .closed:
            return []
        }
        bioContext.inbound = datagram
        let actions: [DTLSAction]
        if case .handshaking = state {
            actions = advanceHandshake()
        } else {
            actions = readAfterHandshake()
        }
        bioContext.inbound = nil
        updateTimer(now: now)
        return actions
    }

    /// Drives retransmission (RFC 6347 §4.2.4) and the handshake deadline.
    public func tick(now: NIODeadline) -> [DTLSAction] {
        defer { ERR_clear_error() }
        switch state {
        case .handshaking:
            if let handshakeDeadline, now >= handshakeDeadline {
                return takeOutbound() + [fail(DTLSError(code: .handshakeTimeout, detail: "handshake deadline passed"))]
            }
        case .connected:
            break
        case .idle, .failed, .closed:
            return []
        }
        guard let nextTimeout, now >= nextTimeout else { return [] }
        let result = commucat_DTLSv1_handle_timeout(ssl)
        var actions = takeOutbound()
        if result < 0 {
            actions.append(fail(DTLSError(code: .handshakeTimeout, detail: OpenSSLSupport.drainErrors())))
        }
        updateTimer(now: now)
        return actions
    }

    /// Sends close_notify (RFC 5246 §7.2.1) if connected and stops the transport. The returned
    /// actions contain only `send`; `closed` is reserved for the peer's close_notify.
    public func close() -> [DTLSAction] {
        defer { ERR_clear_error() }
        var actions: [DTLSAction] = []
        if case .connected = state {
            _ = SSL_shutdown(ssl)
            actions = takeOutbound()
        }
        switch state {
        case .failed: break
        default: state = .closed
        }
        nextTimeout = nil
        return actions
    }

    // MARK: - Internals

    private func begin(now: NIODeadline) {
        state = .handshaking
        handshakeDeadline = now + configuration.handshakeTimeout
    }

    private func advanceHandshake() -> [DTLSAction] {
        let result = SSL_do_handshake(ssl)
        var actions = takeOutbound()
        if result == 1 {
            actions.append(completeHandshake())
            // Records that arrived with the final flight (none in practice) stay for the next read.
            return actions
        }
        let error = SSL_get_error(ssl, result)
        if error == SSL_ERROR_WANT_READ || error == SSL_ERROR_WANT_WRITE { return actions }
        let detail = OpenSSLSupport.drainErrors()
        if bioContext.peerFingerprintMismatch {
            actions.append(fail(DTLSError(code: .fingerprintMismatch, detail: detail)))
        } else {
            actions.append(fail(DTLSError(code: .handshakeFailed, detail: detail)))
        }
        return actions
    }

    private func completeHandshake() -> DTLSAction {
        // Check the fingerprint again on the finished connection, independent of the callback.
        guard let peer = SSL_get1_peer_certificate(ssl) else {
            return fail(DTLSError(code: .missingPeerCertificate))
        }
        let matches = configuration.remoteFingerprints.contains { expected in
            OpenSSLSupport.fingerprint(of: peer, algorithm: expected.algorithm)?.matches(expected) ?? false
        }
        X509_free(peer)
        guard matches else { return fail(DTLSError(code: .fingerprintMismatch)) }
        guard let selected = SSL_get_selected_srtp_profile(ssl),
            let profile = SRTPProfile(id: UInt16(truncatingIfNeeded: selected.pointee.id)),
            configuration.srtpProfiles.contains(profile)
        else { return fail(DTLSError(code: .noSRTPProfile)) }
        var exported = [UInt8](repeating: 0, count: profile.keyingMaterialLength)
        let label = Self.exporterLabel
        let status = SSL_export_keying_material(ssl, &exported, exported.count, label, label.utf8.count, nil, 0, 0)
        guard status == 1,
            let material = SRTPKeyingMaterial(exported: exported, profile: profile, isClient: configuration.role == .client)
        else { return fail(DTLSError(code: .keyingMaterialExport, detail: OpenSSLSupport.drainErrors())) }
        for index in exported.indices { exported[index] = 0 }
        state = .connected(profile)
        handshakeDeadline = nil
        return .connected(material, profile)
    }

    /// After the handshake: lets OpenSSL retransmit its last flight when the peer repeats its own
    /// (RFC 6347 §4.2.4), notices close_notify and alerts, and discards application data (CommuCat
    /// has no data channels).
    private func readAfterHandshake() -> [DTLSAction] {
        var actions: [DTLSAction] = []
        for _ in 0..<4 {
            let count = readScratch.withUnsafeMutableBytes { SSL_read(ssl, $0.baseAddress, Int32($0.count)) }
            if count > 0 { continue }
            let error = SSL_get_error(ssl, count)
            actions += takeOutbound()
            if error == SSL_ERROR_WANT_READ || error == SSL_ERROR_WANT_WRITE { break }
            if error == SSL_ERROR_ZERO_RETURN || SSL_get_shutdown(ssl) & SSL_RECEIVED_SHUTDOWN != 0 {
                state = .closed
                nextTimeout = nil
                actions.append(.closed)
            } else {
                actions.append(fail(DTLSError(code: .protocolError, detail: OpenSSLSupport.drainErrors())))
            }
            break
        }
        return actions + takeOutbound()
    }

    private func fail(_ error: DTLSError) -> DTLSAction {
        state = .failed(error)
        nextTimeout = nil
        handshakeDeadline = nil
        ERR_clear_error()
        return .failed(error)
    }

    private func takeOutbound() -> [DTLSAction] {
        guard !bioContext.outbound.isEmpty else { return [] }
        let datagrams = bioContext.outbound
        bioContext.outbound.removeAll(keepingCapacity: true)
        return datagrams.map { .send($0) }
    }

    private func updateTimer(now: NIODeadline) {
        switch state {
        case .handshaking, .connected:
            var left = timeval()
            if commucat_DTLSv1_get_timeout(ssl, &left) == 1 {
                let micros = Int64(left.tv_sec) * 1_000_000 + Int64(left.tv_usec)
                nextTimeout = now + .microseconds(micros)
            } else {
                nextTimeout = nil
            }
            if case .handshaking = state, let handshakeDeadline {
                nextTimeout = min(nextTimeout ?? handshakeDeadline, handshakeDeadline)
            }
        case .idle, .failed, .closed:
            nextTimeout = nil
        }
    }
}

/// `SSL_CTX_set_verify` callback. WebRTC certificates are self-signed, so chain validation is
/// ignored; the leaf certificate is accepted exactly when it matches an SDP fingerprint
/// (RFC 5763 §5, RFC 8122 §5).
private func verifyPeerCertificate(_ preverified: Int32, _ store: OpaquePointer?) -> Int32 {
    guard let store else { return 0 }
    guard X509_STORE_CTX_get_error_depth(store) == 0 else { return 1 }
    guard let sslPointer = X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx()),
        let context = DTLSBIOContext.from(ssl: OpaquePointer(sslPointer)),
        let certificate = X509_STORE_CTX_get_current_cert(store)
    else { return 0 }
    for expected in context.remoteFingerprints {
        if let actual = OpenSSLSupport.fingerprint(of: certificate, algorithm: expected.algorithm),
            actual.matches(expected)
        {
            context.peerFingerprintVerified = true
            X509_STORE_CTX_set_error(store, X509_V_OK)
            return 1
        }
    }
    context.peerFingerprintMismatch = true
    return 0
}

/// `DTLS_set_timer_cb` callback: RFC 6347 §4.2.4.1 schedule, initial value from the configuration,
/// doubling on each expiry, at most 60 s.
private func retransmissionTimeout(_ ssl: OpaquePointer?, _ previousMicroseconds: UInt32) -> UInt32 {
    let initial = DTLSBIOContext.from(ssl: ssl)?.initialTimeoutMicroseconds ?? 1_000_000
    guard previousMicroseconds > 0 else { return initial }
    let doubled = previousMicroseconds.multipliedReportingOverflow(by: 2)
    return doubled.overflow ? DTLSBIOContext.maximumTimeoutMicroseconds
        : min(doubled.partialValue, DTLSBIOContext.maximumTimeoutMicroseconds)
}
