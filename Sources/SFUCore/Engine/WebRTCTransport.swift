import ICE
import NIOCore
import SFUWire

/// What Signalling puts into its SDP answer for a transport (ICE-lite, one BUNDLE group).
public struct WebRTCTransportInfo: Hashable, Sendable {
    /// Our `a=ice-ufrag` / `a=ice-pwd`.
    public var localICE: ICECredentials
    /// Our host candidates (`a=candidate`), all on the worker's one UDP port.
    public var candidates: [SDPCandidate]
    /// Our `a=fingerprint` (sha-256 of the worker's certificate).
    public var fingerprint: DTLSFingerprint
    /// Our DTLS role: `.server` ⇒ `a=setup:passive`, `.client` ⇒ `a=setup:active`.
    public var dtlsRole: DTLSRole
    /// Always `true`: the SFU is an ICE-lite agent (`a=ice-lite`).
    public var iceLite: Bool
}

/// One peer's WebRTC transport (mediasoup's `WebRTCTransport`): the ICE session on the worker's
/// shared port (as its ``ICESessionDelegate``), DTLS (handshake and retransmission timers on the
/// loop), SRTP, and the demultiplexing of RTP/RTCP to its producers and consumers.
///
/// Confined to its router's event loop. The public API is `async` and hops there.
public final class WebRTCTransport: ICESessionDelegate, @unchecked Sendable {
    public enum State: Hashable, Sendable {
        /// Waiting for ICE (a nominated pair) and then DTLS.
        case new
        /// DTLS is handshaking.
        case connecting
        /// SRTP keys are in place: media flows.
        case connected
        /// Closed by the API, by the peer (close_notify), or by ICE consent loss.
        case closed
        /// ICE or DTLS failed; `reason` is a stable code.
        case failed(reason: String)
    }

    /// Where an incoming SSRC goes.
    struct IncomingRoute {
        let producer: Producer
        let streamIndex: Int
        let isRTX: Bool
    }

    public let id: UInt64
    /// What the SDP announces. The ICE credentials change on ``restartICE()``; read it on the loop
    /// or through ``currentInfo()``.
    public private(set) var info: WebRTCTransportInfo
    /// Strong on purpose: the router keeps its transports until they close (which breaks the cycle),
    /// and a transport kept by the control plane must never outlive its router's memory.
    let router: Router
    let worker: MediaWorker
    let dtls: DTLSTransport
    /// The SSRC our RTCP (receiver reports, PLI, FIR) is sent from.
    let rtcpSSRC: UInt32
    let allocator = ByteBufferAllocator()
    // Loop-confined state.
    private(set) var state: State = .new
    private var session: ICESessionHandle?
    private(set) var remote: SocketAddress?
    private(set) var srtp: SRTPSession?
    private var dtlsTimer: Scheduled<Void>?
    private(set) var producers: [UInt64: Producer] = [:]
    private(set) var consumers: [UInt64: Consumer] = [:]
    private var routes: [UInt32: IncomingRoute] = [:]
    private var consumersBySSRC: [UInt32: Consumer] = [:]
    /// Transport-wide sequence numbers of our outgoing packets (transport-cc extension rewrite).
    var transportSequence: UInt16 = 0
    /// The publisher's transport-cc extension id (0: none) and the arrivals fed back to it.
    private(set) var transportCCID: UInt8 = 0
    var transportCC: TransportCCRecorder?
    /// Tests and the benchmark: datagrams go here instead of the socket.
    var outputTap: ((ByteBuffer) -> Void)?
    /// DTLS datagrams that arrived before the peer's fingerprints (see `iceSession(_:didReceive:…)`).
    private var heldDTLS: [ByteBuffer] = []
    /// Called once, on the loop, when the transport closes or fails (see ``onClose(_:)``).
    private var closeHandlers: [@Sendable (State) -> Void] = []

    init(
        router: Router, remoteICE: ICECredentials?, remoteFingerprints: [DTLSFingerprint], dtlsRole: DTLSRole
    ) throws(SFUError) {
        let worker = router.worker
        var generator = SystemRandomNumberGenerator()
        self.id = generator.next()
        self.rtcpSSRC = UInt32.random(in: 1...UInt32.max, using: &generator)
        self.router = router
        self.worker = worker
        do {
            self.dtls = try DTLSTransport(configuration: .init(
                role: dtlsRole, certificate: worker.certificate, remoteFingerprints: remoteFingerprints,
                initialRetransmissionTimeout: worker.configuration.dtlsInitialRetransmissionTimeout,
                handshakeTimeout: worker.configuration.dtlsHandshakeTimeout))
        } catch {
            throw SFUError(.dtls, detail: "\(error)")
        }
        let local = ICECredentials.random(using: &generator)
        self.info = WebRTCTransportInfo(
            localICE: local, candidates: worker.localCandidates, fingerprint: worker.certificate.fingerprint,
            dtlsRole: dtlsRole, iceLite: true)
        do {
            session = try worker.server.handler.value.register(local: local, remote: remoteICE, delegate: self)
        } catch {
            throw SFUError(.ice, detail: "\(error)")
        }
        worker.metrics.activeTransports.increment()
    }

