import Codecs
import NIOCore

/// Pre-encoded media a load publisher replays in a loop: the RTP payloads of each frame, encoded
/// once at start-up by the project's own codec owners (libvpx, libopus), so that packet sizes and
/// pacing are those of real streams while sending costs no encoding.
public struct BenchMediaClip: Sendable {
    public struct Frame: Sendable {
        public var payloads: [[UInt8]]
        public var isKeyframe: Bool
    }

    public let frames: [Frame]
    /// RTP timestamp units between frames.
    public let timestampStep: UInt32
    /// Time between frames.
    public let frameInterval: Duration
    /// Average payload bit rate of one loop.
    public let bitsPerSecond: Double

    /// Bytes at the end of every payload of at least ``stampedMinimum`` bytes that carry the send
    /// time (monotonic nanoseconds, big endian), so subscribers can measure one-way delay. The
    /// SFU never reads them: it parses only the payload descriptor and the first frame bytes.
    public static let stampLength = 8
    public static let stampedMinimum = 48

    /// `frameCount` VP8 frames of the synthetic sequence at `width`×`height`, `kbps`, 30 fps; one
    /// keyframe at the start of the loop (the publisher restarts the loop on PLI).
    public static func vp8(width: Int, height: Int, kbps: Int, frameCount: Int = 90) throws -> BenchMediaClip {
        var settings = VPXEncoderSettings(codec: .vp8, width: width, height: height)
        settings.bitrateKbps = kbps
        settings.framerate = 30
        settings.keyframeInterval = frameCount
        settings.threads = 2
        let encoder = try VPXEncoder(settings)
        let source = SyntheticVideo(width: width, height: height)
        let picture = try I420Frame(width: width, height: height)
        var packetizer = VP8Packetizer(maxPayloadSize: 1_100)
        var frames: [Frame] = []
        var bytes = 0
        for index in 0..<frameCount {
            try source.render(index, into: picture)
            for encoded in try encoder.encode(picture, pts: Int64(index), forceKeyframe: index == 0) {
                let payloads = try packetizer.packetize(frame: ByteBuffer(bytes: encoded.bytes), timestamp: UInt32(index) * 3_000)
                let arrays = payloads.map { Array($0.payload.readableBytesView) }
                bytes += arrays.reduce(0) { $0 + $1.count }
                frames.append(Frame(payloads: arrays, isKeyframe: encoded.isKeyframe))
            }
        }
        let seconds = Double(max(frames.count, 1)) / 30
        return BenchMediaClip(
            frames: frames, timestampStep: 3_000, frameInterval: .microseconds(33_333),
            bitsPerSecond: Double(bytes * 8) / seconds)
    }

    /// 20 ms Opus packets of the synthetic tone at `kbps`, stereo.
    public static func opus(kbps: Int = 48, frameCount: Int = 100) throws -> BenchMediaClip {
        var settings = OpusEncoderSettings()
        settings.bitrate = kbps * 1_000
        let encoder = try OpusEncoder(settings)
        let source = SyntheticAudio(channels: settings.channels)
        var frames: [Frame] = []
        var bytes = 0
        for index in 0..<frameCount {
            let packet = try encoder.encode(source.block(index, frameSize: settings.frameSize), pts: Int64(index))
            bytes += packet.bytes.count
            frames.append(Frame(payloads: [packet.bytes], isKeyframe: true))
        }
        return BenchMediaClip(
            frames: frames, timestampStep: UInt32(settings.frameSize), frameInterval: .milliseconds(20),
            bitsPerSecond: Double(bytes * 8) / (Double(frameCount) * 0.02))
    }
}
