import Codecs
import NIOCore
import SFUWire
import Simulcast

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
    /// Media arrived in the last ``Producer/activityTimeout`` (a simulcast encoding the publisher
    /// stopped, for lack of bandwidth or CPU, is inactive).
    public var active: Bool
    /// The picture size of the last keyframe (VP8, VP9), when known.
    public var width: Int?
    public var height: Int?
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
    /// When the last packet with a payload arrived (0: never). Padding-only packets do not count.
    var lastMediaNanoseconds: UInt64 = 0
    /// The last keyframe's picture size (0: unknown).
    var width = 0
    var height = 0

    func isActive(nowNanoseconds now: UInt64) -> Bool {
        lastMediaNanoseconds != 0 && now &- lastMediaNanoseconds < Producer.activityTimeout
    }

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
            let now = monotonicNanoseconds()
            return self.streams.compactMap { stream in
                guard let recv = stream.recv else { return nil }
                return RTPStreamStats(
                    ssrc: recv.ssrc, rid: recv.rid, packetsReceived: recv.packetsReceived,
                    bytesReceived: recv.bytesReceived, packetsLost: recv.packetsLost, jitter: recv.jitter,
                    keyframesReceived: recv.keyframesReceived, keyframeRequestsSent: stream.throttle.sent,
                    active: stream.isActive(nowNanoseconds: now), width: stream.width > 0 ? stream.width : nil,
                    height: stream.height > 0 ? stream.height : nil)
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
        if packet.payloadLength > 0 { stream.lastMediaNanoseconds = arrival }
        if isKeyframe {
            stream.throttle.keyframeReceived()
            if let size = videoCodecs[codec]?.keyframeResolution(payload: packet.payload) {
                stream.width = size.width
                stream.height = size.height
            }
        }
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

    // MARK: Simulcast layers

    /// A stream that sent no media for this long is inactive (1.5 s: longer than a keyframe
    /// interval's worth of frame gaps at low frame rates, short enough to follow a stopped layer).
    static let activityTimeout: UInt64 = 1_500_000_000

    /// Whether stream `a` is a smaller picture than stream `b`: by the keyframe sizes when both are
    /// known, else by position (encodings are listed smallest first, as browsers' `sendEncodings`
    /// are by every SFU client library, and as mediasoup assumes).
    func isSmaller(_ a: Int, than b: Int) -> Bool {
        let pixelsA = streams[a].width * streams[a].height
        let pixelsB = streams[b].width * streams[b].height
        if pixelsA > 0, pixelsB > 0, pixelsA != pixelsB { return pixelsA < pixelsB }
        return a < b
    }

    /// The position of stream `index` from the smallest (0) to the largest.
    func sizePosition(_ index: Int) -> Int {
        var position = 0
        for other in streams.indices where other != index && isSmaller(other, than: index) { position += 1 }
        return position
    }

    /// The stream a consumer with `preference` should forward now: the largest active stream the
    /// preference allows, else the smallest active one; `nil` when no stream is active. No
    /// allocation (a handful of streams, compared pairwise).
    func preferredStream(for preference: LayerPreference, nowNanoseconds now: UInt64) -> Int? {
        var best: Int?
        var smallest: Int?
        for index in streams.indices where streams[index].isActive(nowNanoseconds: now) {
            if smallest.map({ isSmaller(index, than: $0) }) ?? true { smallest = index }
            guard allows(preference, index) else { continue }
            if best.map({ isSmaller($0, than: index) }) ?? true { best = index }
        }
        return best ?? smallest
    }

    private func allows(_ preference: LayerPreference, _ index: Int) -> Bool {
        switch preference {
        case .highest:
            return true
        case .position(let maximum):
            return sizePosition(index) <= maximum
        case .maxSize(let width, let height):
            let stream = streams[index]
            // A stream of unknown size fits only as the smallest one.
            guard stream.width > 0, stream.height > 0 else { return sizePosition(index) == 0 }
            return stream.width <= width && stream.height <= height
        }
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
