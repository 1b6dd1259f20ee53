import NIOCore

/// The VP8 payload descriptor (RFC 7741 §4.2):
///
/// ```
///       0 1 2 3 4 5 6 7
///      +-+-+-+-+-+-+-+-+
///      |X|R|N|S|R| PID | (REQUIRED)
///      +-+-+-+-+-+-+-+-+
/// X:   |I|L|T|K| RSV   | (OPTIONAL)
///      +-+-+-+-+-+-+-+-+
/// I:   |M| PictureID   | (OPTIONAL, 7 or 15 bits)
///      +-+-+-+-+-+-+-+-+
/// L:   |   TL0PICIDX   | (OPTIONAL)
///      +-+-+-+-+-+-+-+-+
/// T/K: |TID|Y| KEYIDX  | (OPTIONAL)
///      +-+-+-+-+-+-+-+-+
/// ```
///
/// Parsing reads fields only; it never allocates.
public struct VP8PayloadDescriptor: Hashable, Sendable {
    /// N: the frame can be discarded without affecting others.
    public var nonReference: Bool
    /// S: the packet starts a VP8 partition.
    public var startOfPartition: Bool
    /// PID: partition index, 0...7.
    public var partitionIndex: UInt8
    /// PictureID (I bit), 7 or 15 bits.
    public var pictureID: UInt16?
    /// M bit: the picture id is 15 bits long (otherwise 7).
    public var hasLongPictureID: Bool
    /// TL0PICIDX (L bit).
    public var tl0PictureIndex: UInt8?
    /// TID (T bit), 0...3.
    public var temporalLayerID: UInt8?
    /// Y: layer sync; meaningful when `temporalLayerID` is present.
    public var layerSync: Bool
    /// KEYIDX (K bit), 0...31.
    public var keyIndex: UInt8?

    public init(
        nonReference: Bool = false, startOfPartition: Bool, partitionIndex: UInt8 = 0, pictureID: UInt16? = nil,
        hasLongPictureID: Bool = true, tl0PictureIndex: UInt8? = nil, temporalLayerID: UInt8? = nil,
        layerSync: Bool = false, keyIndex: UInt8? = nil
    ) {
        self.nonReference = nonReference
        self.startOfPartition = startOfPartition
        self.partitionIndex = partitionIndex
        self.pictureID = pictureID
        self.hasLongPictureID = hasLongPictureID
        self.tl0PictureIndex = tl0PictureIndex
        self.temporalLayerID = temporalLayerID
        self.layerSync = layerSync
        self.keyIndex = keyIndex
    }

    /// Parses the descriptor at the front of `payload` and moves the reader index past it, so the
    /// buffer then holds the VP8 payload (RFC 7741 §4.3).
    public init(parsing payload: inout ByteBuffer) throws(PayloadError) {
        var reader = PayloadReader(payload)
        let first = try reader.u8("VP8 descriptor")
        nonReference = first & 0x20 != 0
        startOfPartition = first & 0x10 != 0
        partitionIndex = first & 0x07
        pictureID = nil
        hasLongPictureID = false
        tl0PictureIndex = nil
        temporalLayerID = nil
        layerSync = false
        keyIndex = nil
        if first & 0x80 != 0 {
            let extensions = try reader.u8("VP8 X byte")
            if extensions & 0x80 != 0 {
                let high = try reader.u8("VP8 picture id")
                if high & 0x80 != 0 {
                    hasLongPictureID = true
                    pictureID = UInt16(high & 0x7F) << 8 | UInt16(try reader.u8("VP8 picture id"))
                } else {
                    pictureID = UInt16(high)
                }
            }
            if extensions & 0x40 != 0 { tl0PictureIndex = try reader.u8("VP8 TL0PICIDX") }
            if extensions & 0x30 != 0 {
                let tk = try reader.u8("VP8 TID/KEYIDX")
                if extensions & 0x20 != 0 {
                    temporalLayerID = tk >> 6
                    layerSync = tk & 0x20 != 0
                }
                if extensions & 0x10 != 0 { keyIndex = tk & 0x1F }
            }
        }
        // RFC 7741 §4.2: a packet carries at least one byte of VP8 payload.
        guard reader.remaining > 0 else {
            throw PayloadError(.truncated, offset: reader.offset, detail: "VP8 payload empty")
        }
        payload.moveReaderIndex(forwardBy: reader.offset)
    }

