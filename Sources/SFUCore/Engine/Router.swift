import ICE
import NIOCore

/// One room's media (mediasoup's `Router`): its WebRTC transports and, through them, producers and
/// consumers. Confined to its worker's event loop; the public API is `async` and hops there.
///
/// A repeated task on the loop releases throttled keyframe requests, re-asks for keyframes while a
/// video consumer waits for one, and every ``MediaWorker/Configuration/reportInterval`` sends
/// sender reports per outgoing stream and receiver reports per incoming stream.
public final class Router: @unchecked Sendable {
    public let id: UInt64
    let worker: MediaWorker
    var eventLoop: any EventLoop { worker.eventLoop }
    // Loop-confined state.
    private(set) var transports: [ObjectIdentifier: WebRTCTransport] = [:]
    private(set) var producers: [UInt64: Producer] = [:]
    private var timer: RepeatedTask?
    private var lastReport: UInt64 = 0
    private(set) var closed = false

    init(worker: MediaWorker) {
        self.worker = worker
        var generator = SystemRandomNumberGenerator()
        self.id = generator.next()
    }

    func start() {
        let interval = worker.configuration.rtcpTickInterval
        timer = eventLoop.scheduleRepeatedTask(initialDelay: interval, delay: interval) { [weak self] _ in
            self?.tick(nowNanoseconds: monotonicNanoseconds())
        }
    }

    /// A transport for one peer (publisher or subscriber, or both).
    ///
    /// - Parameters:
    ///   - remoteICE: the peer's ufrag/pwd if already known (else call ``WebRTCTransport/setRemoteICE(_:)``).
    ///   - remoteFingerprints: the peer's `a=fingerprint` values; its DTLS certificate must match one.
    ///   - dtlsRole: *our* role: `.server` when we answer `a=setup:passive` (the usual answer to
    ///     `actpass`), `.client` for `a=setup:active`.
    public func createWebRTCTransport(
        remoteICE: ICECredentials?, remoteFingerprints: [DTLSFingerprint], dtlsRole: DTLSRole
    ) async throws(SFUError) -> WebRTCTransport {
        try await eventLoop.runOnLoop { () throws(SFUError) -> WebRTCTransport in
            guard !self.closed else { throw SFUError(.closed, detail: "router") }
            let transport = try WebRTCTransport(
                router: self, remoteICE: remoteICE, remoteFingerprints: remoteFingerprints, dtlsRole: dtlsRole)
            self.transports[ObjectIdentifier(transport)] = transport
            return transport
        }
    }

    /// Closes every transport (and so every producer and consumer) of the router.
    public func close() async {
        _ = await eventLoop.runOnLoop { () -> Bool in
            self.closeOnLoop()
            return true
        }
    }

    /// The producer `id` of this router, if open.
    public func producer(id: UInt64) async -> Producer? {
        await eventLoop.runOnLoop { () -> Producer? in self.producers[id] } ?? nil
    }

    func closeOnLoop() {
        guard !closed else { return }
        closed = true
        timer?.cancel()
        timer = nil
        for transport in Array(transports.values) { transport.closeOnLoop() }
        worker.routerClosed(self)
    }

    func transportClosed(_ transport: WebRTCTransport) {
        transports.removeValue(forKey: ObjectIdentifier(transport))
    }

    func producerCreated(_ producer: Producer) {
        producers[producer.id] = producer
    }

    func producerClosed(_ producer: Producer) {
        producers.removeValue(forKey: producer.id)
    }

    /// The RTCP timer (also called directly by tests with a manual clock).
    func tick(nowNanoseconds now: UInt64) {
        for producer in producers.values { producer.releasePendingKeyframeRequests(nowNanoseconds: now) }
        for transport in transports.values {
            transport.rerequestKeyframes(nowNanoseconds: now)
            transport.sendTransportFeedback()
        }
        let interval = UInt64(max(worker.configuration.reportInterval.nanoseconds, 1))
        if now &- lastReport >= interval {
            lastReport = now
            for transport in transports.values { transport.sendReports(nowNanoseconds: now) }
        }
    }
}