    /// For tests and the in-process benchmark: a transport with no ICE session whose SRTP keys
    /// are given and whose datagrams go to `tap`.
    init(detachedFrom router: Router, keyingMaterial: SRTPKeyingMaterial, tap: @escaping (ByteBuffer) -> Void) throws {
        var generator = SystemRandomNumberGenerator()
        self.id = generator.next()
        self.rtcpSSRC = UInt32.random(in: 1...UInt32.max, using: &generator)
        self.router = router
        self.worker = router.worker
        self.dtls = try DTLSTransport(configuration: .init(
            role: .server, certificate: router.worker.certificate, remoteFingerprints: []))
        self.info = WebRTCTransportInfo(
            localICE: ICECredentials.random(using: &generator), candidates: [],
            fingerprint: router.worker.certificate.fingerprint, dtlsRole: .server, iceLite: true)
        self.srtp = try SRTPSession(keyingMaterial: keyingMaterial)
        self.outputTap = tap
        self.state = .connected
        worker.metrics.activeTransports.increment()
    }

    // MARK: Public API

    /// The transport's state now.
    public func currentState() async -> State {
        await worker.eventLoop.runOnLoop { () -> State in self.state } ?? .closed
    }

    /// ``info`` as of now (its ICE credentials change on ``restartICE()``).
    public func currentInfo() async -> WebRTCTransportInfo {
        await worker.eventLoop.runOnLoop { () -> WebRTCTransportInfo in self.info } ?? info
    }

    /// ICE restart (RFC 8445 §9): new local credentials, answered from now on; the selected pair,
    /// DTLS and SRTP stay. The peer's new credentials follow with ``setRemoteICE(_:)``.
    @discardableResult
    public func restartICE() async throws(SFUError) -> WebRTCTransportInfo {
        try await worker.eventLoop.runOnLoop { () throws(SFUError) -> WebRTCTransportInfo in
            guard let session = self.session, self.isOpen else { throw SFUError(.closed, detail: "transport") }
            var generator = SystemRandomNumberGenerator()
            let local = ICECredentials.random(using: &generator)
            do {
                try self.worker.server.handler.value.restart(local: local, for: session)
            } catch {
                throw SFUError(.ice, detail: "\(error)")
            }
            self.info.localICE = local
            return self.info
        }
    }

    /// Sets the peer's ICE credentials once its SDP arrived.
    public func setRemoteICE(_ credentials: ICECredentials) async throws(SFUError) {
        try await worker.eventLoop.runOnLoop { () throws(SFUError) in
            guard let session = self.session, self.isOpen else { throw SFUError(.closed, detail: "transport") }
            do {
                try self.worker.server.handler.value.setRemoteCredentials(credentials, for: session)
            } catch {
                throw SFUError(.ice, detail: "\(error)")
            }
        }
    }

    /// Sets the peer's fingerprints once its answer arrived (the SFU offered; see
    /// ``DTLSTransport/setRemoteFingerprints(_:)``).
    public func setRemoteFingerprints(_ fingerprints: [DTLSFingerprint]) async throws(SFUError) {
        try await worker.eventLoop.runOnLoop { () throws(SFUError) in
            guard self.isOpen else { throw SFUError(.closed, detail: "transport") }
            self.dtls.setRemoteFingerprints(fingerprints)
            let held = self.heldDTLS
            self.heldDTLS = []
            for datagram in held where !fingerprints.isEmpty {
                self.perform(self.dtls.receive(datagram: datagram, now: .now()))
                if case .idle = self.dtls.state {} else if self.state == .new { self.state = .connecting }
            }
        }
    }

    /// Starts receiving a publisher's track. See `RTPParameters.swift` for what the parameters mean.
    public func produce(kind: MediaKind, parameters: RTPParameters) async throws(SFUError) -> Producer {
        try await worker.eventLoop.runOnLoop { () throws(SFUError) -> Producer in
            try self.produceOnLoop(kind: kind, parameters: parameters)
        }
    }

