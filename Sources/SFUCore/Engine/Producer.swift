import Codecs
import NIOCore
import SFUWire

/// Receive statistics of one producer stream (one encoding).
public struct RTPStreamStats: Hashable, Sendable {
    public var ssrc: UInt32
    public var rid: String?
    public var packetsReceived: UInt64
    public var bytesReceived: UInt64
    public var packetsLost: UInt64
    /// Interarrival jitter in timestamp units.
    public var jitter: Double
    public var keyframesReceived: UInt64
    /// Keyframe requests (PLI/FIR) sent to the publisher for this stream, after throttling.
    public var keyframeRequestsSent: UInt64
}

/// One encoding of a producer: its SSRCs once known, receive state and keyframe-request throttle.
final class ProducerStream {
    let rid: String?
    private(set) var ssrc: UInt32?
    let rtxSSRC: UInt32?
    private(set) var recv: RTPStreamRecv?
    var throttle = KeyframeRequestThrottle()
    var firSequence: UInt8 = 0
    let counters: StreamCounters
    let clockRate: UInt32

    init(encoding: RTPEncodingParameters, clockRate: UInt32, kind: MediaKind) {
        rid = encoding.rid
        rtxSSRC = encoding.rtxSSRC
        self.clockRate = clockRate
        counters = StreamCounters(kind: kind, inbound: true)
        if let ssrc = encoding.ssrc { bind(ssrc: ssrc) }
    }

    func bind(ssrc: UInt32) {
        self.ssrc = ssrc
        recv = RTPStreamRecv(ssrc: ssrc, clockRate: clockRate, rid: rid)
    }

    func withRecv<T>(_ body: (inout RTPStreamRecv) -> T) -> T? {
        guard var state = recv else { return nil }
        recv = nil  // keep `state` uniquely referenced while it mutates
        defer { recv = state }
        return body(&state)
    }
}

/// A publisher's track (mediasoup's `Producer`): one ``RTPStreamRecv`` per SSRC, fanned out to
/// its consumers on the router's loop.
public final class Producer: @unchecked Sendable {
    public let id: UInt64
    public let kind: MediaKind
    /// The parameters it was created with.
    public let parameters: RTPParameters
    let router: Router
    private(set) weak var transport: WebRTCTransport?
    let streams: [ProducerStream]
    private(set) var consumers: [Consumer] = []
    private(set) var closed = false
    /// Codec index by payload type, -1 for none.
    private var codecByPayloadType: [Int8]
    private let videoCodecs: [VideoPayloadCodec?]
    private let metrics: SFUMetrics
    /// RFC 6464 `ssrc-audio-level` extension id (0: not negotiated) and the loudness collected
    /// since the last ``takeAudioLevel()`` (loop-confined, no allocation per packet).
    private let audioLevelID: UInt8
    private var loudnessSum: UInt32 = 0
    private var loudnessPackets: UInt32 = 0

    init(kind: MediaKind, parameters: RTPParameters, transport: WebRTCTransport) throws(SFUError) {
        guard !parameters.codecs.isEmpty, parameters.codecs.count < 127 else {
            throw SFUError(.invalidParameters, detail: "a producer needs 1...126 codecs")
        }
        var table = [Int8](repeating: -1, count: 128)
        var videoCodecs: [VideoPayloadCodec?] = []
        for (index, codec) in parameters.codecs.enumerated() {
            guard codec.payloadType < 128, table[Int(codec.payloadType)] < 0, codec.clockRate > 0 else {
                throw SFUError(.invalidParameters, detail: "payload type \(codec.payloadType) invalid or repeated")
            }
            guard codec.mimeType.lowercased().hasPrefix(kind.rawValue + "/") else {
                throw SFUError(.invalidParameters, detail: "\(codec.mimeType) in a \(kind.rawValue) producer")
            }
            table[Int(codec.payloadType)] = Int8(index)
            let video = VideoPayloadCodec(rawValue: codec.codecName)
            if kind == .video, video == nil {
                throw SFUError(.unsupportedCodec, detail: codec.mimeType)
            }
            videoCodecs.append(video)
        }
        let encodings = parameters.encodings.isEmpty ? [RTPEncodingParameters()] : parameters.encodings
        let clockRate = parameters.codecs[0].clockRate
        var generator = SystemRandomNumberGenerator()
        self.id = generator.next()
        self.kind = kind
        self.parameters = parameters
        self.router = transport.router
        self.transport = transport
        self.streams = encodings.map { ProducerStream(encoding: $0, clockRate: clockRate, kind: kind) }
        self.codecByPayloadType = table
        self.videoCodecs = videoCodecs
        self.metrics = transport.worker.metrics
        self.audioLevelID = kind == .audio
            ? parameters.headerExtensions.first { $0.uri == RTPHeaderExtensionURI.audioLevel }?.id ?? 0 : 0
    }