    private var hasExtensionByte: Bool {
        pictureID != nil || tl0PictureIndex != nil || temporalLayerID != nil || keyIndex != nil
    }

    /// Bytes the descriptor takes on the wire.
    public var encodedSize: Int {
        guard hasExtensionByte else { return 1 }
        var size = 2
        if pictureID != nil { size += hasLongPictureID ? 2 : 1 }
        if tl0PictureIndex != nil { size += 1 }
        if temporalLayerID != nil || keyIndex != nil { size += 1 }
        return size
    }

    /// Appends the descriptor; values are masked to their field widths.
    @discardableResult
    public func write(to out: inout ByteBuffer) -> Int {
        let start = out.writerIndex
        var first = partitionIndex & 0x07
        if hasExtensionByte { first |= 0x80 }
        if nonReference { first |= 0x20 }
        if startOfPartition { first |= 0x10 }
        out.writeInteger(first)
        guard hasExtensionByte else { return 1 }
        var extensions: UInt8 = 0
        if pictureID != nil { extensions |= 0x80 }
        if tl0PictureIndex != nil { extensions |= 0x40 }
        if temporalLayerID != nil { extensions |= 0x20 }
        if keyIndex != nil { extensions |= 0x10 }
        out.writeInteger(extensions)
        if let pictureID {
            if hasLongPictureID {
                out.writeInteger(0x8000 | pictureID & 0x7FFF)
            } else {
                out.writeInteger(UInt8(pictureID & 0x7F))
            }
        }
        if let tl0PictureIndex { out.writeInteger(tl0PictureIndex) }
        if temporalLayerID != nil || keyIndex != nil {
            var tk: UInt8 = 0
            if let temporalLayerID { tk |= (temporalLayerID & 0x03) << 6 | (layerSync ? 0x20 : 0) }
            if let keyIndex { tk |= keyIndex & 0x1F }
            out.writeInteger(tk)
        }
        return out.writerIndex - start
    }

    /// Whether this packet carries the first bytes of a frame (S=1, PID=0, RFC 7741 §4.2).
    public var startsFrame: Bool { startOfPartition && partitionIndex == 0 }

    // MARK: Hot-path helpers

    /// Keyframe test on one RTP payload: S=1, PID=0 and the VP8 payload header's P bit is 0
    /// (RFC 7741 §4.3, RFC 6386 §9.1). Never allocates.
    public static func isKeyframe(payload: ByteBuffer) -> Bool {
        var rest = payload
        guard let descriptor = try? VP8PayloadDescriptor(parsing: &rest), descriptor.startsFrame,
              let header = rest.getInteger(at: rest.readerIndex, as: UInt8.self)
        else { return false }
        return header & 0x01 == 0
    }

    /// Rewrites the picture id and/or TL0PICIDX in place for a layer switch, in the descriptor
    /// that starts at `offset` (absolute index) in `buffer` (e.g. a whole RTP packet). The field
    /// widths on the wire are kept: a 7-bit picture id stores `pictureID & 0x7F`. Throws
    /// `unsupported` when a requested field is absent (the descriptor cannot grow in place).
    public static func rewrite(
        _ buffer: inout ByteBuffer, descriptorAt offset: Int, pictureID: UInt16? = nil, tl0PictureIndex: UInt8? = nil
    ) throws(PayloadError) {
        guard offset >= buffer.readerIndex, offset <= buffer.writerIndex,
              var view = buffer.getSlice(at: offset, length: buffer.writerIndex - offset)
        else { throw PayloadError(.truncated, detail: "descriptor offset outside the buffer") }
        let descriptor = try VP8PayloadDescriptor(parsing: &view)
        var position = offset + 2
        if let newID = pictureID {
            guard descriptor.pictureID != nil else {
                throw PayloadError(.unsupported, offset: 0, detail: "VP8 descriptor has no picture id")
            }
            if descriptor.hasLongPictureID {
                buffer.setInteger(0x8000 | newID & 0x7FFF, at: position)
            } else {
                buffer.setInteger(UInt8(newID & 0x7F), at: position)
            }
        }
        if descriptor.pictureID != nil { position += descriptor.hasLongPictureID ? 2 : 1 }
        if let newIndex = tl0PictureIndex {
            guard descriptor.tl0PictureIndex != nil else {
                throw PayloadError(.unsupported, offset: 0, detail: "VP8 descriptor has no TL0PICIDX")
            }
            buffer.setInteger(newIndex, at: position)
        }
    }
}