    /// Starts sending `producer`'s track to this transport's peer with the peer's codecs (payload
    /// types) and header extensions. A video consumer starts at the next keyframe and asks the
    /// publisher for one (PLI).
    public func consume(
        producer: Producer, codecs: [RTPCodecParameters], headerExtensions: [RTPHeaderExtensionParameters] = [],
        paused: Bool = false
    ) async throws(SFUError) -> Consumer {
        try await worker.eventLoop.runOnLoop { () throws(SFUError) -> Consumer in
            try self.consumeOnLoop(producer: producer, codecs: codecs, headerExtensions: headerExtensions, paused: paused)
        }
    }

    /// Calls `handler` once when the transport ends: closed by the API, by the peer (DTLS
    /// close_notify), by ICE consent loss, or failed. Called at once when it already ended. The
    /// control plane uses it to forget sessions the media plane ended on its own.
    public func onClose(_ handler: @escaping @Sendable (State) -> Void) async {
        let ended = await worker.eventLoop.runOnLoop { () -> State? in
            if self.isOpen {
                self.closeHandlers.append(handler)
                return nil
            }
            return self.state
        }
        switch ended {
        case .some(.some(let state)): handler(state)
        case .some(.none): break
        case .none: handler(.closed)
        }
    }

    /// Closes the transport with its producers and consumers (DTLS close_notify is sent).
    public func close() async {
        _ = await worker.eventLoop.runOnLoop { () -> Bool in
            self.closeOnLoop()
            return true
        }
    }

    // MARK: Producers and consumers

    func produceOnLoop(kind: MediaKind, parameters: RTPParameters) throws(SFUError) -> Producer {
        guard isOpen, !router.closed else { throw SFUError(.closed, detail: "transport") }
        let producer = try Producer(kind: kind, parameters: parameters, transport: self)
        // One BUNDLE transport has one extension map: the first producer's id serves them all.
        if transportCC == nil, let id = parameters.extensionID(RTPHeaderExtensionURI.transportWideCC), id != 0 {
            transportCCID = id
            transportCC = TransportCCRecorder(epochNanoseconds: monotonicNanoseconds())
        }
        for (index, stream) in producer.streams.enumerated() {
            for (ssrc, isRTX) in [(stream.ssrc, false), (stream.rtxSSRC, true)] {
                guard let ssrc else { continue }
                guard routes[ssrc] == nil else { throw SFUError(.duplicateSSRC, detail: "\(ssrc)") }
                routes[ssrc] = IncomingRoute(producer: producer, streamIndex: index, isRTX: isRTX)
            }
        }
        producers[producer.id] = producer
        router.producerCreated(producer)
        return producer
    }

    func consumeOnLoop(
        producer: Producer, codecs: [RTPCodecParameters], headerExtensions: [RTPHeaderExtensionParameters], paused: Bool
    ) throws(SFUError) -> Consumer {
        guard isOpen, !router.closed else { throw SFUError(.closed, detail: "transport") }
        guard !producer.closed else { throw SFUError(.producerNotFound) }
        guard producer.router === router else { throw SFUError(.wrongRouter) }
        var generator = SystemRandomNumberGenerator()
        func freshSSRC() -> UInt32 {
            while true {
                let ssrc = UInt32.random(in: 1...UInt32.max, using: &generator)
                if consumersBySSRC[ssrc] == nil, routes[ssrc] == nil { return ssrc }
            }
        }
        let consumer = try Consumer(
            producer: producer, transport: self, codecs: codecs, headerExtensions: headerExtensions,
            ssrc: freshSSRC(), rtxSSRC: freshSSRC(), paused: paused)
        consumers[consumer.id] = consumer
        consumersBySSRC[consumer.ssrc] = consumer
        if let rtx = consumer.rtxSSRC { consumersBySSRC[rtx] = consumer }
        producer.addConsumer(consumer)
        consumer.start(nowNanoseconds: monotonicNanoseconds())
        return consumer
    }

    func producerClosed(_ producer: Producer) {
        producers.removeValue(forKey: producer.id)
        routes = routes.filter { $0.value.producer !== producer }
        router.producerClosed(producer)
    }

    func consumerClosed(_ consumer: Consumer) {
        consumers.removeValue(forKey: consumer.id)
        consumersBySSRC.removeValue(forKey: consumer.ssrc)
        if let rtx = consumer.rtxSSRC { consumersBySSRC.removeValue(forKey: rtx) }
    }

