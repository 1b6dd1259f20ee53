import ICE
import Logging
import Metrics
import NIOCore
import NIOPosix
import SFUWire

/// One media worker per event loop (mediasoup's worker on NIO): the shared ICE UDP port, the DTLS
/// certificate its transports present, and the routers it hosts. Every router, transport,
/// producer and consumer of a worker lives on ``eventLoop``; the public API is `async` and hops
/// there, the packet path never leaves it (no locks, no `Task`s per packet).
public final class MediaWorker: @unchecked Sendable {
    public struct Configuration: Sendable {
        /// Address to bind the media UDP port to (`"0.0.0.0"`, `"::"`, `"127.0.0.1"`).
        public var host: String
        /// UDP port; 0 asks the OS for one (read ``MediaWorker/localAddress``).
        public var port: Int
        /// Addresses advertised as host candidates (NAT 1:1); empty advertises the bound address.
        public var announcedIPs: [String]
        public var ice: ICEUDPHandler<WebRTCTransport>.Configuration
        public var udp: ICEUDPBootstrap.Options
        /// DTLS retransmission and handshake timing.
        public var dtlsInitialRetransmissionTimeout: TimeAmount
        public var dtlsHandshakeTimeout: TimeAmount
        /// Slots of each video consumer's retransmission ring (rounded to a power of two).
        public var retransmissionSlots: Int
        /// Bytes all retransmission rings of the worker may hold together
        /// (`media.retransmission_budget_bytes`); consumers beyond it are refused with
        /// `limit_exceeded`.
        public var retransmissionBudgetBytes: Int
        /// How often routers run their RTCP timer (keyframe-request release, simulcast layer
        /// selection, transport-wide CC feedback to publishers); reports go out every
        /// `reportInterval`.
        public var rtcpTickInterval: TimeAmount
        public var reportInterval: TimeAmount

        public init(
            host: String = "0.0.0.0", port: Int = 0, announcedIPs: [String] = [],
            ice: ICEUDPHandler<WebRTCTransport>.Configuration = .init(), udp: ICEUDPBootstrap.Options = .init(),
            dtlsInitialRetransmissionTimeout: TimeAmount = .seconds(1), dtlsHandshakeTimeout: TimeAmount = .seconds(30),
            retransmissionSlots: Int = 512, rtcpTickInterval: TimeAmount = .milliseconds(100),
            reportInterval: TimeAmount = .seconds(1), retransmissionBudgetBytes: Int = 256 * 1024 * 1024
        ) {
            self.host = host
            self.port = port
            self.announcedIPs = announcedIPs
            self.ice = ice
            self.udp = udp
            self.dtlsInitialRetransmissionTimeout = dtlsInitialRetransmissionTimeout
            self.dtlsHandshakeTimeout = dtlsHandshakeTimeout
            self.retransmissionSlots = retransmissionSlots
            self.retransmissionBudgetBytes = retransmissionBudgetBytes
            self.rtcpTickInterval = rtcpTickInterval
            self.reportInterval = reportInterval
        }
    }

    public let configuration: Configuration
    public let eventLoop: any EventLoop
    /// The certificate every transport of this worker presents (its fingerprint goes into SDP).
    public let certificate: DTLSCertificate
    let server: ICEUDPServer<WebRTCTransport>
    let logger: Logger
    let metrics = SFUMetrics()
    /// What the retransmission rings of this worker's consumers hold together, and may hold.
    public let retransmissionBudget: RetransmissionBudget
    /// `commucat_sfu_retransmission_bytes`: the budget in use, exported once a second.
    private let ringBytesGauge = Gauge(label: "commucat_sfu_retransmission_bytes")
    // Loop-confined state.
    private var routers: [ObjectIdentifier: Router] = [:]
    private var closed = false
    /// Exports the ICE layer's drop counts to `commucat_sfu_ice_dropped_total{reason}` once a second.
    private var dropExport: RepeatedTask?
    private var exportedDrops = ICEDropCounters()
    private let dropCounters: [(ICEDropReason, Counter)] = ICEDropReason.allCases.map {
        ($0, Counter(label: "commucat_sfu_ice_dropped_total", dimensions: [("reason", $0.rawValue)]))
    }

