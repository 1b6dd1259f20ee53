// Owner of one libaom AV1 encoder context in real-time usage.
import CAOM

/// Settings of an `AV1Encoder`: CBR, zero lag, libaom's `AOM_USAGE_REALTIME`.
public struct AV1EncoderSettings: Sendable, Hashable {
    public var width: Int
    public var height: Int
    /// Target bitrate in kbit/s.
    public var bitrateKbps: Int = 1_000
    public var framerate: Int = 30
    public var threads: Int = 1
    public var keyframeInterval: Int = 300
    /// libaom speed 0...10 (realtime usage runs 7...10).
    public var cpuUsed: Int = 9
    public var minQuantizer: Int = 4
    public var maxQuantizer: Int = 56

    public init(width: Int, height: Int) {
        self.width = width
        self.height = height
    }
}

/// One libaom encoder. Not thread-safe: use it from one task at a time.
public final class AV1Encoder {
    public let settings: AV1EncoderSettings
    private var context = aom_codec_ctx_t()
    private var image = aom_image_t()

    public init(_ settings: AV1EncoderSettings) throws(CodecError) {
        guard (16...16_384).contains(settings.width), (16...16_384).contains(settings.height) else {
            throw CodecError(.invalidFrameSize, library: .aom, "picture size \(settings.width)x\(settings.height) is outside 16...16384")
        }
        guard (1...1_000_000).contains(settings.bitrateKbps), (1...240).contains(settings.framerate),
              (1...64).contains(settings.threads), settings.keyframeInterval >= 1, (0...10).contains(settings.cpuUsed),
              (0...63).contains(settings.minQuantizer), (settings.minQuantizer...63).contains(settings.maxQuantizer)
        else {
            throw CodecError(.invalidParameter, library: .aom, "bitrate, framerate, threads, keyframe interval, cpu-used or quantizers out of range")
        }
        self.settings = settings
        var cfg = aom_codec_enc_cfg_t()
        var status = aom_codec_enc_config_default(aom_codec_av1_cx(), &cfg, UInt32(AOM_USAGE_REALTIME))
        guard status == AOM_CODEC_OK else { throw Self.error(.initFailed, &context, status, "aom_codec_enc_config_default") }
        cfg.g_w = UInt32(settings.width)
        cfg.g_h = UInt32(settings.height)
        cfg.g_timebase = aom_rational(num: 1, den: Int32(settings.framerate))
        cfg.g_threads = UInt32(settings.threads)
        cfg.g_lag_in_frames = 0
        cfg.g_pass = AOM_RC_ONE_PASS
        cfg.rc_end_usage = AOM_CBR
        cfg.rc_target_bitrate = UInt32(settings.bitrateKbps)
        cfg.rc_min_quantizer = UInt32(settings.minQuantizer)
        cfg.rc_max_quantizer = UInt32(settings.maxQuantizer)
        cfg.rc_dropframe_thresh = 0
        cfg.kf_mode = AOM_KF_AUTO
        cfg.kf_min_dist = 0
        cfg.kf_max_dist = UInt32(settings.keyframeInterval)
        status = commucat_aom_codec_enc_init(&context, aom_codec_av1_cx(), &cfg, 0)
        guard status == AOM_CODEC_OK else { throw Self.error(.initFailed, &context, status, "aom_codec_enc_init") }
        status = commucat_aom_codec_control_int(&context, Int32(AOME_SET_CPUUSED.rawValue), Int32(settings.cpuUsed))
        guard status == AOM_CODEC_OK else {
            let failure = Self.error(.invalidParameter, &context, status, "cpu-used")
            aom_codec_destroy(&context)
            throw failure
        }
    }

    deinit { aom_codec_destroy(&context) }

    static func error(_ code: CodecError.Code, _ context: inout aom_codec_ctx_t, _ status: aom_codec_err_t, _ what: String) -> CodecError {
        var message = String(cString: aom_codec_err_to_string(status))
        if let detail = aom_codec_error_detail(&context) { message += " (\(String(cString: detail)))" }
        return CodecError(status == AOM_CODEC_MEM_ERROR ? .outOfMemory : code, library: .aom, "\(what): \(message)")
    }

    /// Encodes one picture of the configured size; returns the temporal units libaom produced
    /// (one per picture in real-time usage), each a low-overhead OBU stream (AV1 §5.2).
    public func encode(_ frame: I420Frame, pts: Int64, forceKeyframe: Bool = false) throws(CodecError) -> [EncodedFrame] {
        guard frame.width == settings.width, frame.height == settings.height else {
            throw CodecError(.invalidFrameSize, library: .aom, "frame is \(frame.width)x\(frame.height), encoder is \(settings.width)x\(settings.height)")
        }
        // Wrap our planes: libaom reads them in place.
        aom_img_wrap(&image, AOM_IMG_FMT_I420, UInt32(frame.width), UInt32(frame.height), 64, frame.plane(0))
        image.planes = (frame.plane(0), frame.plane(1), frame.plane(2))
        image.stride = (Int32(frame.stride(0)), Int32(frame.stride(1)), Int32(frame.stride(2)))
        let flags = forceKeyframe ? aom_enc_frame_flags_t(AOM_EFLAG_FORCE_KF) : 0
        let status = aom_codec_encode(&context, &image, pts, 1, flags)
        guard status == AOM_CODEC_OK else { throw Self.error(.encodeFailed, &context, status, "aom_codec_encode") }
        var frames: [EncodedFrame] = []
        var iterator: aom_codec_iter_t? = nil
        while let packet = aom_codec_get_cx_data(&context, &iterator) {
            guard packet.pointee.kind == AOM_CODEC_CX_FRAME_PKT else { continue }
            let data = packet.pointee.data.frame
            guard let buffer = data.buf else { continue }
            let bytes = Array(UnsafeRawBufferPointer(start: buffer, count: data.sz))
            let isKey = (data.flags & aom_codec_frame_flags_t(AOM_FRAME_IS_KEY)) != 0
            frames.append(EncodedFrame(bytes: bytes, isKeyframe: isKey, pts: data.pts))
        }
        return frames
    }
}
