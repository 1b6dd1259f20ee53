import NIOCore

/// The VP9 payload descriptor (RFC 9628 §4.2):
///
/// ```
///         0 1 2 3 4 5 6 7
///        +-+-+-+-+-+-+-+-+
///        |I|P|L|F|B|E|V|Z| (REQUIRED)
///        +-+-+-+-+-+-+-+-+
///   I:   |M| PICTURE ID  | (7 or 15 bits)
///   M:   | EXTENDED PID  |
///        +-+-+-+-+-+-+-+-+
///   L:   |  TID  |U| SID |D|
///        +-+-+-+-+-+-+-+-+
///        |   TL0PICIDX   | (non-flexible mode only)
///        +-+-+-+-+-+-+-+-+                             -\
///  P,F:  | P_DIFF      |N| (flexible mode, up to 3 times) -/
///        +-+-+-+-+-+-+-+-+
///   V:   | SS            |
/// ```
///
/// Parsing allocates only for the scalability structure (V=1, keyframes), and not at all when
/// `parseScalabilityStructure` is false (the structure is then validated and skipped).
public struct VP9PayloadDescriptor: Hashable, Sendable {
    /// Layer indices (L bit, RFC 9628 §4.2): TID, U, SID, D.
    public struct LayerIndices: Hashable, Sendable {
        public var temporalID: UInt8
        public var switchingUpPoint: Bool
        public var spatialID: UInt8
        public var interLayerDependency: Bool

        public init(temporalID: UInt8, switchingUpPoint: Bool = false, spatialID: UInt8, interLayerDependency: Bool = false) {
            self.temporalID = temporalID
            self.switchingUpPoint = switchingUpPoint
            self.spatialID = spatialID
            self.interLayerDependency = interLayerDependency
        }
    }

    /// P: inter-picture predicted.
    public var interPicturePredicted: Bool
    /// F: flexible mode.
    public var flexibleMode: Bool
    /// B: start of a layer frame.
    public var startOfFrame: Bool
    /// E: end of a layer frame.
    public var endOfFrame: Bool
    /// Z: not used for inter-layer prediction by upper spatial layers.
    public var notUpperLayerReference: Bool
    /// Picture id (I bit), 7 or 15 bits.
    public var pictureID: UInt16?
    public var hasLongPictureID: Bool
    /// L bit fields.
    public var layer: LayerIndices?
    /// TL0PICIDX (non-flexible mode with L=1).
    public var tl0PictureIndex: UInt8?
    /// P_DIFF values (flexible mode with P=1), 1...3 of them, each 1...127.
    public var referenceDiffs: PackedSmallArray
    /// The V bit was set.
    public var hasScalabilityStructure: Bool
    /// The SS, when V=1 and it was asked for.
    public var scalabilityStructure: VP9ScalabilityStructure?

    public init(
        interPicturePredicted: Bool, flexibleMode: Bool = false, startOfFrame: Bool, endOfFrame: Bool,
        notUpperLayerReference: Bool = false, pictureID: UInt16? = nil, hasLongPictureID: Bool = true,
        layer: LayerIndices? = nil, tl0PictureIndex: UInt8? = nil, referenceDiffs: [Int] = [],
        scalabilityStructure: VP9ScalabilityStructure? = nil
    ) {
        self.interPicturePredicted = interPicturePredicted
        self.flexibleMode = flexibleMode
        self.startOfFrame = startOfFrame
        self.endOfFrame = endOfFrame
        self.notUpperLayerReference = notUpperLayerReference
        self.pictureID = pictureID
        self.hasLongPictureID = hasLongPictureID
        self.layer = layer
        self.tl0PictureIndex = tl0PictureIndex
        self.referenceDiffs = PackedSmallArray(bitWidth: 7)
        for diff in referenceDiffs.prefix(3) { self.referenceDiffs.append(diff) }
        self.hasScalabilityStructure = scalabilityStructure != nil
        self.scalabilityStructure = scalabilityStructure
    }

    /// Parses the descriptor at the front of `payload` and moves the reader index past it.
    public init(parsing payload: inout ByteBuffer, parseScalabilityStructure: Bool = true) throws(PayloadError) {
        var reader = PayloadReader(payload)
        let first = try reader.u8("VP9 descriptor")
        interPicturePredicted = first & 0x40 != 0
        flexibleMode = first & 0x10 != 0
        startOfFrame = first & 0x08 != 0
        endOfFrame = first & 0x04 != 0
        notUpperLayerReference = first & 0x01 != 0
        hasScalabilityStructure = first & 0x02 != 0
        pictureID = nil
        hasLongPictureID = false
        layer = nil
        tl0PictureIndex = nil
        referenceDiffs = PackedSmallArray(bitWidth: 7)
        scalabilityStructure = nil
        if first & 0x80 != 0 {
            let high = try reader.u8("VP9 picture id")
            if high & 0x80 != 0 {
                hasLongPictureID = true
                pictureID = UInt16(high & 0x7F) << 8 | UInt16(try reader.u8("VP9 picture id"))
            } else {
                pictureID = UInt16(high)
            }
        }
        if first & 0x20 != 0 {
            let byte = try reader.u8("VP9 layer indices")
            layer = LayerIndices(
                temporalID: byte >> 5, switchingUpPoint: byte & 0x10 != 0, spatialID: byte >> 1 & 0x07,
                interLayerDependency: byte & 0x01 != 0
            )
            if !flexibleMode { tl0PictureIndex = try reader.u8("VP9 TL0PICIDX") }
        }
        if flexibleMode, interPicturePredicted {
            // RFC 9628 §4.2: up to 3 reference indices, N=1 means another follows.
            while true {
                let byte = try reader.u8("VP9 P_DIFF")
                guard byte >> 1 != 0 else {
                    throw PayloadError(.invalidDescriptor, offset: reader.offset - 1, detail: "VP9 P_DIFF of 0")
                }
                referenceDiffs.append(Int(byte >> 1))
                if byte & 0x01 == 0 { break }
                guard referenceDiffs.count < 3 else {
                    throw PayloadError(.invalidDescriptor, offset: reader.offset - 1, detail: "more than 3 VP9 P_DIFF")
                }
            }
        }
        if hasScalabilityStructure {
            if parseScalabilityStructure {
                scalabilityStructure = try VP9ScalabilityStructure(reader: &reader)
            } else {
                try VP9ScalabilityStructure.skip(reader: &reader)
            }
        }
        payload.moveReaderIndex(forwardBy: reader.offset)
    }