    /// The mean loudness of the audio received since the last call, from the RFC 6464 audio level
    /// (0 = silence … 127 = 0 dBov), and how many packets carried it; `nil` when the publisher does
    /// not send the extension. Drives active-speaker detection.
    public func takeAudioLevel() async -> (loudness: UInt8, packets: UInt32)? {
        await router.eventLoop.runOnLoop { () -> (loudness: UInt8, packets: UInt32)? in
            guard self.audioLevelID != 0 else { return nil }
            defer {
                self.loudnessSum = 0
                self.loudnessPackets = 0
            }
            guard self.loudnessPackets > 0 else { return (0, 0) }
            return (UInt8(clamping: self.loudnessSum / self.loudnessPackets), self.loudnessPackets)
        } ?? nil
    }

    // MARK: Public API

    /// Receive statistics per encoding (streams whose SSRC is not known yet are left out).
    public func stats() async -> [RTPStreamStats] {
        await router.eventLoop.runOnLoop { () -> [RTPStreamStats] in
            self.streams.compactMap { stream in
                guard let recv = stream.recv else { return nil }
                return RTPStreamStats(
                    ssrc: recv.ssrc, rid: recv.rid, packetsReceived: recv.packetsReceived,
                    bytesReceived: recv.bytesReceived, packetsLost: recv.packetsLost, jitter: recv.jitter,
                    keyframesReceived: recv.keyframesReceived, keyframeRequestsSent: stream.throttle.sent)
            }
        } ?? []
    }

    /// Closes the producer and all its consumers.
    public func close() async {
        _ = await router.eventLoop.runOnLoop { () -> Bool in
            self.closeOnLoop()
            return true
        }
    }

    // MARK: Loop-confined

    func closeOnLoop() {
        guard !closed else { return }
        closed = true
        for consumer in consumers { consumer.closeOnLoop() }
        consumers.removeAll()
        transport?.producerClosed(self)
    }

    func addConsumer(_ consumer: Consumer) {
        consumers.append(consumer)
    }

    func removeConsumer(_ consumer: Consumer) {
        consumers.removeAll { $0 === consumer }
    }

    func bind(streamIndex: Int, ssrc: UInt32) {
        streams[streamIndex].bind(ssrc: ssrc)
    }

    /// The codec index of a payload type, `nil` when the producer has none.
    @inline(__always)
    func codecIndex(payloadType: UInt8) -> Int? {
        let index = codecByPayloadType[Int(payloadType & 0x7F)]
        return index >= 0 ? Int(index) : nil
    }

    /// One decrypted packet of stream `streamIndex`: stats, then every consumer. Returns whether
    /// any consumer sent it.
    func receive(_ packet: RTPPacket, streamIndex: Int, arrivalNanoseconds arrival: UInt64) -> Bool {
        guard let codec = codecIndex(payloadType: packet.payloadType) else {
            metrics.drop(.unknownPayloadType)
            return false
        }
        let stream = streams[streamIndex]
        let isKeyframe = videoCodecs[codec]?.isKeyframe(payload: packet.payload) ?? false
        let reception = stream.withRecv {
            $0.receive(
                sequenceNumber: packet.sequenceNumber, timestamp: packet.timestamp, payloadLength: packet.payloadLength,
                isKeyframe: isKeyframe, arrivalNanoseconds: arrival)
        }
        if case .tooOld = reception {
            metrics.drop(.stale)
            return false
        }
        stream.counters.record(bytes: packet.encodedSize)
        if isKeyframe { stream.throttle.keyframeReceived() }
        // RFC 6464 §3: the low 7 bits are the level in -dBov (127 = silence).
        if audioLevelID != 0, let level = packet.extensionInteger(id: audioLevelID, as: UInt8.self),
            loudnessPackets < UInt32.max / 128
        {
            loudnessSum &+= 127 &- UInt32(level & 0x7F)
            loudnessPackets &+= 1
        }
        var sent = false
        for consumer in consumers {
            if consumer.forward(packet, streamIndex: streamIndex, isKeyframe: isKeyframe, arrivalNanoseconds: arrival) {
                sent = true
            }
        }
        return sent
    }

    // MARK: Keyframe requests

    /// A consumer wants a keyframe of stream `streamIndex`: PLI (or FIR when only `ccm fir` was
    /// negotiated) to the publisher, at most one per second per stream (later requests wait).
    func requestKeyframe(streamIndex: Int, nowNanoseconds now: UInt64) {
        guard kind == .video, streams.indices.contains(streamIndex) else { return }
        if streams[streamIndex].throttle.request(nowNanoseconds: now) { sendKeyframeRequest(streams[streamIndex]) }
    }

    func releasePendingKeyframeRequests(nowNanoseconds now: UInt64) {
        for stream in streams where stream.throttle.poll(nowNanoseconds: now) { sendKeyframeRequest(stream) }
    }

    private func sendKeyframeRequest(_ stream: ProducerStream) {
        guard let ssrc = stream.ssrc, let transport else { return }
        let wantsFIR = parameters.codecs.allSatisfy { !$0.hasFeedback(.pli) } && parameters.codecs.contains { $0.hasFeedback(.fir) }
        if wantsFIR { stream.firSequence &+= 1 }
        transport.sendKeyframeRequest(mediaSSRC: ssrc, fir: wantsFIR ? stream.firSequence : nil)
        metrics.keyframeRequestsSent.increment()
    }
}
