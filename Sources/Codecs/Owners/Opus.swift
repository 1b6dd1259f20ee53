// Owners of libopus encoder and decoder states (48 kHz, interleaved Int16 PCM).
import COpus

private func opusMessage(_ status: Int32) -> String {
    guard let text = opus_strerror(status) else { return "opus error \(status)" }
    return String(cString: text)
}

private func opusError(_ code: CodecError.Code, _ status: Int32, _ context: String) -> CodecError {
    let kind: CodecError.Code = status == OPUS_ALLOC_FAIL ? .outOfMemory : code
    return CodecError(kind, library: .opus, "\(context): \(opusMessage(status))")
}

/// Settings of an `OpusEncoder`. The sample rate is always 48 kHz (what WebRTC negotiates).
public struct OpusEncoderSettings: Sendable, Hashable {
    public enum Application: Sendable, Hashable { case voip, audio, lowDelay }

    public var channels: Int = 2
    public var bitrate: Int = 64_000
    /// 0 (fastest) ... 10 (best).
    public var complexity: Int = 10
    public var inbandFEC: Bool = false
    public var dtx: Bool = false
    /// Expected packet loss in percent (0...100); with `inbandFEC` the encoder spends bits on FEC.
    public var packetLossPercent: Int = 0
    public var application: Application = .voip
    /// Frame duration in samples per channel at 48 kHz: 120, 240, 480, 960 (20 ms), 1920 or 2880.
    public var frameSize: Int = 960

    public init() {}
}

/// One libopus encoder. Not thread-safe: use it from one task at a time.
public final class OpusEncoder {
    public static let sampleRate = 48_000
    public let settings: OpusEncoderSettings
    private let state: OpaquePointer
    private static let packetCapacity = 4_000  // RFC 6716 §3.2: a frame never exceeds 1275 bytes
    private let packet = UnsafeMutablePointer<UInt8>.allocate(capacity: OpusEncoder.packetCapacity)

    public init(_ settings: OpusEncoderSettings) throws(CodecError) {
        guard settings.channels == 1 || settings.channels == 2 else {
            throw CodecError(.invalidParameter, library: .opus, "channels must be 1 or 2, not \(settings.channels)")
        }
        guard [120, 240, 480, 960, 1920, 2880].contains(settings.frameSize) else {
            throw CodecError(.invalidParameter, library: .opus, "frame size \(settings.frameSize) is not 2.5...60 ms at 48 kHz")
        }
        guard (6_000...510_000).contains(settings.bitrate), (0...10).contains(settings.complexity),
              (0...100).contains(settings.packetLossPercent)
        else {
            throw CodecError(.invalidParameter, library: .opus,
                             "bitrate 6000...510000, complexity 0...10, packet loss 0...100 required")
        }
        let application: Int32 = switch settings.application {
        case .voip: OPUS_APPLICATION_VOIP
        case .audio: OPUS_APPLICATION_AUDIO
        case .lowDelay: OPUS_APPLICATION_RESTRICTED_LOWDELAY
        }
        var status: Int32 = OPUS_OK
        guard let state = opus_encoder_create(48_000, Int32(settings.channels), application, &status), status == OPUS_OK else {
            throw opusError(.initFailed, status, "opus_encoder_create")
        }
        self.state = state
        self.settings = settings
        let controls: [(String, Int32)] = [
            ("bitrate", commucat_opus_set_bitrate(state, Int32(settings.bitrate))),
            ("complexity", commucat_opus_set_complexity(state, Int32(settings.complexity))),
            ("inband FEC", commucat_opus_set_inband_fec(state, settings.inbandFEC ? 1 : 0)),
            ("packet loss", commucat_opus_set_packet_loss_perc(state, Int32(settings.packetLossPercent))),
            ("DTX", commucat_opus_set_dtx(state, settings.dtx ? 1 : 0)),
        ]
        for (name, result) in controls where result != OPUS_OK {
            throw opusError(.invalidParameter, result, "setting \(name)")
        }
    }

    deinit {
        opus_encoder_destroy(state)
        packet.deallocate()
    }

