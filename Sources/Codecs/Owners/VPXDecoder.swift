// Owner of one libvpx decoder context (VP8 or VP9).
import CVPX

/// One libvpx decoder. Not thread-safe: use it from one task at a time.
public final class VPXDecoder {
    public let codec: VPXCodec
    private var context = vpx_codec_ctx_t()

    public init(codec: VPXCodec, threads: Int = 1) throws(CodecError) {
        guard (1...64).contains(threads) else {
            throw CodecError(.invalidParameter, library: .vpx, "threads must be 1...64, not \(threads)")
        }
        self.codec = codec
        var cfg = vpx_codec_dec_cfg_t(threads: UInt32(threads), w: 0, h: 0)
        let iface = codec == .vp8 ? vpx_codec_vp8_dx() : vpx_codec_vp9_dx()
        let status = commucat_vpx_codec_dec_init(&context, iface, &cfg, 0)
        guard status == VPX_CODEC_OK else { throw vpxError(.initFailed, &context, status, "vpx_codec_dec_init") }
    }

    deinit { vpx_codec_destroy(&context) }

    /// Decodes one compressed frame and calls `body` for each picture it yields (zero or one for
    /// VP8; VP9 superframes may hold a hidden frame plus a shown one). The view is valid only
    /// during the call. Returns the number of pictures.
    @discardableResult
    public func decode(_ data: [UInt8], pts: Int64 = 0, _ body: (I420View) -> Void) throws(CodecError) -> Int {
        guard !data.isEmpty, data.count <= Int(UInt32.max) else {
            throw CodecError(.decodeFailed, library: .vpx, "empty or oversized frame")
        }
        let status = data.withUnsafeBufferPointer { bytes in
            vpx_codec_decode(&context, bytes.baseAddress, UInt32(bytes.count), nil, 0)
        }
        guard status == VPX_CODEC_OK else { throw vpxError(.decodeFailed, &context, status, "vpx_codec_decode") }
        var iterator: vpx_codec_iter_t? = nil
        var count = 0
        while let image = vpx_codec_get_frame(&context, &iterator) {
            let img = image.pointee
            guard img.fmt == VPX_IMG_FMT_I420, let y = img.planes.0, let u = img.planes.1, let v = img.planes.2 else {
                throw CodecError(.decodeFailed, library: .vpx, "unsupported output format \(img.fmt.rawValue)")
            }
            let width = Int(img.d_w), height = Int(img.d_h)
            let chromaWidth = (width + 1) / 2, chromaHeight = (height + 1) / 2
            body(I420View(
                width: width, height: height,
                y: PlaneView(base: y, stride: Int(img.stride.0), width: width, height: height),
                u: PlaneView(base: u, stride: Int(img.stride.1), width: chromaWidth, height: chromaHeight),
                v: PlaneView(base: v, stride: Int(img.stride.2), width: chromaWidth, height: chromaHeight),
                pts: pts))
            count += 1
        }
        return count
    }
}
