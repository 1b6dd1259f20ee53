// CodecsGPL: the x264 (GPL) encoder owner. Only commucat-bench links this target, never the
// commucat server binary, so the server stays MPL-2.0.
import CX264
import Codecs

/// Settings of an `X264Encoder`: ABR rate control, Annex-B output with SPS/PPS before each IDR.
public struct X264EncoderSettings: Sendable, Hashable {
    public var width: Int
    public var height: Int
    /// Target bitrate in kbit/s.
    public var bitrateKbps: Int = 1_000
    public var framerate: Int = 30
    /// Worker threads (0 lets x264 choose).
    public var threads: Int = 1
    public var keyframeInterval: Int = 300
    /// An x264 preset name: ultrafast, superfast, veryfast, faster, fast, medium, …
    public var preset: String = "veryfast"
    /// An x264 tune; `zerolatency` disables lookahead and B-frames (what real-time senders use).
    public var tune: String = "zerolatency"
    /// An H.264 profile x264 must stay within (`baseline` is what every WebRTC peer decodes), or nil.
    public var profile: String? = "baseline"

    public init(width: Int, height: Int) {
        self.width = width
        self.height = height
    }
}

/// One x264 encoder. Not thread-safe: use it from one task at a time.
public final class X264Encoder {
    public let settings: X264EncoderSettings
    private let encoder: OpaquePointer
    private var picture = x264_picture_t()

    public init(_ settings: X264EncoderSettings) throws(CodecError) {
        // x264 needs mod-2 sizes for 4:2:0.
        guard (16...16_384).contains(settings.width), (16...16_384).contains(settings.height),
              settings.width % 2 == 0, settings.height % 2 == 0
        else {
            throw CodecError(.invalidFrameSize, library: .x264, "picture size \(settings.width)x\(settings.height) must be even and within 16...16384")
        }
        guard (1...1_000_000).contains(settings.bitrateKbps), (1...240).contains(settings.framerate),
              (0...64).contains(settings.threads), settings.keyframeInterval >= 1
        else {
            throw CodecError(.invalidParameter, library: .x264, "bitrate, framerate, threads or keyframe interval out of range")
        }
        self.settings = settings
        // Checked here because x264 prints its own complaint to stderr otherwise.
        let tunes = settings.tune.split(separator: ",").map(String.init)
        guard Self.presets.contains(settings.preset), tunes.allSatisfy(Self.tunes.contains) else {
            throw CodecError(.invalidParameter, library: .x264, "unknown preset '\(settings.preset)' or tune '\(settings.tune)'")
        }
        var param = x264_param_t()
        guard x264_param_default_preset(&param, settings.preset, settings.tune) == 0 else {
            throw CodecError(.invalidParameter, library: .x264, "unknown preset '\(settings.preset)' or tune '\(settings.tune)'")
        }
        param.i_log_level = X264_LOG_NONE
        param.i_threads = Int32(settings.threads)
        param.i_width = Int32(settings.width)
        param.i_height = Int32(settings.height)
        param.i_csp = X264_CSP_I420
        param.i_fps_num = UInt32(settings.framerate)
        param.i_fps_den = 1
        param.i_timebase_num = 1
        param.i_timebase_den = UInt32(settings.framerate)
        param.i_keyint_max = Int32(settings.keyframeInterval)
        param.rc.i_rc_method = X264_RC_ABR
        param.rc.i_bitrate = Int32(settings.bitrateKbps)
        param.b_annexb = 1
        param.b_repeat_headers = 1
        if let profile = settings.profile, x264_param_apply_profile(&param, profile) != 0 {
            throw CodecError(.invalidParameter, library: .x264, "profile '\(profile)' does not fit these settings")
        }
        guard let encoder = commucat_x264_encoder_open(&param) else {
            throw CodecError(.initFailed, library: .x264, "x264_encoder_open refused the parameters")
        }
        self.encoder = encoder
        x264_picture_init(&picture)
    }

    deinit { x264_encoder_close(encoder) }

    /// x264's `x264_preset_names` and `x264_tune_names` (static arrays the C importer cannot see).
    public static let presets = ["ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow", "slower", "veryslow", "placebo"]
    public static let tunes = ["film", "animation", "grain", "stillimage", "psnr", "ssim", "fastdecode", "zerolatency"]

    /// Encodes one picture of the configured size into one Annex-B access unit (none while x264
    /// is still buffering, which `zerolatency` never does).
    public func encode(_ frame: I420Frame, pts: Int64, forceKeyframe: Bool = false) throws(CodecError) -> [EncodedFrame] {
        guard frame.width == settings.width, frame.height == settings.height else {
            throw CodecError(.invalidFrameSize, library: .x264, "frame is \(frame.width)x\(frame.height), encoder is \(settings.width)x\(settings.height)")
        }
        // x264 reads our planes in place (it copies them into its own lookahead buffers).
        picture.img.i_csp = X264_CSP_I420
        picture.img.i_plane = 3
        picture.img.plane = (frame.plane(0), frame.plane(1), frame.plane(2), nil)
        picture.img.i_stride = (Int32(frame.stride(0)), Int32(frame.stride(1)), Int32(frame.stride(2)), 0)
        picture.i_pts = pts
        picture.i_type = forceKeyframe ? X264_TYPE_IDR : X264_TYPE_AUTO
        return try run(&picture)
    }

    /// Drains frames x264 still holds (only with presets/tunes that buffer).
    public func flush() throws(CodecError) -> [EncodedFrame] {
        var frames: [EncodedFrame] = []
        for _ in 0..<1_000 where x264_encoder_delayed_frames(encoder) > 0 {
            frames += try run(nil)
        }
        return frames
    }

    private func run(_ input: UnsafeMutablePointer<x264_picture_t>?) throws(CodecError) -> [EncodedFrame] {
        var nals: UnsafeMutablePointer<x264_nal_t>? = nil
        var count: Int32 = 0
        var output = x264_picture_t()
        let size = x264_encoder_encode(encoder, &nals, &count, input, &output)
        guard size >= 0 else { throw CodecError(.encodeFailed, library: .x264, "x264_encoder_encode failed") }
        guard size > 0, count > 0, let first = nals?.pointee.p_payload else { return [] }
        // x264 guarantees the payloads of one call are contiguous in memory.
        let bytes = Array(UnsafeBufferPointer(start: first, count: Int(size)))
        return [EncodedFrame(bytes: bytes, isKeyframe: output.b_keyframe != 0, pts: output.i_pts)]
    }
}