    /// Closes everything the transport owns; `finalState` is `.closed` or `.failed`.
    func closeOnLoop(finalState: State = .closed) {
        guard isOpen else { return }
        for action in dtls.close() {
            if case .send(let datagram) = action { write(datagram) }
        }
        state = finalState
        dtlsTimer?.cancel()
        dtlsTimer = nil
        for producer in Array(producers.values) { producer.closeOnLoop() }
        for consumer in Array(consumers.values) { consumer.closeOnLoop() }
        if let session {
            worker.server.handler.value.remove(session)
            self.session = nil
        }
        srtp = nil
        outputTap = nil
        router.transportClosed(self)
        worker.metrics.activeTransports.decrement()
        let handlers = closeHandlers
        closeHandlers.removeAll()
        for handler in handlers { handler(finalState) }
    }

    /// RTCP BYE (RFC 3550 §6.6) for SSRCs that stop sending on this transport, behind an empty RR
    /// so the compound packet starts with a report. Receivers end the track (aiortc, browsers).
    func sendBye(sources: [UInt32], reason: String) {
        guard isOpen, srtp != nil, !sources.isEmpty else { return }
        var buffer = allocator.buffer(capacity: 64 + reason.utf8.count + SRTPSession.maximumTrailerLength)
        RTCPReceiverReport(ssrc: rtcpSSRC).write(to: &buffer)
        RTCPBye(sources: sources, reason: reason).write(to: &buffer)
        _ = sendRTCP(&buffer)
    }

    var isOpen: Bool {
        switch state {
        case .closed, .failed: return false
        case .new, .connecting, .connected: return true
        }
    }

    private func fail(_ reason: String) {
        closeOnLoop(finalState: .failed(reason: reason))
    }

    // MARK: ICESessionDelegate

    public func iceSession(_ session: ICESessionHandle, didReceive packet: ByteBuffer, kind: PacketClass, from source: SocketAddress) {
        let arrival = monotonicNanoseconds()
        switch kind {
        case .rtp:
            receiveRTP(packet, arrivalNanoseconds: arrival)
        case .rtcp:
            receiveRTCP(packet, arrivalNanoseconds: arrival)
        case .dtls:
            if remote == nil { remote = source }
            // An SFU-offered connection learns the peer's fingerprints from the answer, which can
            // arrive after the peer's first flight: hold that flight until they are known
            // (bounded), so the handshake is never verified against an empty list.
            guard !dtls.configuration.remoteFingerprints.isEmpty else {
                if heldDTLS.count < 8 { heldDTLS.append(packet) }
                return
            }
            perform(dtls.receive(datagram: packet, now: .now()))
            if case .idle = dtls.state {} else if state == .new { state = .connecting }
        case .stun, .turnChannel, .unknown:
            worker.metrics.drop(.unexpected)
        }
    }

    public func iceSession(_ session: ICESessionHandle, didSelectPair remote: SocketAddress) {
        self.remote = remote
        if dtls.configuration.role == .client, case .idle = dtls.state {
            state = .connecting
            perform(dtls.startHandshake(now: .now()))
        }
    }

    public func iceSessionConsentExpired(_ session: ICESessionHandle) {
        fail("ice_consent_expired")
    }

    public func iceSession(_ session: ICESessionHandle, didFail reason: ICEFailureReason) {
        fail("ice_failed")
    }

    // MARK: DTLS

    private func perform(_ actions: [DTLSAction]) {
        for action in actions {
            switch action {
            case .send(let datagram):
                write(datagram)
            case .connected(let material, _):
                do {
                    srtp = try SRTPSession(keyingMaterial: material)
                    state = .connected
                    for consumer in consumers.values { consumer.transportConnected(nowNanoseconds: monotonicNanoseconds()) }
                } catch {
                    fail("srtp_init")
                    return
                }
            case .failed(let error):
                fail("dtls_\(error.code)")
                return
            case .closed:
                closeOnLoop()
                return
            }
        }
        scheduleDTLSTimer()
    }

    private func scheduleDTLSTimer() {
        dtlsTimer?.cancel()
        dtlsTimer = nil
        guard let deadline = dtls.nextTimeout, isOpen else { return }
        dtlsTimer = worker.eventLoop.scheduleTask(deadline: deadline) { [weak self] in
            guard let self else { return }
            self.dtlsTimer = nil
            self.perform(self.dtls.tick(now: .now()))
        }
    }

    // MARK: Packet I/O

    /// Writes one datagram to the selected pair (or the tap).
    @inline(__always)
    func write(_ datagram: ByteBuffer) {
        if let outputTap {
            outputTap(datagram)
            return
        }
        guard let remote else { return }
        worker.server.handler.value.write(datagram, to: remote)
    }

