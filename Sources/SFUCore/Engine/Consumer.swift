import NIOCore
import SFUWire
import Simulcast

/// Send statistics of a consumer.
public struct ConsumerStats: Hashable, Sendable {
    public var packetsSent: UInt64
    public var bytesSent: UInt64
    public var nacksReceived: UInt64
    public var retransmissionsSent: UInt64
    public var keyframeRequestsReceived: UInt64
    public var paused: Bool
    public var waitingForKeyframe: Bool
    /// Simulcast: the producer encoding being forwarded (its rid), and the one being switched to
    /// at its next keyframe, if any.
    public var rid: String?
    public var switchingToRID: String?
}

/// A subscriber's copy of a producer's track (mediasoup's `Consumer`), sent on the subscriber's
/// transport with the consumer's own SSRC, continuous sequence numbers and timestamps
/// (``RTPMunger``), the subscriber's payload types and header extension ids, a retransmission
/// ring for NACKs (RTX when negotiated), and keyframe gating for video.
public final class Consumer: @unchecked Sendable {
    public let id: UInt64
    public let kind: MediaKind
    public let producerID: UInt64
    /// What the consumer sends, for the subscriber's SDP: the matched codecs with the subscriber's
    /// payload types (and RTX payload types), the kept header extensions, one encoding with the
    /// SSRC (and RTX SSRC) chosen by the SFU, and the producer's cname.
    public let rtpParameters: RTPParameters
    public let ssrc: UInt32
    public let rtxSSRC: UInt32?
    private(set) weak var producer: Producer?
    /// Strong: the transport drops its consumers when it closes, which breaks the cycle.
    let transport: WebRTCTransport
    private let metrics: SFUMetrics
    private let counters: StreamCounters
    /// Subscriber payload type by producer payload type (0xFF: not forwarded).
    private var payloadTypeMap: [UInt8]
    /// Subscriber RTX payload type by subscriber media payload type (0xFF: none).
    private var rtxPayloadTypeMap: [UInt8]
    private let extensionMap: HeaderExtensionIDMap
    private let transportCCID: UInt8
    let clockRate: UInt32
    // Loop-confined state.
    private(set) var munger: RTPMunger
    let ring: RetransmissionRing?
    private var rtxSequence: UInt16
    /// Outgoing datagram buffers, reused round-robin (no allocation per forwarded packet).
    private var sendPool: SendBufferPool
    /// Simulcast VP8: picture ids made continuous across encoding switches (`nil` otherwise), and
    /// which producer payload types are VP8.
    private var pictureMunger: VP8PictureMunger?
    private let vp8PayloadTypes: [Bool]
    private var preference: LayerPreference = .highest
    private(set) var paused: Bool
    private(set) var waitingForKeyframe: Bool
    private var lastKeyframeRequest: UInt64 = 0
    private(set) var selectedStream = 0
    private(set) var closed = false
    private(set) var packetsSent: UInt64 = 0
    private(set) var bytesSent: UInt64 = 0
    private(set) var payloadBytesSent: UInt64 = 0
    private(set) var nacksReceived: UInt64 = 0
    private(set) var retransmissionsSent: UInt64 = 0
    private(set) var keyframeRequestsReceived: UInt64 = 0

