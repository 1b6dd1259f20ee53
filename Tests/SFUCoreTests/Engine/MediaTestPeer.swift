import Crypto
import ICE
import NIOCore
import NIOPosix
import SFUCore
import SFUWire
import Synchronization

/// Waits are bounded and polled: real sockets have no injectable clock.
func waitUntil(timeout: Duration = .seconds(5), _ condition: () -> Bool) async -> Bool {
    let clock = ContinuousClock()
    let deadline = clock.now + timeout
    while clock.now < deadline {
        if condition() { return true }
        try? await Task.sleep(for: .milliseconds(2))
    }
    return condition()
}

/// Collects the datagrams a test peer's socket receives.
final class DatagramInbox: ChannelInboundHandler, Sendable {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>
    let received = Mutex<[ByteBuffer]>([])

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let envelope = unwrapInboundIn(data)
        received.withLock { $0.append(envelope.data) }
    }

    /// Removes and returns everything received so far.
    func drain() -> [ByteBuffer] {
        received.withLock { queue in
            defer { queue.removeAll() }
            return queue
        }
    }
}

enum TestPeerError: Error {
    case noSTUNResponse, handshakeFailed(String), notConnected
}

/// A WebRTC peer written with the project's own stack: STUN binding request (ICE check with
/// USE-CANDIDATE, RFC 8445 §7.2), DTLSTransport in the client role, SRTPSession.
final class MediaTestPeer {
    let channel: any Channel
    let inbox: DatagramInbox
    let server: SocketAddress
    let certificate: DTLSCertificate
    let ice = ICECredentials.random()
    private(set) var srtp: SRTPSession?
    /// Decrypted RTP and RTCP received after the handshake.
    private(set) var rtp: [RTPPacket] = []
    private(set) var rtcp: [RTCPPacket] = []
    private(set) var undecryptable = 0
    /// RTP datagrams (0-based, in arrival order) to throw away before decryption, as if lost.
    var lose: Set<Int> = []
    private var rtpDatagrams = 0

    init(group: any EventLoopGroup, server: SocketAddress) async throws {
        let inbox = DatagramInbox()
        self.inbox = inbox
        self.server = server
        self.certificate = try DTLSCertificate()
        self.channel = try await DatagramBootstrap(group: group)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(inbox) }
            }
            .bind(host: "127.0.0.1", port: 0).get()
    }

    func send(_ buffer: ByteBuffer) {
        channel.writeAndFlush(AddressedEnvelope(remoteAddress: server, data: buffer), promise: nil)
    }

    /// ICE check, then the DTLS handshake as client, then SRTP.
    func connect(to info: WebRTCTransportInfo) async throws {
        var request = ByteBuffer()
        STUNBindingRequest(
            transactionID: .random(), username: "\(info.localICE.ufrag):\(ice.ufrag)", priority: 1_845_501_695,
            role: .controlling(tieBreaker: 42), useCandidate: true,
            integrityKey: STUNCredentials.shortTermKey(password: info.localICE.password)
        ).write(to: &request)
        var answered = false
        for _ in 0..<3 where !answered {
            send(request)
            answered = await waitUntil(timeout: .seconds(1)) {
                inbox.received.withLock { $0.contains { PacketClass(classifying: $0) == .stun } }
            }
        }
        guard answered else { throw TestPeerError.noSTUNResponse }
        _ = inbox.drain()

        let dtls = try DTLSTransport(configuration: .init(
            role: .client, certificate: certificate, remoteFingerprints: [info.fingerprint],
            initialRetransmissionTimeout: .milliseconds(100)))
        var material: SRTPKeyingMaterial?
        var failure: String?
        func perform(_ actions: [DTLSAction]) {
            for action in actions {
                switch action {
                case .send(let datagram): send(datagram)
                case .connected(let keys, _): material = keys
                case .failed(let error): failure = "\(error)"
                case .closed: failure = "closed"
                }
            }
        }
        perform(dtls.startHandshake(now: .now()))
        let clock = ContinuousClock()
        let deadline = clock.now + .seconds(10)
        while material == nil, failure == nil, clock.now < deadline {
            let datagrams = inbox.drain()
            for datagram in datagrams where PacketClass(classifying: datagram) == .dtls {
                perform(dtls.receive(datagram: datagram, now: .now()))
            }
            if let timeout = dtls.nextTimeout, NIODeadline.now() >= timeout { perform(dtls.tick(now: .now())) }
            if datagrams.isEmpty { try? await Task.sleep(for: .milliseconds(2)) }
        }
        guard let material else { throw TestPeerError.handshakeFailed(failure ?? "timeout") }
        srtp = try SRTPSession(keyingMaterial: material)
    }

    /// Decrypts what arrived into ``rtp`` / ``rtcp``.
    func pump() {
        guard let srtp else { return }
        for datagram in inbox.drain() {
            var buffer = datagram
            switch PacketClass(classifying: datagram) {
            case .rtp:
                defer { rtpDatagrams += 1 }
                if lose.contains(rtpDatagrams) { continue }
                do {
                    try srtp.unprotect(srtp: &buffer)
                    rtp.append(try RTPPacket(buffer: buffer))
                } catch {
                    undecryptable += 1
                }
            case .rtcp:
                do {
                    try srtp.unprotectRTCP(srtcp: &buffer)
                    rtcp += try RTCPCompoundIterator.parseAll(buffer)
                } catch {
                    undecryptable += 1
                }
            default:
                break
            }
        }
    }

    func sendRTP(payloadType: UInt8, sequenceNumber: UInt16, timestamp: UInt32, ssrc: UInt32, payload: [UInt8],
                 extensions: RTPHeaderExtensionsBuilder? = nil) throws {
        guard let srtp else { throw TestPeerError.notConnected }
        var buffer = ByteBuffer()
        buffer.reserveCapacity(payload.count + 64 + SRTPSession.maximumTrailerLength)
        RTPPacket.write(
            to: &buffer, marker: true, payloadType: payloadType, sequenceNumber: sequenceNumber, timestamp: timestamp,
            ssrc: ssrc, extensions: extensions, payload: ByteBuffer(bytes: payload))
        try srtp.protect(rtp: &buffer)
        send(buffer)
    }

    func sendRTCP(_ packets: [RTCPPacket]) throws {
        guard let srtp else { throw TestPeerError.notConnected }
        var buffer = ByteBuffer()
        for packet in packets { packet.write(to: &buffer) }
        try srtp.protectRTCP(rtcp: &buffer)
        send(buffer)
    }

    func close() async {
        try? await channel.close()
    }
}
