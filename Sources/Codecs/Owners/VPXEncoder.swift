// Owner of one libvpx encoder context (VP8 or VP9), configured for real-time use.
import CVPX

/// The two codecs libvpx provides.
public enum VPXCodec: String, Sendable, Hashable, CaseIterable {
    case vp8, vp9
}

func vpxError(_ code: CodecError.Code, _ context: inout vpx_codec_ctx_t, _ status: vpx_codec_err_t, _ what: String) -> CodecError {
    var message = String(cString: vpx_codec_err_to_string(status))
    if let detail = vpx_codec_error_detail(&context) { message += " (\(String(cString: detail)))" }
    let kind: CodecError.Code = status == VPX_CODEC_MEM_ERROR ? .outOfMemory : code
    return CodecError(kind, library: .vpx, "\(what): \(message)")
}

/// Settings of a `VPXEncoder`. Rate control is CBR, lag is zero and frames are never dropped, as a
/// WebRTC sender runs it.
public struct VPXEncoderSettings: Sendable, Hashable {
    public var codec: VPXCodec
    public var width: Int
    public var height: Int
    /// Target bitrate in kbit/s.
    public var bitrateKbps: Int = 1_000
    public var framerate: Int = 30
    public var threads: Int = 1
    /// Maximum distance between key frames, in frames.
    public var keyframeInterval: Int = 300
    /// libvpx speed: VP8 -16...16, VP9 -9...9. For VP9 higher is faster (realtime uses 5...9).
    /// For VP8 in real-time mode a negative value is a fixed speed (libwebrtc uses −6), while a
    /// positive one makes libvpx adapt its speed to spend about n/16 of each frame interval.
    public var cpuUsed: Int = 8
    /// 1 (no scalability), 2 (pattern 0,1) or 3 (pattern 0,2,1,2).
    public var temporalLayers: Int = 1
    public var minQuantizer: Int = 2
    public var maxQuantizer: Int = 56

    public init(codec: VPXCodec, width: Int, height: Int) {
        self.codec = codec
        self.width = width
        self.height = height
    }
}

/// One libvpx encoder. Not thread-safe: use it from one task at a time.
public final class VPXEncoder {
    public let settings: VPXEncoderSettings
    private var context = vpx_codec_ctx_t()
    private var image = vpx_image_t()
    private var patternIndex = 0

    /// The layer pattern per period (RFC 7741 §4.2 TL0PICIDX semantics rest on TL0 = 0).
    private var pattern: [Int] {
        switch settings.temporalLayers {
        case 2: [0, 1]
        case 3: [0, 2, 1, 2]
        default: [0]
        }
    }

    public init(_ settings: VPXEncoderSettings) throws(CodecError) {
        guard (16...16_384).contains(settings.width), (16...16_384).contains(settings.height) else {
            throw CodecError(.invalidFrameSize, library: .vpx, "picture size \(settings.width)x\(settings.height) is outside 16...16384")
        }
        let speedRange = settings.codec == .vp8 ? -16...16 : -9...9
        guard (1...1_000_000).contains(settings.bitrateKbps), (1...240).contains(settings.framerate),
              (1...64).contains(settings.threads), settings.keyframeInterval >= 1,
              speedRange.contains(settings.cpuUsed), (1...3).contains(settings.temporalLayers),
              (0...63).contains(settings.minQuantizer), (settings.minQuantizer...63).contains(settings.maxQuantizer)
        else {
            throw CodecError(.invalidParameter, library: .vpx, "bitrate, framerate, threads, keyframe interval, cpu-used, layers or quantizers out of range")
        }
        self.settings = settings
        let iface = settings.codec == .vp8 ? vpx_codec_vp8_cx() : vpx_codec_vp9_cx()
        var cfg = vpx_codec_enc_cfg_t()
        var status = vpx_codec_enc_config_default(iface, &cfg, 0)
        guard status == VPX_CODEC_OK else { throw vpxError(.initFailed, &context, status, "vpx_codec_enc_config_default") }
        cfg.g_w = UInt32(settings.width)
        cfg.g_h = UInt32(settings.height)
        cfg.g_timebase = vpx_rational(num: 1, den: Int32(settings.framerate))
        cfg.g_threads = UInt32(settings.threads)
        cfg.g_lag_in_frames = 0
        cfg.g_pass = VPX_RC_ONE_PASS
        cfg.rc_end_usage = VPX_CBR
        cfg.rc_target_bitrate = UInt32(settings.bitrateKbps)
        cfg.rc_min_quantizer = UInt32(settings.minQuantizer)
        cfg.rc_max_quantizer = UInt32(settings.maxQuantizer)
        cfg.rc_dropframe_thresh = 0
        cfg.kf_mode = VPX_KF_AUTO
        cfg.kf_min_dist = 0
        cfg.kf_max_dist = UInt32(settings.keyframeInterval)
        if settings.temporalLayers > 1 { configureTemporalLayers(&cfg) }
        status = commucat_vpx_codec_enc_init(&context, iface, &cfg, 0)
        guard status == VPX_CODEC_OK else { throw vpxError(.initFailed, &context, status, "vpx_codec_enc_init") }
        do {
            try control(VP8E_SET_CPUUSED, settings.cpuUsed, "cpu-used")
            if settings.codec == .vp9, settings.temporalLayers > 1 { try enableVP9TemporalScalability(cfg) }
        } catch {
            vpx_codec_destroy(&context)
            throw error
        }
    }

