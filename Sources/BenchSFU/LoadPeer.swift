import ICE
import NIOCore
import NIOPosix
import SFUCore
import SFUWire

/// One simulated WebRTC endpoint of the load generator, written with the project's own client
/// stack: an ICE controlling agent that sends connectivity checks with USE-CANDIDATE (RFC 8445
/// §7.2) and keeps consent fresh (RFC 7675), a DTLS client, SRTP. Publishers replay
/// ``BenchMediaClip``s at their frame pacing and answer PLI/FIR by restarting at a keyframe;
/// subscribers check SRTP authentication and sequence continuity and measure one-way delay.
///
/// Confined to one event loop; every method but ``make(on:certificate:stats:)`` runs there.
final class LoadPeer: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>

    struct Remote: Sendable {
        var ufrag: String
        var password: String
        var fingerprint: DTLSFingerprint
        var address: SocketAddress
        /// Our DTLS role: `.client` when the remote SDP says `a=setup:passive` (an SFU's usual
        /// answer) or when we answer `active` to its `actpass`; `.server` when it says `active`.
        var dtlsRole: DTLSRole = .client
        /// We nominate (offerer facing a lite or answering agent); `false` when a full ICE agent
        /// offered and controls (Janus's subscriber offers).
        var controlling = true
    }

    /// One stream a publisher sends.
    final class Outgoing {
        let clip: BenchMediaClip
        let payloadType: UInt8
        let ssrc: UInt32
        var sequence = UInt16.random(in: 0...UInt16.max)
        var timestamp = UInt32.random(in: 0...UInt32.max)
        var frame = 0
        var restartAtKeyframe = false
        var task: RepeatedTask?

        init(clip: BenchMediaClip, payloadType: UInt8, ssrc: UInt32) {
            self.clip = clip
            self.payloadType = payloadType
            self.ssrc = ssrc
        }
    }

    enum State: Equatable {
        case idle, checking, handshaking, connected
        case failed(String)
    }

    let loop: any EventLoop
    let certificate: DTLSCertificate
    let stats: LoadStats
    let local = ICECredentials.random()
    private(set) var channel: (any Channel)?
    private(set) var state: State = .idle
    private var remote: Remote?
    private var dtls: DTLSTransport?
    private var srtp: SRTPSession?
    private var checkTask: RepeatedTask?
    private var dtlsTimer: Scheduled<Void>?
    private var connected: EventLoopPromise<Void>?
    private(set) var outgoing: [Outgoing] = []
    private var incoming: [UInt32: ReceivedStream] = [:]
    private let tieBreaker = UInt64.random(in: 0...UInt64.max)
    private var checkSucceeded = false

    private init(loop: any EventLoop, certificate: DTLSCertificate, stats: LoadStats) {
        self.loop = loop
        self.certificate = certificate
        self.stats = stats
    }

    /// A peer with its own UDP socket on `host` (a loopback address).
    static func make(
        on loop: any EventLoop, certificate: DTLSCertificate, stats: LoadStats, host: String = "127.0.0.1"
    ) async throws -> LoadPeer {
        let peer = LoadPeer(loop: loop, certificate: certificate, stats: stats)
        let channel = try await DatagramBootstrap(group: loop)
            .channelOption(.socketOption(.so_rcvbuf), value: 1 << 20)
            .channelOption(.datagramVectorReadMessageCount, value: 32)
            // Vector reads split the receive buffer across the messages: 2 KiB each.
            .channelOption(.recvAllocator, value: FixedSizeRecvByteBufferAllocator(capacity: 32 * 2_048))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(peer) }
            }
            .bind(host: host, port: 0).get()
        try await loop.submit { peer.channel = channel }.get()
        return peer
    }

    var port: Int { channel?.localAddress?.port ?? 0 }

    var identity: BenchSDP.Identity {
        BenchSDP.Identity(
            ufrag: local.ufrag, password: local.password, fingerprint: certificate.fingerprint,
            address: channel?.localAddress?.ipAddress ?? "127.0.0.1", port: port)
    }

    /// Adds a stream to send once connected (publishers), before ``start(remote:)``.
    func addOutgoing(clip: BenchMediaClip, payloadType: UInt8) -> UInt32 {
        let stream = Outgoing(clip: clip, payloadType: payloadType, ssrc: UInt32.random(in: 1...UInt32.max))
        loop.execute { self.outgoing.append(stream) }
        return stream.ssrc
    }

    /// Starts ICE checks toward `remote`; the future completes once SRTP keys are in place.
    func start(remote: Remote, timeout: TimeAmount = .seconds(15)) -> EventLoopFuture<Void> {
        loop.flatSubmit {
            let promise = self.loop.makePromise(of: Void.self)
            self.connected = promise
            self.remote = remote
            self.state = .checking
            do {
                self.dtls = try DTLSTransport(configuration: .init(
                    role: remote.dtlsRole, certificate: self.certificate, remoteFingerprints: [remote.fingerprint],
                    initialRetransmissionTimeout: .milliseconds(250), handshakeTimeout: .seconds(10)))
            } catch {
                self.fail("DTLS: \(error)")
            }
            self.checkTask = self.loop.scheduleRepeatedTask(initialDelay: .zero, delay: .milliseconds(100)) { [weak self] _ in
                self?.sendCheck()
            }
            self.loop.scheduleTask(in: timeout) { [weak self] in
                guard let self, self.state != .connected else { return }
                self.fail("no connection within \(timeout.nanoseconds / 1_000_000_000) s (state \(self.state))")
            }
            return promise.futureResult
        }
    }

    func close() {
        loop.execute {
            self.checkTask?.cancel()
            self.dtlsTimer?.cancel()
            for stream in self.outgoing { stream.task?.cancel() }
            if let dtls = self.dtls {
                for action in dtls.close() { if case .send(let datagram) = action { self.send(datagram) } }
            }
            self.channel?.flush()
            self.channel?.close(promise: nil)
            if self.state != .connected { self.connected?.fail(LoadPeerError("closed")) }
        }
    }

    // MARK: ICE

    private func sendCheck() {
        guard let remote else { return }
        var request = ByteBuffer()
        STUNBindingRequest(
            transactionID: .random(), username: "\(remote.ufrag):\(local.ufrag)", priority: 2_130_706_431,
            role: remote.controlling ? .controlling(tieBreaker: tieBreaker) : .controlled(tieBreaker: tieBreaker),
            useCandidate: remote.controlling, integrityKey: STUNCredentials.shortTermKey(password: remote.password)
        ).write(to: &request)
        send(request)
        channel?.flush()
    }

    private func checkAnswered() {
        guard !checkSucceeded, state == .checking || state == .handshaking, let dtls else { return }
        checkSucceeded = true
        // Consent freshness from here on: a check every 2.5 s (RFC 7675 §5.1 allows 4-6 s).
        checkTask?.cancel()
        checkTask = loop.scheduleRepeatedTask(initialDelay: .milliseconds(2_500), delay: .milliseconds(2_500)) { [weak self] _ in
            self?.sendCheck()
        }
        state = .handshaking
        // A DTLS server waits for the ClientHello (which may already have been answered).
        if dtls.configuration.role == .client, case .idle = dtls.state { perform(dtls.startHandshake(now: .now())) }
    }

    /// A full ICE agent (Janus) checks us too: answer authenticated binding requests
    /// (RFC 8445 §7.3) with XOR-MAPPED-ADDRESS, MESSAGE-INTEGRITY and FINGERPRINT.
    private func answerCheck(_ datagram: ByteBuffer, from source: SocketAddress) {
        let message: STUNMessage
        do {
            message = try STUNMessage(bytes: datagram)
        } catch {
            JanusTarget.debug("unparseable STUN from \(source): \(error)")
            return
        }
        if message.type == .bindingSuccess {
            checkAnswered()
            return
        }
        guard message.type == .bindingRequest, let mapped = STUNAddress(source) else { return }
        var response = ByteBuffer()
        STUNMessage.writeBindingSuccess(
            to: &response, transactionID: message.transactionID, mappedAddress: mapped,
            integrityKey: STUNCredentials.shortTermKey(password: local.password))
        channel?.writeAndFlush(AddressedEnvelope(remoteAddress: source, data: response), promise: nil)
    }

    // MARK: DTLS

    private func perform(_ actions: [DTLSAction]) {
        for action in actions {
            switch action {
            case .send(let datagram): send(datagram)
            case .connected(let keys, _):
                do {
                    srtp = try SRTPSession(keyingMaterial: keys)
                    state = .connected
                    startSending()
                    connected?.succeed(())
                } catch {
                    fail("SRTP: \(error)")
                }
            case .failed(let error): fail("DTLS: \(error)")
            case .closed: if state != .connected { fail("DTLS closed") }
            }
        }
        channel?.flush()
        scheduleDTLSTimer()
    }

    private func scheduleDTLSTimer() {
        dtlsTimer?.cancel()
        guard let deadline = dtls?.nextTimeout, state == .handshaking else { return }
        dtlsTimer = loop.scheduleTask(deadline: deadline) { [weak self] in
            guard let self, let dtls = self.dtls else { return }
            self.perform(dtls.tick(now: .now()))
        }
    }

    private func fail(_ reason: String) {
        guard state != .connected else { return }
        state = .failed(reason)
        checkTask?.cancel()
        dtlsTimer?.cancel()
        connected?.fail(LoadPeerError(reason))
    }

    // MARK: Sending

    private func startSending() {
        for stream in outgoing {
            stream.task = loop.scheduleRepeatedTask(
                initialDelay: .zero, delay: .nanoseconds(Int64(stream.clip.frameInterval.components.attoseconds / 1_000_000_000))
            ) { [weak self] _ in
                self?.sendFrame(of: stream)
            }
        }
    }

    private func sendFrame(of stream: Outgoing) {
        guard let srtp, let remote, let channel else { return }
        if stream.restartAtKeyframe {
            stream.restartAtKeyframe = false
            stream.frame = 0
        }
        let frame = stream.clip.frames[stream.frame]
        stream.frame = (stream.frame + 1) % stream.clip.frames.count
        let stamp = NIODeadline.now().uptimeNanoseconds
        for (index, payload) in frame.payloads.enumerated() {
            var buffer = channel.allocator.buffer(capacity: payload.count + 12 + SRTPSession.maximumTrailerLength)
            let body = ByteBuffer(bytes: payload)
            RTPPacket.write(
                to: &buffer, marker: index == frame.payloads.count - 1, payloadType: stream.payloadType,
                sequenceNumber: stream.sequence, timestamp: stream.timestamp, ssrc: stream.ssrc, payload: body)
            if payload.count >= BenchMediaClip.stampedMinimum {
                buffer.setInteger(stamp, at: buffer.writerIndex - BenchMediaClip.stampLength)
            }
            stream.sequence &+= 1
            do {
                try srtp.protect(rtp: &buffer)
            } catch {
                stats.srtpFailure()
                continue
            }
            channel.write(AddressedEnvelope(remoteAddress: remote.address, data: buffer), promise: nil)
        }
        stats.sent(frame.payloads.count)
        stream.timestamp &+= stream.clip.timestampStep
        channel.flush()
    }

    private func send(_ datagram: ByteBuffer) {
        guard let remote, let channel else { return }
        channel.write(AddressedEnvelope(remoteAddress: remote.address, data: datagram), promise: nil)
    }

    // MARK: Receiving

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let envelope = unwrapInboundIn(data)
        var datagram = envelope.data
        switch PacketClass(classifying: datagram) {
        case .stun: answerCheck(datagram, from: envelope.remoteAddress)
        case .dtls:
            guard let dtls, state == .checking || state == .handshaking || state == .connected else { return }
            if state == .checking { state = .handshaking }
            perform(dtls.receive(datagram: datagram, now: .now()))
        case .rtp:
            guard let srtp else { return }
            do {
                try srtp.unprotect(srtp: &datagram)
            } catch {
                stats.srtpFailure()
                return
            }
            guard let packet = try? RTPPacket(buffer: datagram) else {
                stats.malformedPacket()
                return
            }
            stats.lost(incoming[packet.ssrc, default: ReceivedStream(highest: 0)].receive(packet.sequenceNumber))
            var delay: UInt64?
            let payload = packet.payload
            if payload.readableBytes >= BenchMediaClip.stampedMinimum,
               let stamp = payload.getInteger(
                at: payload.writerIndex - BenchMediaClip.stampLength, as: UInt64.self)
            {
                let now = NIODeadline.now().uptimeNanoseconds
                if now >= stamp, now - stamp < 10_000_000_000 { delay = now - stamp }
            }
            stats.received(bytes: datagram.readableBytes, delayNanoseconds: delay)
        case .rtcp:
            guard let srtp, !outgoing.isEmpty else { return }
            do {
                try srtp.unprotectRTCP(srtcp: &datagram)
            } catch {
                stats.srtpFailure()
                return
            }
            guard let packets = try? RTCPCompoundIterator.parseAll(datagram) else { return }
            for packet in packets {
                switch packet {
                case .pictureLossIndication(let pli): requestKeyframe(ssrc: pli.mediaSSRC)
                case .fullIntraRequest(let fir): for entry in fir.entries { requestKeyframe(ssrc: entry.ssrc) }
                default: break
                }
            }
        default:
            break
        }
    }

    private func requestKeyframe(ssrc: UInt32) {
        for stream in outgoing where stream.ssrc == ssrc { stream.restartAtKeyframe = true }
    }
}

struct LoadPeerError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