    init(
        producer: Producer, transport: WebRTCTransport, codecs: [RTPCodecParameters],
        headerExtensions: [RTPHeaderExtensionParameters], ssrc: UInt32, rtxSSRC: UInt32, paused: Bool
    ) throws(SFUError) {
        var payloadTypeMap = [UInt8](repeating: 0xFF, count: 128)
        var rtxMap = [UInt8](repeating: 0xFF, count: 128)
        var matched: [RTPCodecParameters] = []
        for source in producer.parameters.codecs {
            guard let target = codecs.first(where: { source.isCompatible(with: $0) && $0.payloadType < 128 }) else {
                continue
            }
            payloadTypeMap[Int(source.payloadType)] = target.payloadType
            if let rtx = target.rtxPayloadType, rtx < 128 { rtxMap[Int(target.payloadType)] = rtx }
            if !matched.contains(where: { $0.payloadType == target.payloadType }) { matched.append(target) }
        }
        guard !matched.isEmpty else {
            throw SFUError(.noCompatibleCodec, detail: producer.parameters.codecs.map(\.mimeType).joined(separator: ","))
        }
        let keptExtensions = headerExtensions.filter { wanted in
            producer.parameters.headerExtensions.contains { $0.uri == wanted.uri }
        }
        let usesRTX = matched.contains { $0.rtxPayloadType != nil }
        let usesNACK = matched.contains { $0.hasFeedback(.nack) }
        var generator = SystemRandomNumberGenerator()
        self.id = generator.next()
        self.kind = producer.kind
        self.producerID = producer.id
        self.ssrc = ssrc
        self.rtxSSRC = usesRTX ? rtxSSRC : nil
        self.rtpParameters = RTPParameters(
            mid: nil, codecs: matched, headerExtensions: keptExtensions,
            encodings: [RTPEncodingParameters(ssrc: ssrc, rtxSSRC: usesRTX ? rtxSSRC : nil)],
            cname: producer.parameters.cname)
        self.producer = producer
        self.transport = transport
        self.metrics = transport.worker.metrics
        self.counters = StreamCounters(kind: producer.kind, inbound: false)
        self.payloadTypeMap = payloadTypeMap
        self.rtxPayloadTypeMap = rtxMap
        self.extensionMap = HeaderExtensionIDMap(
            producer: producer.parameters.headerExtensions, consumer: keptExtensions)
        self.transportCCID = keptExtensions.first { $0.uri == RTPHeaderExtensionURI.transportWideCC }?.id ?? 0
        self.clockRate = producer.parameters.codecs[0].clockRate
        self.munger = RTPMunger(
            clockRate: clockRate, initialSequenceNumber: UInt16.random(in: 0...UInt16.max, using: &generator),
            initialTimestamp: UInt32.random(in: 0...UInt32.max, using: &generator))
        self.rtxSequence = UInt16.random(in: 0...UInt16.max, using: &generator)
        self.sendPool = SendBufferPool(
            allocator: transport.allocator, capacity: producer.kind == .video ? 64 : 16, bufferSize: 0)
        // NACK answers need the ring: video always (browsers negotiate nack), audio when asked.
        // The ring allocates lazily (nothing until media flows) from the worker's budget; a
        // consumer is refused once the budget cannot hold one more ring's first slots.
        if usesNACK || producer.kind == .video {
            let slots = producer.kind == .video ? transport.worker.configuration.retransmissionSlots : 128
            let budget = transport.worker.retransmissionBudget
            let first = RetransmissionRing.initialSlots * RetransmissionRing.bytesPerSlot(slotSize: RetransmissionRing.defaultSlotSize)
            guard budget.canReserve(first) else {
                transport.worker.metrics.limitExceeded.increment()
                throw SFUError(
                    .limitExceeded,
                    detail: "the media worker's retransmission budget (\(budget.limitBytes) bytes) is exhausted")
            }
            self.ring = RetransmissionRing(capacity: slots, budget: budget)
        } else {
            self.ring = nil
        }
        self.paused = paused
        self.waitingForKeyframe = producer.kind == .video
        var vp8 = [Bool](repeating: false, count: 128)
        for codec in producer.parameters.codecs where codec.codecName.lowercased() == "vp8" && codec.payloadType < 128 {
            vp8[Int(codec.payloadType)] = true
        }
        self.vp8PayloadTypes = vp8
        self.pictureMunger = producer.streams.count > 1 && vp8.contains(true) ? VP8PictureMunger() : nil
    }

    // MARK: Public API

    /// Stops sending (mute). The subscriber sees no gap in sequence numbers after ``resume()``.
    public func pause() async {
        _ = await transport.worker.eventLoop.runOnLoop { () -> Bool in
            self.paused = true
            return true
        }
    }

    /// Sends again; video restarts at the next keyframe (requested now).
    public func resume() async {
        _ = await transport.worker.eventLoop.runOnLoop { () -> Bool in
            guard self.paused else { return true }
            self.paused = false
            self.munger.markSwitch()
            if self.kind == .video { self.waitingForKeyframe = true }
            self.requestKeyframe(nowNanoseconds: monotonicNanoseconds())
            return true
        }
    }

    /// Asks the publisher for a keyframe (throttled per producer stream).
    public func requestKeyFrame() async {
        _ = await transport.worker.eventLoop.runOnLoop { () -> Bool in
            self.requestKeyframe(nowNanoseconds: monotonicNanoseconds())
            return true
        }
    }

    /// Which simulcast encoding to forward (see ``LayerPreference``). A switch happens at the next
    /// keyframe of the new encoding, which is requested now; the preference is re-applied as the
    /// publisher's encodings start and stop. No effect on a producer with one encoding.
    public func setLayerPreference(_ preference: LayerPreference) async {
        _ = await transport.worker.eventLoop.runOnLoop { () -> Bool in
            self.preference = preference
            self.updateLayer(nowNanoseconds: monotonicNanoseconds())
            return true
        }
    }