    private init(
        configuration: Configuration, eventLoop: any EventLoop, certificate: DTLSCertificate,
        server: ICEUDPServer<WebRTCTransport>, logger: Logger
    ) {
        self.configuration = configuration
        self.eventLoop = eventLoop
        self.certificate = certificate
        self.server = server
        self.logger = logger
        self.retransmissionBudget = RetransmissionBudget(limitBytes: configuration.retransmissionBudgetBytes)
    }

    /// Binds the media port on `eventLoop` and makes a DTLS certificate.
    public static func start(
        configuration: Configuration = Configuration(), eventLoop: any EventLoop,
        certificate: DTLSCertificate? = nil, logger: Logger = Logger(label: "commucat.sfu")
    ) async throws(SFUError) -> MediaWorker {
        let resolved: DTLSCertificate
        if let certificate { resolved = certificate } else { resolved = try makeCertificate() }
        let server: ICEUDPServer<WebRTCTransport>
        do {
            server = try await ICEUDPBootstrap.bind(
                host: configuration.host, port: configuration.port, on: eventLoop,
                delegate: WebRTCTransport.self, configuration: configuration.ice, options: configuration.udp,
                logger: logger)
        } catch {
            throw SFUError(.bindFailed, detail: "\(configuration.host):\(configuration.port): \(error)")
        }
        let worker = MediaWorker(
            configuration: configuration, eventLoop: eventLoop, certificate: resolved, server: server, logger: logger)
        _ = await eventLoop.runOnLoop { () -> Bool in
            worker.dropExport = eventLoop.scheduleRepeatedTask(initialDelay: .seconds(1), delay: .seconds(1)) {
                [weak worker] _ in worker?.exportDrops()
            }
            return true
        }
        return worker
    }

    /// Runs on the loop: adds what the ICE layer dropped since the last export.
    private func exportDrops() {
        let now = server.handler.value.drops
        for (reason, counter) in dropCounters where now[reason] != exportedDrops[reason] {
            counter.increment(by: Int64(truncatingIfNeeded: now[reason] &- exportedDrops[reason]))
        }
        exportedDrops = now
        ringBytesGauge.record(retransmissionBudget.usedBytes)
    }

    private static func makeCertificate() throws(SFUError) -> DTLSCertificate {
        do {
            return try DTLSCertificate()
        } catch {
            throw SFUError(.dtls, detail: "\(error)")
        }
    }

    /// The bound media address.
    public var localAddress: SocketAddress? { server.localAddress }

    /// The host candidates transports advertise.
    public var localCandidates: [SDPCandidate] {
        guard let address = localAddress, let port = address.port else { return [] }
        return ICELocalCandidates.host(
            boundIP: address.ipAddress ?? configuration.host, port: UInt16(clamping: port),
            publicIPs: configuration.announcedIPs)
    }

    /// A new router (one room's media).
    public func createRouter() async throws(SFUError) -> Router {
        try await eventLoop.runOnLoop { () throws(SFUError) -> Router in
            guard !self.closed else { throw SFUError(.closed, detail: "worker") }
            let router = Router(worker: self)
            self.routers[ObjectIdentifier(router)] = router
            router.start()
            return router
        }
    }

    func routerClosed(_ router: Router) {
        routers.removeValue(forKey: ObjectIdentifier(router))
    }

    /// Closes every router and the media port.
    public func close() async {
        _ = await eventLoop.runOnLoop { () -> Bool in
            self.closed = true
            self.exportDrops()
            self.dropExport?.cancel()
            self.dropExport = nil
            for router in Array(self.routers.values) { router.closeOnLoop() }
            return true
        }
        try? await server.channel.close()
    }

    /// Drops counted by the ICE layer (unknown sources, malformed STUN, …), for tests and stats.
    public func iceDropCount() async -> UInt64 {
        await eventLoop.runOnLoop { () -> UInt64 in
            self.server.handler.value.drops.total
        } ?? 0
    }
}