    /// Encodes exactly `frameSize × channels` interleaved samples into one packet.
    /// With DTX a silent frame yields a packet of 1–2 bytes (the caller may skip sending it).
    public func encode(_ pcm: UnsafeBufferPointer<Int16>, pts: Int64) throws(CodecError) -> EncodedFrame {
        let expected = settings.frameSize * settings.channels
        guard pcm.count == expected, let input = pcm.baseAddress else {
            throw CodecError(.invalidFrameSize, library: .opus, "expected \(expected) samples, got \(pcm.count)")
        }
        let written = opus_encode(state, input, Int32(settings.frameSize), packet, Int32(Self.packetCapacity))
        guard written >= 0 else { throw opusError(.encodeFailed, written, "opus_encode") }
        return EncodedFrame(bytes: Array(UnsafeBufferPointer(start: packet, count: Int(written))), isKeyframe: true, pts: pts)
    }

    /// Convenience over `encode(_:pts:)` for an array.
    public func encode(_ pcm: [Int16], pts: Int64) throws(CodecError) -> EncodedFrame {
        do {
            return try pcm.withUnsafeBufferPointer { buffer in try encode(buffer, pts: pts) }
        } catch let error as CodecError {
            throw error
        } catch {
            throw CodecError(.encodeFailed, library: .opus, "\(error)")
        }
    }
}

/// One libopus decoder at 48 kHz.
public final class OpusDecoder {
    public let channels: Int
    /// The longest packet Opus allows is 120 ms (RFC 6716 §3.2.5).
    public static let maxFrameSize = 5_760
    private let state: OpaquePointer
    private let pcm: UnsafeMutablePointer<Int16>

    public init(channels: Int) throws(CodecError) {
        guard channels == 1 || channels == 2 else {
            throw CodecError(.invalidParameter, library: .opus, "channels must be 1 or 2, not \(channels)")
        }
        var status: Int32 = OPUS_OK
        guard let state = opus_decoder_create(48_000, Int32(channels), &status), status == OPUS_OK else {
            throw opusError(.initFailed, status, "opus_decoder_create")
        }
        self.state = state
        self.channels = channels
        pcm = .allocate(capacity: Self.maxFrameSize * channels)
    }

    deinit {
        opus_decoder_destroy(state)
        pcm.deallocate()
    }

    /// Decodes one packet; returns interleaved PCM (`samples per channel × channels` values).
    public func decode(_ packet: [UInt8]) throws(CodecError) -> [Int16] {
        guard !packet.isEmpty else {
            throw CodecError(.decodeFailed, library: .opus, "empty packet (use concealLoss for a lost one)")
        }
        return try run(packet, frameSize: Self.maxFrameSize, fec: false)
    }

    /// Produces audio for a lost packet of `frameSize` samples per channel. With the packet that
    /// followed it, the decoder recovers the loss from that packet's in-band FEC data (when the
    /// encoder sent some; otherwise Opus falls back to concealment); without it, it conceals (PLC).
    public func concealLoss(frameSize: Int, nextPacket: [UInt8]? = nil) throws(CodecError) -> [Int16] {
        guard frameSize > 0, frameSize <= Self.maxFrameSize, frameSize % 120 == 0 else {
            throw CodecError(.invalidParameter, library: .opus, "lost frame size \(frameSize) is not a multiple of 2.5 ms")
        }
        if let nextPacket, !nextPacket.isEmpty {
            return try run(nextPacket, frameSize: frameSize, fec: true)
        }
        return try run(nil, frameSize: frameSize, fec: false)
    }

    private func run(_ packet: [UInt8]?, frameSize: Int, fec: Bool) throws(CodecError) -> [Int16] {
        let samples: Int32
        if let packet {
            samples = packet.withUnsafeBufferPointer { input in
                opus_decode(state, input.baseAddress, Int32(input.count), pcm, Int32(frameSize), fec ? 1 : 0)
            }
        } else {
            samples = opus_decode(state, nil, 0, pcm, Int32(frameSize), 0)
        }
        guard samples >= 0 else { throw opusError(.decodeFailed, samples, "opus_decode") }
        return Array(UnsafeBufferPointer(start: pcm, count: Int(samples) * channels))
    }

    /// Forgets all decoder history (as after a seek).
    public func reset() { _ = commucat_opus_reset_decoder(state) }
}