    public func stats() async -> ConsumerStats {
        await transport.worker.eventLoop.runOnLoop { () -> ConsumerStats in
            let streams = self.producer?.streams ?? []
            return ConsumerStats(
                packetsSent: self.packetsSent, bytesSent: self.bytesSent, nacksReceived: self.nacksReceived,
                retransmissionsSent: self.retransmissionsSent, keyframeRequestsReceived: self.keyframeRequestsReceived,
                paused: self.paused, waitingForKeyframe: self.waitingForKeyframe,
                rid: streams.indices.contains(self.selectedStream) ? streams[self.selectedStream].rid : nil,
                switchingToRID: self.pendingStream.flatMap { streams.indices.contains($0) ? streams[$0].rid : nil })
        } ?? ConsumerStats(
            packetsSent: 0, bytesSent: 0, nacksReceived: 0, retransmissionsSent: 0, keyframeRequestsReceived: 0,
            paused: true, waitingForKeyframe: false, rid: nil, switchingToRID: nil)
    }

    public func close() async {
        _ = await transport.worker.eventLoop.runOnLoop { () -> Bool in
            self.closeOnLoop()
            return true
        }
    }

    // MARK: Loop-confined

    private var pendingStream: Int?

    func start(nowNanoseconds now: UInt64) {
        updateLayer(nowNanoseconds: now)
        if !paused { requestKeyframe(nowNanoseconds: now) }
    }

    /// Simulcast: moves towards the encoding the preference picks among the active ones. Before
    /// anything was forwarded (or while waiting for a keyframe anyway) the choice is immediate;
    /// otherwise the current encoding is forwarded until the new one's keyframe arrives.
    func updateLayer(nowNanoseconds now: UInt64) {
        guard let producer, producer.streams.count > 1, !closed,
            let target = producer.preferredStream(for: preference, nowNanoseconds: now)
        else { return }
        if target == selectedStream {
            pendingStream = nil
            return
        }
        guard target != pendingStream else { return }
        if waitingForKeyframe {
            selectedStream = target
            pendingStream = nil
        } else {
            pendingStream = target
        }
        guard !paused else { return }
        lastKeyframeRequest = now
        producer.requestKeyframe(streamIndex: target, nowNanoseconds: now)
    }

    func transportConnected(nowNanoseconds now: UInt64) {
        if waitingForKeyframe, !paused { requestKeyframe(nowNanoseconds: now) }
    }

    func closeOnLoop() {
        guard !closed else { return }
        closed = true
        ring?.release()
        // The subscriber learns that the track ended (its transport may stay for other tracks).
        transport.sendBye(sources: [ssrc] + (rtxSSRC.map { [$0] } ?? []), reason: "track ended")
        producer?.removeConsumer(self)
        transport.consumerClosed(self)
    }

    func requestKeyframe(nowNanoseconds now: UInt64) {
        guard kind == .video else { return }
        lastKeyframeRequest = now
        producer?.requestKeyframe(streamIndex: pendingStream ?? selectedStream, nowNanoseconds: now)
    }

    /// The RTCP timer: simulcast layer selection, and a consumer still waiting for a keyframe
    /// (to start, or to switch encodings) asks again every second.
    func rerequestKeyframe(nowNanoseconds now: UInt64) {
        updateLayer(nowNanoseconds: now)
        guard waitingForKeyframe || pendingStream != nil, !paused, !closed, now &- lastKeyframeRequest >= 1_000_000_000
        else { return }
        requestKeyframe(nowNanoseconds: now)
    }

    /// A subscriber's PLI/FIR for this consumer.
    func receivedKeyframeRequest(nowNanoseconds now: UInt64) {
        keyframeRequestsReceived += 1
        metrics.keyframeRequestsReceived.increment()
        requestKeyframe(nowNanoseconds: now)
    }

