// Owner of one openh264 decoder (Cisco's BSD-licensed H.264 decoder).
import COpenH264

/// One openh264 decoder for Annex-B H.264 (RFC 6184 payloads reassembled into access units).
/// Not thread-safe: use it from one task at a time.
public final class H264Decoder {
    private let decoder: UnsafeMutablePointer<UnsafePointer<ISVCDecoderVtbl>?>
    private let vtable: ISVCDecoderVtbl

    public init(threads: Int = 1) throws(CodecError) {
        guard (1...16).contains(threads) else {
            throw CodecError(.invalidParameter, library: .openh264, "threads must be 1...16, not \(threads)")
        }
        var created: UnsafeMutablePointer<UnsafePointer<ISVCDecoderVtbl>?>? = nil
        guard WelsCreateDecoder(&created) == 0, let created, let table = created.pointee?.pointee else {
            throw CodecError(.initFailed, library: .openh264, "WelsCreateDecoder failed")
        }
        decoder = created
        vtable = table
        var level = Int32(WELS_LOG_QUIET)
        _ = vtable.SetOption?(decoder, DECODER_OPTION_TRACE_LEVEL, &level)
        if threads > 1 {
            var count = Int32(threads)
            _ = vtable.SetOption?(decoder, DECODER_OPTION_NUM_OF_THREADS, &count)
        }
        var param = SDecodingParam()
        param.sVideoProperty.eVideoBsType = VIDEO_BITSTREAM_AVC
        param.eEcActiveIdc = ERROR_CON_DISABLE  // corrupt input is an error, not a concealed picture
        param.uiTargetDqLayer = UInt8.max
        guard let initialize = vtable.Initialize, initialize(decoder, &param) == 0 else {
            WelsDestroyDecoder(decoder)
            throw CodecError(.initFailed, library: .openh264, "Initialize failed")
        }
    }

    deinit {
        _ = vtable.Uninitialize?(decoder)
        WelsDestroyDecoder(decoder)
    }

    /// Decodes one access unit (Annex-B, start codes included) with `DecodeFrameNoDelay` and calls
    /// `body` with the picture when one is ready. The view is valid only during the call.
    @discardableResult
    public func decode(_ data: [UInt8], pts: Int64 = 0, _ body: (I420View) -> Void) throws(CodecError) -> Int {
        guard !data.isEmpty, data.count < Int(Int32.max) else {
            throw CodecError(.decodeFailed, library: .openh264, "empty or oversized access unit")
        }
        guard let decodeNoDelay = vtable.DecodeFrameNoDelay else {
            throw CodecError(.initFailed, library: .openh264, "DecodeFrameNoDelay missing")
        }
        var planes: (UnsafeMutablePointer<UInt8>?, UnsafeMutablePointer<UInt8>?, UnsafeMutablePointer<UInt8>?) = (nil, nil, nil)
        var info = SBufferInfo()
        let state = data.withUnsafeBufferPointer { bytes in
            withUnsafeMutableBytes(of: &planes) { raw in
                decodeNoDelay(decoder, bytes.baseAddress, Int32(bytes.count),
                              raw.baseAddress?.assumingMemoryBound(to: UnsafeMutablePointer<UInt8>?.self), &info)
            }
        }
        guard state == dsErrorFree else {
            throw CodecError(.decodeFailed, library: .openh264, "decoding state 0x\(String(state.rawValue, radix: 16)) (\(Self.describe(state)))")
        }
        guard info.iBufferStatus == 1 else { return 0 }
        let buffer = info.UsrData.sSystemBuffer
        guard let y = planes.0, let u = planes.1, let v = planes.2, buffer.iFormat == Int32(videoFormatI420.rawValue) else {
            throw CodecError(.decodeFailed, library: .openh264, "decoder returned no I420 picture")
        }
        let width = Int(buffer.iWidth), height = Int(buffer.iHeight)
        let chromaWidth = (width + 1) / 2, chromaHeight = (height + 1) / 2
        body(I420View(
            width: width, height: height,
            y: PlaneView(base: y, stride: Int(buffer.iStride.0), width: width, height: height),
            u: PlaneView(base: u, stride: Int(buffer.iStride.1), width: chromaWidth, height: chromaHeight),
            v: PlaneView(base: v, stride: Int(buffer.iStride.1), width: chromaWidth, height: chromaHeight),
            pts: pts))
        return 1
    }

    private static func describe(_ state: DECODING_STATE) -> String {
        var parts: [String] = []
        let bits = state.rawValue
        if bits & dsFramePending.rawValue != 0 { parts.append("frame pending") }
        if bits & dsRefLost.rawValue != 0 { parts.append("reference lost") }
        if bits & dsBitstreamError.rawValue != 0 { parts.append("bitstream error") }
        if bits & dsDepLayerLost.rawValue != 0 { parts.append("dependency layer lost") }
        if bits & dsNoParamSets.rawValue != 0 { parts.append("no parameter sets") }
        if bits & dsDataErrorConcealed.rawValue != 0 { parts.append("data error concealed") }
        if bits & dsRefListNullPtrs.rawValue != 0 { parts.append("reference list null") }
        if bits & dsInvalidArgument.rawValue != 0 { parts.append("invalid argument") }
        if bits & dsInitialOptExpected.rawValue != 0 { parts.append("not initialised") }
        if bits & dsOutOfMemory.rawValue != 0 { parts.append("out of memory") }
        if bits & dsDstBufNeedExpan.rawValue != 0 { parts.append("destination buffer too small") }
        return parts.isEmpty ? "unknown" : parts.joined(separator: ", ")
    }
}
