// Owner of one dav1d decoder context.
import CDav1d
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One dav1d decoder. Not thread-safe: use it from one task at a time.
public final class AV1Decoder {
    private let context: OpaquePointer

    /// - Parameters:
    ///   - threads: worker threads (0 lets dav1d pick one per core).
    ///   - maxFrameDelay: 1 decodes with no frame delay (what a real-time receiver wants); 0 lets
    ///     dav1d pipeline frames across threads, so pictures come out later and `flush` drains them.
    public init(threads: Int = 1, maxFrameDelay: Int = 1) throws(CodecError) {
        guard (0...256).contains(threads), (0...256).contains(maxFrameDelay) else {
            throw CodecError(.invalidParameter, library: .dav1d, "threads and frame delay must be 0...256")
        }
        var settings = Dav1dSettings()
        dav1d_default_settings(&settings)
        settings.n_threads = Int32(threads)
        settings.max_frame_delay = Int32(maxFrameDelay)
        settings.logger.callback = nil  // errors reach the caller as CodecError, not stderr
        var context: OpaquePointer? = nil
        let status = dav1d_open(&context, &settings)
        guard status == 0, let context else { throw Self.error(.initFailed, status, "dav1d_open") }
        self.context = context
    }

    deinit {
        var context: OpaquePointer? = self.context
        dav1d_close(&context)
    }

    static func error(_ code: CodecError.Code, _ status: Int32, _ what: String) -> CodecError {
        let errno = -status
        let kind: CodecError.Code = errno == ENOMEM ? .outOfMemory : code
        return CodecError(kind, library: .dav1d, "\(what): \(String(cString: strerror(errno)))")
    }

    private static let again = commucat_DAV1D_ERR(11)  // EAGAIN

    /// Decodes one temporal unit and calls `body` for each picture that became ready. The view is
    /// valid only during the call. Returns the number of pictures.
    @discardableResult
    public func decode(_ data: [UInt8], pts: Int64 = 0, _ body: (I420View) -> Void) throws(CodecError) -> Int {
        guard !data.isEmpty else { throw CodecError(.decodeFailed, library: .dav1d, "empty temporal unit") }
        var input = Dav1dData()
        // dav1d keeps references to its input across frame threads, so it gets its own copy.
        guard let buffer = dav1d_data_create(&input, data.count) else {
            throw CodecError(.outOfMemory, library: .dav1d, "dav1d_data_create")
        }
        data.withUnsafeBufferPointer { source in
            if let base = source.baseAddress { buffer.update(from: base, count: source.count) }
        }
        input.m.timestamp = pts
        var count = 0
        defer { dav1d_data_unref(&input) }
        for _ in 0..<1_000 where input.sz > 0 {
            let status = dav1d_send_data(context, &input)
            if status < 0, status != Self.again { throw Self.error(.decodeFailed, status, "dav1d_send_data") }
            count += try drain(body)
        }
        return count
    }

    /// Returns pictures still held inside the decoder (after the last `decode`).
    @discardableResult
    public func flush(_ body: (I420View) -> Void) throws(CodecError) -> Int {
        try drain(body)
    }

    private func drain(_ body: (I420View) -> Void) throws(CodecError) -> Int {
        var count = 0
        for _ in 0..<1_000 {
            var picture = Dav1dPicture()
            let status = dav1d_get_picture(context, &picture)
            if status == Self.again { break }
            if status < 0 { throw Self.error(.decodeFailed, status, "dav1d_get_picture") }
            defer { dav1d_picture_unref(&picture) }
            guard picture.p.layout == DAV1D_PIXEL_LAYOUT_I420, picture.p.bpc == 8,
                  let y = picture.data.0, let u = picture.data.1, let v = picture.data.2
            else {
                throw CodecError(.decodeFailed, library: .dav1d, "only 8-bit 4:2:0 output is supported")
            }
            let width = Int(picture.p.w), height = Int(picture.p.h)
            let chromaWidth = (width + 1) / 2, chromaHeight = (height + 1) / 2
            body(I420View(
                width: width, height: height,
                y: PlaneView(base: y.assumingMemoryBound(to: UInt8.self), stride: picture.stride.0, width: width, height: height),
                u: PlaneView(base: u.assumingMemoryBound(to: UInt8.self), stride: picture.stride.1, width: chromaWidth, height: chromaHeight),
                v: PlaneView(base: v.assumingMemoryBound(to: UInt8.self), stride: picture.stride.1, width: chromaWidth, height: chromaHeight),
                pts: picture.m.timestamp))
            count += 1
        }
        return count
    }
}
