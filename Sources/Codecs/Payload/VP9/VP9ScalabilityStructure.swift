import NIOCore

/// The VP9 scalability structure (RFC 9628 §4.2.1):
///
/// ```
///        +-+-+-+-+-+-+-+-+
///   V:   | N_S |Y|G|-|-|-|
///        +-+-+-+-+-+-+-+-+              -\
///   Y:   |     WIDTH     | (16 bits)     . - N_S + 1 times
///        |     HEIGHT    | (16 bits)     .
///        +-+-+-+-+-+-+-+-+              -/
///   G:   |      N_G      |
///        +-+-+-+-+-+-+-+-+                           -\
///  N_G:  |  TID  |U| R |-|-|                          . - N_G times
///        +-+-+-+-+-+-+-+-+              -\           .
///        |    P_DIFF     | - R times    -/          -/
/// ```
public struct VP9ScalabilityStructure: Hashable, Sendable {
    /// Resolution of one spatial layer.
    public struct Resolution: Hashable, Sendable {
        public var width: UInt16
        public var height: UInt16
        public init(width: UInt16, height: UInt16) {
            self.width = width
            self.height = height
        }
    }

    /// One picture of the group of pictures.
    public struct Picture: Hashable, Sendable {
        public var temporalID: UInt8
        public var switchingUpPoint: Bool
        /// P_DIFF values (0...3 of them).
        public var referenceDiffs: [UInt8]
        public init(temporalID: UInt8, switchingUpPoint: Bool = false, referenceDiffs: [UInt8] = []) {
            self.temporalID = temporalID
            self.switchingUpPoint = switchingUpPoint
            self.referenceDiffs = referenceDiffs
        }
    }

    /// N_S + 1: spatial layers in the stream (1...8).
    public var spatialLayerCount: Int
    /// One per spatial layer when the Y bit is set.
    public var resolutions: [Resolution]?
    /// The group of pictures when the G bit is set.
    public var groupOfPictures: [Picture]?

    public init(spatialLayerCount: Int, resolutions: [Resolution]? = nil, groupOfPictures: [Picture]? = nil) {
        self.spatialLayerCount = spatialLayerCount
        self.resolutions = resolutions
        self.groupOfPictures = groupOfPictures
    }

    init(reader: inout PayloadReader) throws(PayloadError) {
        let first = try reader.u8("VP9 SS")
        spatialLayerCount = Int(first >> 5) + 1
        resolutions = nil
        groupOfPictures = nil
        if first & 0x10 != 0 {
            var list: [Resolution] = []
            list.reserveCapacity(spatialLayerCount)
            for _ in 0..<spatialLayerCount {
                let width = try reader.u16("VP9 SS width")
                let height = try reader.u16("VP9 SS height")
                list.append(Resolution(width: width, height: height))
            }
            resolutions = list
        }
        if first & 0x08 != 0 {
            let count = Int(try reader.u8("VP9 SS N_G"))
            var pictures: [Picture] = []
            pictures.reserveCapacity(count)
            for _ in 0..<count {
                let byte = try reader.u8("VP9 SS picture")
                var diffs: [UInt8] = []
                for _ in 0..<Int(byte >> 2 & 0x03) { diffs.append(try reader.u8("VP9 SS P_DIFF")) }
                pictures.append(Picture(temporalID: byte >> 5, switchingUpPoint: byte & 0x10 != 0, referenceDiffs: diffs))
            }
            groupOfPictures = pictures
        }
    }

    /// Walks a structure without building it.
    static func skip(reader: inout PayloadReader) throws(PayloadError) {
        let first = try reader.u8("VP9 SS")
        if first & 0x10 != 0 { _ = try reader.slice(4 * (Int(first >> 5) + 1), "VP9 SS resolutions") }
        if first & 0x08 != 0 {
            let count = Int(try reader.u8("VP9 SS N_G"))
            for _ in 0..<count {
                let byte = try reader.u8("VP9 SS picture")
                _ = try reader.slice(Int(byte >> 2 & 0x03), "VP9 SS P_DIFF")
            }
        }
    }

    public var encodedSize: Int {
        var size = 1
        if let resolutions { size += 4 * resolutions.count }
        if let groupOfPictures { size += 1 + groupOfPictures.reduce(0) { $0 + 1 + min($1.referenceDiffs.count, 3) } }
        return size
    }

    /// Appends the structure. `spatialLayerCount` is clamped to 1...8 and the resolution list
    /// should have that many entries; N_G is capped at 255 and each picture at 3 P_DIFFs.
    @discardableResult
    public func write(to out: inout ByteBuffer) -> Int {
        let start = out.writerIndex
        let layers = min(max(spatialLayerCount, 1), 8)
        var first = UInt8(layers - 1) << 5
        if resolutions != nil { first |= 0x10 }
        if groupOfPictures != nil { first |= 0x08 }
        out.writeInteger(first)
        for resolution in resolutions ?? [] {
            out.writeInteger(resolution.width)
            out.writeInteger(resolution.height)
        }
        if let groupOfPictures {
            let pictures = groupOfPictures.prefix(255)
            out.writeInteger(UInt8(pictures.count))
            for picture in pictures {
                let diffs = picture.referenceDiffs.prefix(3)
                out.writeInteger((picture.temporalID & 7) << 5 | (picture.switchingUpPoint ? 0x10 : 0) | UInt8(diffs.count) << 2)
                for diff in diffs { out.writeInteger(diff) }
            }
        }
        return out.writerIndex - start
    }
}
