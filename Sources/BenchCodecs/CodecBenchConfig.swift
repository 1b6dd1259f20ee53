// What `commucat-bench codecs` measures and the shape of its results.
import Codecs

/// The five codecs of the benchmark, each with the libraries both sides use.
public enum BenchCodec: String, CaseIterable, Sendable, Codable {
    case opus, vp8, vp9, av1, h264

    public var isVideo: Bool { self != .opus }

    /// Encoder / decoder libraries on the CommuCat side.
    public var libraries: String {
        switch self {
        case .opus: "libopus / libopus"
        case .vp8, .vp9: "libvpx / libvpx"
        case .av1: "libaom / dav1d"
        case .h264: "x264 / openh264"
        }
    }
}

/// Settings shared by both sides of every measurement.
public struct CodecBenchConfig: Sendable {
    public var codecs: [BenchCodec] = BenchCodec.allCases
    public var width = 1_280
    public var height = 720
    /// Video frames encoded per codec; Opus encodes `10 × frames` packets of 20 ms.
    public var frames = 150
    /// Video target bitrate in kbit/s.
    public var bitrateKbps = 1_500
    public var audioBitrateKbps = 64
    public var threads = 2
    public var framerate = 30
    public var keyframeInterval = 300
    /// libvpx cpu-used for VP8. Negative: a fixed speed. A positive value makes VP8's real-time
    /// mode adapt its speed to use that share (n/16) of each frame's time budget, which turns a
    /// throughput benchmark into a measurement of the frame rate; libwebrtc runs VP8 at −6.
    public var vp8CpuUsed = -6
    /// libvpx cpu-used for VP9 (realtime: 5...9; fixed speed).
    public var vp9CpuUsed = 8
    /// libaom cpu-used in realtime usage (8 is the highest ffmpeg 5.1 accepts).
    public var aomCpuUsed = 8
    public var x264Preset = "veryfast"
    /// Also run the ffmpeg side (skipped with `--no-ffmpeg`).
    public var compareWithFFmpeg = true
    public var ffmpegPath = "ffmpeg"
    public var ffprobePath = "ffprobe"

    public init() {}

    public var audioPackets: Int { frames * 10 }
}

/// One side's numbers for one codec.
public struct CodecMeasurement: Sendable, Codable {
    /// Frames (video) or 20 ms packets (Opus) encoded per second of encoder time.
    public var encodeFPS: Double
    public var decodeFPS: Double
    /// Payload bitrate (container overhead excluded) in kbit/s of media time.
    public var bitrateKbps: Double
    /// Luma PSNR in dB (video); SNR in dB after delay alignment (Opus).
    public var psnrY: Double
    /// PSNR over Y, U and V in dB (video); the same SNR (Opus).
    public var psnr: Double
    public var frames: Int

    public init(encodeFPS: Double, decodeFPS: Double, bitrateKbps: Double, psnrY: Double, psnr: Double, frames: Int) {
        self.encodeFPS = encodeFPS
        self.decodeFPS = decodeFPS
        self.bitrateKbps = bitrateKbps
        self.psnrY = psnrY
        self.psnr = psnr
        self.frames = frames
    }
}

/// Both sides for one codec, with CommuCat ÷ ffmpeg ratios.
public struct CodecBenchResult: Sendable, Codable {
    public var codec: BenchCodec
    public var libraries: String
    public var ffmpegLibraries: String?
    public var commucat: CodecMeasurement
    public var ffmpeg: CodecMeasurement?

    public var encodeRatio: Double? { ffmpeg.map { commucat.encodeFPS / $0.encodeFPS } }
    public var decodeRatio: Double? { ffmpeg.map { commucat.decodeFPS / $0.decodeFPS } }

    enum CodingKeys: String, CodingKey {
        case codec, libraries, ffmpegLibraries, commucat, ffmpeg, encodeRatio, decodeRatio
    }

    public init(codec: BenchCodec, commucat: CodecMeasurement, ffmpeg: CodecMeasurement?, ffmpegLibraries: String?) {
        self.codec = codec
        self.libraries = codec.libraries
        self.commucat = commucat
        self.ffmpeg = ffmpeg
        self.ffmpegLibraries = ffmpegLibraries
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        codec = try container.decode(BenchCodec.self, forKey: .codec)
        libraries = try container.decode(String.self, forKey: .libraries)
        ffmpegLibraries = try container.decodeIfPresent(String.self, forKey: .ffmpegLibraries)
        commucat = try container.decode(CodecMeasurement.self, forKey: .commucat)
        ffmpeg = try container.decodeIfPresent(CodecMeasurement.self, forKey: .ffmpeg)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(codec, forKey: .codec)
        try container.encode(libraries, forKey: .libraries)
        try container.encodeIfPresent(ffmpegLibraries, forKey: .ffmpegLibraries)
        try container.encode(commucat, forKey: .commucat)
        try container.encodeIfPresent(ffmpeg, forKey: .ffmpeg)
        try container.encodeIfPresent(encodeRatio, forKey: .encodeRatio)
        try container.encodeIfPresent(decodeRatio, forKey: .decodeRatio)
    }
}

/// A failure of the benchmark itself (ffmpeg missing, a run failing, a file not written).
public struct BenchError: Error, Sendable, CustomStringConvertible {
    public var code: String
    public var message: String
    public var hint: String?

    public init(code: String, _ message: String, hint: String? = nil) {
        self.code = code
        self.message = message
        self.hint = hint
    }

    public var description: String { message }
}
