// Raw video in planar 4:2:0 (I420), the only layout the owners exchange.

/// One plane of a picture as the library (or `I420Frame`) lays it out in memory.
public struct PlaneView: @unchecked Sendable {
    public let base: UnsafePointer<UInt8>
    /// Bytes from the start of one row to the start of the next (≥ `width`).
    public let stride: Int
    public let width: Int
    public let height: Int

    public init(base: UnsafePointer<UInt8>, stride: Int, width: Int, height: Int) {
        self.base = base
        self.stride = stride
        self.width = width
        self.height = height
    }

    /// The visible bytes of row `y`.
    @inlinable public func row(_ y: Int) -> UnsafeBufferPointer<UInt8> {
        UnsafeBufferPointer(start: base + y * stride, count: width)
    }
}

/// A borrowed I420 picture. Decoders hand one to their callback; its memory belongs to the decoder
/// and is valid only during that call (copy with `I420Frame.copy(from:)` to keep it).
public struct I420View: @unchecked Sendable {
    public let width: Int
    public let height: Int
    public let y: PlaneView
    public let u: PlaneView
    public let v: PlaneView
    /// Presentation timestamp the decoder associated with the picture.
    public let pts: Int64

    public init(width: Int, height: Int, y: PlaneView, u: PlaneView, v: PlaneView, pts: Int64) {
        self.width = width
        self.height = height
        self.y = y
        self.u = u
        self.v = v
        self.pts = pts
    }

    public var planes: [PlaneView] { [y, u, v] }
}

/// An owned I420 picture: one allocation holding three planes whose rows start on 64-byte
/// boundaries (what the SIMD code in libvpx, libaom and x264 likes). Encoders read it in place
/// (no copy on our side); reuse one frame for a whole sequence by writing into it.
public final class I420Frame {
    public let width: Int
    public let height: Int
    public let chromaWidth: Int
    public let chromaHeight: Int
    public let lumaStride: Int
    public let chromaStride: Int
    private let storage: UnsafeMutableRawPointer
    private let byteCount: Int

    /// Creates a black picture. Width and height must be in 1...16384.
    public init(width: Int, height: Int) throws(CodecError) {
        guard (1...16_384).contains(width), (1...16_384).contains(height) else {
            throw CodecError(.invalidFrameSize, library: .commucat, "picture size \(width)x\(height) is outside 1...16384")
        }
        self.width = width
        self.height = height
        chromaWidth = (width + 1) / 2
        chromaHeight = (height + 1) / 2
        lumaStride = (width + 63) & ~63
        chromaStride = (chromaWidth + 63) & ~63
        // Pad the end so SIMD readers that over-read a row by up to 64 bytes stay inside.
        byteCount = lumaStride * height + 2 * chromaStride * chromaHeight + 64
        storage = UnsafeMutableRawPointer.allocate(byteCount: byteCount, alignment: 64)
        storage.initializeMemory(as: UInt8.self, repeating: 0, count: lumaStride * height)
        (storage + lumaStride * height).initializeMemory(
            as: UInt8.self, repeating: 128, count: byteCount - lumaStride * height)
    }

    deinit { storage.deallocate() }

    /// Plane 0 (Y), 1 (U) or 2 (V), writable.
    public func plane(_ index: Int) -> UnsafeMutablePointer<UInt8> {
        let base = storage.assumingMemoryBound(to: UInt8.self)
        switch index {
        case 0: return base
        case 1: return base + lumaStride * height
        default: return base + lumaStride * height + chromaStride * chromaHeight
        }
    }

    public func stride(_ index: Int) -> Int { index == 0 ? lumaStride : chromaStride }

    /// A read-only view of this frame, for PSNR and for code that accepts decoder output too.
    public func view(pts: Int64 = 0) -> I420View {
        I420View(
            width: width, height: height,
            y: PlaneView(base: plane(0), stride: lumaStride, width: width, height: height),
            u: PlaneView(base: plane(1), stride: chromaStride, width: chromaWidth, height: chromaHeight),
            v: PlaneView(base: plane(2), stride: chromaStride, width: chromaWidth, height: chromaHeight),
            pts: pts)
    }

    /// Copies a picture of the same size into this frame.
    public func copy(from source: I420View) throws(CodecError) {
        guard source.width == width, source.height == height else {
            throw CodecError(.invalidFrameSize, library: .commucat,
                             "cannot copy \(source.width)x\(source.height) into \(width)x\(height)")
        }
        for (index, plane) in source.planes.enumerated() {
            let destination = self.plane(index)
            let destinationStride = stride(index)
            for row in 0..<plane.height {
                (destination + row * destinationStride).update(from: plane.base + row * plane.stride, count: plane.width)
            }
        }
    }

    /// Packed I420 bytes (no row padding), the layout of ffmpeg's `-pix_fmt yuv420p` raw video.
    public func packedBytes() -> [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(width * height + 2 * chromaWidth * chromaHeight)
        for plane in view().planes {
            for row in 0..<plane.height { out.append(contentsOf: plane.row(row)) }
        }
        return out
    }
}

/// One compressed frame (or Opus packet) as an encoder produced it.
public struct EncodedFrame: Sendable, Hashable {
    public var bytes: [UInt8]
    /// True when a decoder can start here (VP8/VP9/AV1 key frame, H.264 IDR; always true for Opus).
    public var isKeyframe: Bool
    /// The timestamp the caller passed with the raw input, in the caller's units.
    public var pts: Int64
    /// The temporal layer (0 = base) for VP8/VP9 with temporal scalability, else nil.
    public var temporalLayer: Int?

    public init(bytes: [UInt8], isKeyframe: Bool, pts: Int64, temporalLayer: Int? = nil) {
        self.bytes = bytes
        self.isKeyframe = isKeyframe
        self.pts = pts
        self.temporalLayer = temporalLayer
    }
}