    /// Protects and sends one RTP packet; `false` when not connected or SRTP refused it.
    @discardableResult
    func sendRTP(_ packet: inout ByteBuffer) -> Bool {
        guard let srtp else { return false }
        do {
            try srtp.protect(rtp: &packet)
        } catch {
            worker.metrics.srtpFailure(error, rtcp: false)
            return false
        }
        write(packet)
        return true
    }

    /// Protects and sends one compound RTCP packet.
    @discardableResult
    func sendRTCP(_ packet: inout ByteBuffer) -> Bool {
        guard let srtp else { return false }
        do {
            try srtp.protectRTCP(rtcp: &packet)
        } catch {
            worker.metrics.srtpFailure(error, rtcp: true)
            return false
        }
        write(packet)
        return true
    }

    /// The ingress path: SRTP → RTP view → producer stream → consumers.
    func receiveRTP(_ datagram: ByteBuffer, arrivalNanoseconds arrival: UInt64) {
        guard let srtp else {
            worker.metrics.drop(.notConnected)
            return
        }
        var buffer = datagram
        do {
            try srtp.unprotect(srtp: &buffer)
        } catch {
            worker.metrics.srtpFailure(error, rtcp: false)
            return
        }
        let packet: RTPPacket
        do {
            packet = try RTPPacket(buffer: buffer)
        } catch {
            worker.metrics.drop(.malformedRTP)
            return
        }
        // Every authenticated packet counts for congestion control, padding and probes included.
        if transportCCID != 0, let sequence = packet.extensionInteger(id: transportCCID, as: UInt16.self) {
            transportCC?.record(sequenceNumber: sequence, arrivalNanoseconds: arrival)
        }
        guard let route = routes[packet.ssrc] ?? bindUnknownSSRC(packet) else {
            worker.metrics.drop(.unknownSSRC)
            return
        }
        if route.isRTX {
            // We send no NACKs upstream, so RTX from a publisher is only padding/probing.
            worker.metrics.drop(.stale)
            return
        }
        if route.producer.receive(packet, streamIndex: route.streamIndex, arrivalNanoseconds: arrival) {
            worker.metrics.forwardingLatency.recordNanoseconds(Int64(clamping: monotonicNanoseconds() &- arrival))
        }
    }

    /// Binds an SSRC nobody declared to a producer encoding declared without one: by its RID
    /// extension (RFC 8852), else its MID extension (RFC 8843), else the transport's only such
    /// encoding. Runs once per new SSRC.
    private func bindUnknownSSRC(_ packet: RTPPacket) -> IncomingRoute? {
        var candidates: [(Producer, Int)] = []
        for producer in producers.values {
            for (index, stream) in producer.streams.enumerated() where stream.ssrc == nil {
                candidates.append((producer, index))
            }
        }
        guard !candidates.isEmpty else { return nil }
        func matches(_ value: ByteBuffer?, _ text: String?) -> Bool {
            guard let value, let text else { return false }
            return value.readableBytesView.elementsEqual(text.utf8)
        }
        var chosen: (Producer, Int)?
        // RTX (e.g. Chrome's probing padding) must not claim a media encoding.
        candidates.removeAll { producer, _ in producer.codecIndex(payloadType: packet.payloadType) == nil }
        for (producer, index) in candidates {
            if let id = producer.parameters.extensionID(RTPHeaderExtensionURI.rtpStreamID),
                matches(packet.extensionValue(id: id), producer.streams[index].rid)
            {
                chosen = (producer, index)
                break
            }
        }
        if chosen == nil {
            for (producer, index) in candidates {
                guard let id = producer.parameters.extensionID(RTPHeaderExtensionURI.mid),
                    matches(packet.extensionValue(id: id), producer.parameters.mid),
                    producer.streams.filter({ $0.ssrc == nil }).count == 1
                else { continue }
                chosen = (producer, index)
                break
            }
        }
        if chosen == nil, candidates.count == 1 { chosen = candidates[0] }
        guard let (producer, index) = chosen else { return nil }
        producer.bind(streamIndex: index, ssrc: packet.ssrc)
        let route = IncomingRoute(producer: producer, streamIndex: index, isRTX: false)
        routes[packet.ssrc] = route
        return route
    }

    func consumer(ssrc: UInt32) -> Consumer? { consumersBySSRC[ssrc] }
    func route(ssrc: UInt32) -> IncomingRoute? { routes[ssrc] }
}