    deinit { vpx_codec_destroy(&context) }

    /// ts_* configuration: layer bitrates are cumulative (60/100 % or 50/70/100 %, a common split).
    private func configureTemporalLayers(_ cfg: inout vpx_codec_enc_cfg_t) {
        let layers = settings.temporalLayers
        let shares: [Int] = layers == 2 ? [60, 100] : [50, 70, 100]
        let decimators: [UInt32] = layers == 2 ? [2, 1] : [4, 2, 1]
        cfg.ts_number_layers = UInt32(layers)
        cfg.ts_periodicity = UInt32(pattern.count)
        cfg.g_error_resilient = vpx_codec_er_flags_t(VPX_ERROR_RESILIENT_DEFAULT)
        withUnsafeMutableBytes(of: &cfg.ts_target_bitrate) { raw in
            let rates = raw.bindMemory(to: UInt32.self)
            for layer in 0..<layers { rates[layer] = UInt32(settings.bitrateKbps * shares[layer] / 100) }
        }
        withUnsafeMutableBytes(of: &cfg.ts_rate_decimator) { raw in
            let values = raw.bindMemory(to: UInt32.self)
            for layer in 0..<layers { values[layer] = decimators[layer] }
        }
        withUnsafeMutableBytes(of: &cfg.ts_layer_id) { raw in
            let ids = raw.bindMemory(to: UInt32.self)
            for (index, layer) in pattern.enumerated() { ids[index] = UInt32(layer) }
        }
        if settings.codec == .vp9 {
            cfg.temporal_layering_mode = Int32(layers == 2 ? VP9E_TEMPORAL_LAYERING_MODE_0101.rawValue : VP9E_TEMPORAL_LAYERING_MODE_0212.rawValue)
        }
    }

    /// VP9 runs temporal layers through its SVC machinery with one spatial layer at full size.
    private func enableVP9TemporalScalability(_ cfg: vpx_codec_enc_cfg_t) throws(CodecError) {
        try control(VP9E_SET_SVC, 1, "svc")
        var params = vpx_svc_extra_cfg_t()
        withUnsafeMutableBytes(of: &params.max_quantizers) { raw in
            let values = raw.bindMemory(to: Int32.self)
            for index in 0..<settings.temporalLayers { values[index] = Int32(cfg.rc_max_quantizer) }
        }
        withUnsafeMutableBytes(of: &params.min_quantizers) { raw in
            let values = raw.bindMemory(to: Int32.self)
            for index in 0..<settings.temporalLayers { values[index] = Int32(cfg.rc_min_quantizer) }
        }
        withUnsafeMutableBytes(of: &params.scaling_factor_num) { $0.bindMemory(to: Int32.self)[0] = 1 }
        withUnsafeMutableBytes(of: &params.scaling_factor_den) { $0.bindMemory(to: Int32.self)[0] = 1 }
        let status = commucat_vpx_codec_control_ptr(&context, Int32(VP9E_SET_SVC_PARAMETERS.rawValue), &params)
        guard status == VPX_CODEC_OK else { throw vpxError(.initFailed, &context, status, "svc parameters") }
    }

    private func control<Control: RawRepresentable>(_ id: Control, _ value: Int, _ name: String) throws(CodecError)
    where Control.RawValue: BinaryInteger {
        let status = commucat_vpx_codec_control_int(&context, Int32(id.rawValue), Int32(value))
        guard status == VPX_CODEC_OK else { throw vpxError(.invalidParameter, &context, status, name) }
    }