    /// The forwarding hot path: gate, rewrite, keep for NACKs, protect, send. Returns whether the
    /// packet was sent.
    func forward(_ packet: RTPPacket, streamIndex: Int, isKeyframe: Bool, arrivalNanoseconds arrival: UInt64) -> Bool {
        if let pendingStream, streamIndex == pendingStream, isKeyframe, !paused {
            // Simulcast switch at a keyframe of the target encoding: a new segment.
            selectedStream = pendingStream
            self.pendingStream = nil
            waitingForKeyframe = false
            munger.markSwitch()
            pictureMunger?.markSwitch()
        }
        // Nothing can be sent before DTLS-SRTP is up; in particular a keyframe must not be taken
        // as the start while it cannot reach the subscriber (the 1 s re-request asks again).
        guard streamIndex == selectedStream, !paused, !closed, transport.srtp != nil else { return false }
        let payloadType = payloadTypeMap[Int(packet.payloadType)]
        guard payloadType != 0xFF else { return false }
        if waitingForKeyframe {
            guard isKeyframe else { return false }
            waitingForKeyframe = false
            munger.markSwitch()
            pictureMunger?.markSwitch()
        }
        guard let output = munger.rewrite(
            ssrc: packet.ssrc, sequenceNumber: packet.sequenceNumber, timestamp: packet.timestamp,
            arrivalNanoseconds: arrival)
        else { return false }
        var (slot, buffer) = sendPool.checkOut(minimumCapacity: packet.encodedSize + SRTPSession.maximumTrailerLength)
        defer { sendPool.checkIn(buffer, at: slot) }
        buffer.writeImmutableBuffer(packet.buffer)
        let transportSequence = transport.transportSequence
        if transportCCID != 0 { transport.transportSequence &+= 1 }
        let munges = pictureMunger != nil && vp8PayloadTypes[Int(packet.payloadType)]
        let rewritten = buffer.withUnsafeMutableReadableBytes { bytes in
            if munges { pictureMunger?.rewrite(bytes, payloadOffset: packet.payloadOffset) }
            return EgressRewriter.rewrite(
                bytes, ssrc: ssrc, sequenceNumber: output.sequenceNumber, timestamp: output.timestamp,
                payloadType: payloadType, extensionMap: extensionMap, transportCCID: transportCCID,
                transportSequence: transportSequence)
        }
        guard rewritten else { return false }
        ring?.store(buffer, extendedSequenceNumber: output.extendedSequenceNumber, nowNanoseconds: arrival)
        let size = buffer.readableBytes
        guard transport.sendRTP(&buffer) else { return false }
        packetsSent += 1
        bytesSent += UInt64(size)
        payloadBytesSent += UInt64(packet.payloadLength)
        counters.record(bytes: size)
        return true
    }

    /// Answers a NACK (RFC 4585 §6.2.1) from the ring: RTX (RFC 4588 §4) when negotiated, else the
    /// packet again with its own sequence number.
    func retransmit(sequenceNumbers: [UInt16]) {
        nacksReceived += 1
        metrics.nacksReceived.increment()
        metrics.nackedPackets.increment(by: sequenceNumbers.count)
        guard let ring else { return }
        for sequence in sequenceNumbers {
            var buffer = transport.allocator.buffer(capacity: ring.slotSize + 2 + SRTPSession.maximumTrailerLength)
            let built: Bool = ring.withPacket(sequenceNumber: sequence) { original, _ in
                if let rtxSSRC, original.count >= 2 {
                    let mediaType = original[1] & 0x7F
                    let rtxType = rtxPayloadTypeMap[Int(mediaType)]
                    if rtxType != 0xFF {
                        let rtxSequence = self.rtxSequence
                        self.rtxSequence &+= 1
                        let length = buffer.withUnsafeMutableWritableBytes { out in
                            EgressRewriter.writeRTX(
                                from: original, ssrc: rtxSSRC, sequenceNumber: rtxSequence, payloadType: rtxType,
                                into: out)
                        }
                        guard let length else { return false }
                        buffer.moveWriterIndex(forwardBy: length)
                        return true
                    }
                }
                buffer.writeBytes(original)
                return true
            } ?? false
            guard built else {
                metrics.retransmissionMissing.increment()
                continue
            }
            let size = buffer.readableBytes
            if transport.sendRTP(&buffer) {
                retransmissionsSent += 1
                bytesSent += UInt64(size)
                metrics.retransmitted.increment()
            }
        }
    }

    /// The sender report of this consumer's stream (RFC 3550 §6.4.1), its RTP timestamp
    /// extrapolated from the last packet sent to `ntp`'s moment.
    func senderReport(ntp: UInt64, nowNanoseconds now: UInt64) -> RTCPSenderReport? {
        guard packetsSent > 0 else { return nil }
        let elapsedMicros = min(now &- munger.lastSentNanoseconds, 3_600_000_000_000) / 1000
        let ticks = UInt32(truncatingIfNeeded: elapsedMicros * UInt64(clockRate) / 1_000_000)
        return RTCPSenderReport(
            ssrc: ssrc, ntpTimestamp: ntp, rtpTimestamp: munger.lastTimestamp &+ ticks,
            packetCount: UInt32(truncatingIfNeeded: packetsSent),
            octetCount: UInt32(truncatingIfNeeded: payloadBytesSent))
    }
}