    /// Keyframe rule of RFC 9628 §4.2 (P=0, B=1, SID=0): the start of an intra-only base layer frame.
    public var startsKeyframe: Bool { !interPicturePredicted && startOfFrame && (layer?.spatialID ?? 0) == 0 }

    /// Keyframe test on one RTP payload, without allocating.
    public static func isKeyframe(payload: ByteBuffer) -> Bool {
        var rest = payload
        return (try? VP9PayloadDescriptor(parsing: &rest, parseScalabilityStructure: false))?.startsKeyframe ?? false
    }

    public var encodedSize: Int {
        var size = 1
        if pictureID != nil { size += hasLongPictureID ? 2 : 1 }
        if layer != nil { size += flexibleMode ? 1 : 2 }
        if flexibleMode, interPicturePredicted { size += referenceDiffs.count }
        if let scalabilityStructure { size += scalabilityStructure.encodedSize }
        return size
    }

    /// Appends the descriptor. In non-flexible mode with layer indices and no TL0PICIDX, 0 is written.
    @discardableResult
    public func write(to out: inout ByteBuffer) -> Int {
        let start = out.writerIndex
        var first: UInt8 = 0
        if pictureID != nil { first |= 0x80 }
        if interPicturePredicted { first |= 0x40 }
        if layer != nil { first |= 0x20 }
        if flexibleMode { first |= 0x10 }
        if startOfFrame { first |= 0x08 }
        if endOfFrame { first |= 0x04 }
        if scalabilityStructure != nil { first |= 0x02 }
        if notUpperLayerReference { first |= 0x01 }
        out.writeInteger(first)
        if let pictureID {
            if hasLongPictureID { out.writeInteger(0x8000 | pictureID & 0x7FFF) } else { out.writeInteger(UInt8(pictureID & 0x7F)) }
        }
        if let layer {
            out.writeInteger(
                (layer.temporalID & 7) << 5 | (layer.switchingUpPoint ? 0x10 : 0) | (layer.spatialID & 7) << 1
                    | (layer.interLayerDependency ? 1 : 0)
            )
            if !flexibleMode { out.writeInteger(tl0PictureIndex ?? 0) }
        }
        if flexibleMode, interPicturePredicted {
            for (index, diff) in referenceDiffs.enumerated() {
                out.writeInteger(UInt8(truncatingIfNeeded: diff << 1) | (index < referenceDiffs.count - 1 ? 1 : 0))
            }
        }
        scalabilityStructure?.write(to: &out)
        return out.writerIndex - start
    }

    /// Rewrites the picture id and/or TL0PICIDX in place, in the descriptor at `offset` (absolute
    /// index) in `buffer`; wire widths are kept. Throws `unsupported` when a field is absent.
    public static func rewrite(
        _ buffer: inout ByteBuffer, descriptorAt offset: Int, pictureID: UInt16? = nil, tl0PictureIndex: UInt8? = nil
    ) throws(PayloadError) {
        guard offset >= buffer.readerIndex, offset <= buffer.writerIndex,
              var view = buffer.getSlice(at: offset, length: buffer.writerIndex - offset)
        else { throw PayloadError(.truncated, detail: "descriptor offset outside the buffer") }
        let descriptor = try VP9PayloadDescriptor(parsing: &view, parseScalabilityStructure: false)
        var position = offset + 1
        if let newID = pictureID {
            guard descriptor.pictureID != nil else { throw PayloadError(.unsupported, detail: "VP9 descriptor has no picture id") }
            if descriptor.hasLongPictureID {
                buffer.setInteger(0x8000 | newID & 0x7FFF, at: position)
            } else {
                buffer.setInteger(UInt8(newID & 0x7F), at: position)
            }
        }
        if descriptor.pictureID != nil { position += descriptor.hasLongPictureID ? 2 : 1 }
        if let newIndex = tl0PictureIndex {
            guard descriptor.tl0PictureIndex != nil else { throw PayloadError(.unsupported, detail: "VP9 descriptor has no TL0PICIDX") }
            buffer.setInteger(newIndex, at: position + 1)
        }
    }
}