    /// VP8 reference flags per pattern position: base frames reference and update only LAST; the
    /// middle layer updates GOLDEN; top-layer frames update nothing, so a receiver can drop them.
    private func vp8Flags(layer: Int, position: Int) -> Int {
        let noRefGolden = Int(VP8_EFLAG_NO_REF_GF), noRefAlt = Int(VP8_EFLAG_NO_REF_ARF)
        let noUpdLast = Int(VP8_EFLAG_NO_UPD_LAST), noUpdGolden = Int(VP8_EFLAG_NO_UPD_GF)
        let noUpdAlt = Int(VP8_EFLAG_NO_UPD_ARF), noUpdEntropy = Int(VP8_EFLAG_NO_UPD_ENTROPY)
        switch (settings.temporalLayers, layer) {
        case (_, 0): return noRefGolden | noRefAlt | noUpdGolden | noUpdAlt
        case (2, _): return noRefGolden | noRefAlt | noUpdLast | noUpdGolden | noUpdAlt | noUpdEntropy
        case (3, 1): return noRefGolden | noRefAlt | noUpdLast | noUpdAlt | noUpdEntropy
        default:
            // Layer 2: the first one in a period may only see LAST; the second may also see GOLDEN (TL1).
            let golden = position == 1 ? noRefGolden : 0
            return golden | noRefAlt | noUpdLast | noUpdGolden | noUpdAlt | noUpdEntropy
        }
    }

    /// Encodes one picture of the configured size. Returns the frames libvpx produced (one per
    /// picture in this configuration). A forced key frame restarts the temporal pattern.
    public func encode(_ frame: I420Frame, pts: Int64, forceKeyframe: Bool = false) throws(CodecError) -> [EncodedFrame] {
        guard frame.width == settings.width, frame.height == settings.height else {
            throw CodecError(.invalidFrameSize, library: .vpx, "frame is \(frame.width)x\(frame.height), encoder is \(settings.width)x\(settings.height)")
        }
        // Wrap our planes: libvpx reads them in place.
        vpx_img_wrap(&image, VPX_IMG_FMT_I420, UInt32(frame.width), UInt32(frame.height), 64, frame.plane(0))
        image.planes = (frame.plane(0), frame.plane(1), frame.plane(2), nil)
        image.stride = (Int32(frame.stride(0)), Int32(frame.stride(1)), Int32(frame.stride(2)), 0)

        if forceKeyframe { patternIndex = 0 }
        let position = patternIndex % pattern.count
        let layer = pattern[position]
        var flags = forceKeyframe ? Int(VPX_EFLAG_FORCE_KF) : 0
        if settings.temporalLayers > 1, settings.codec == .vp8 {
            flags |= vp8Flags(layer: layer, position: position)
            try control(VP8E_SET_TEMPORAL_LAYER_ID, layer, "temporal layer id")
        }
        patternIndex += 1
        let status = vpx_codec_encode(&context, &image, pts, 1, vpx_enc_frame_flags_t(flags), UInt(VPX_DL_REALTIME))
        guard status == VPX_CODEC_OK else { throw vpxError(.encodeFailed, &context, status, "vpx_codec_encode") }
        return collect(layer: layer)
    }

    private func collect(layer: Int) -> [EncodedFrame] {
        var frames: [EncodedFrame] = []
        var reportedLayer: Int? = settings.temporalLayers > 1 ? layer : nil
        if settings.codec == .vp9, settings.temporalLayers > 1 {
            var id = vpx_svc_layer_id_t()
            if commucat_vpx_codec_control_ptr(&context, Int32(VP9E_GET_SVC_LAYER_ID.rawValue), &id) == VPX_CODEC_OK {
                reportedLayer = Int(id.temporal_layer_id)
            }
        }
        var iterator: vpx_codec_iter_t? = nil
        while let packet = vpx_codec_get_cx_data(&context, &iterator) {
            guard packet.pointee.kind == VPX_CODEC_CX_FRAME_PKT else { continue }
            let data = packet.pointee.data.frame
            guard let buffer = data.buf else { continue }
            let bytes = Array(UnsafeRawBufferPointer(start: buffer, count: data.sz))
            let isKey = (data.flags & vpx_codec_frame_flags_t(VPX_FRAME_IS_KEY)) != 0
            frames.append(EncodedFrame(bytes: bytes, isKeyframe: isKey, pts: data.pts, temporalLayer: reportedLayer))
        }
        return frames
    }
}
