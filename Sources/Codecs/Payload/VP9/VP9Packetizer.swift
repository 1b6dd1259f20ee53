import NIOCore

/// VP9 packetizer in non-flexible mode (RFC 9628 §4): one layer frame per call, split into
/// payloads with B on the first and E on the last, a 15-bit picture id (incremented per call
/// unless `layer` has a spatial id above 0, where it belongs to the same picture), optional layer
/// indices with TL0PICIDX, and on keyframes a scalability structure with the frame's resolution.
public struct VP9Packetizer: RTPPacketizer {
    public var maxPayloadSize: Int
    /// The picture id of the next picture (15 bits).
    public var pictureID: UInt16
    /// Layer indices for the next frames; `nil` for a single-layer stream.
    public var layer: VP9PayloadDescriptor.LayerIndices?
    public var tl0PictureIndex: UInt8 = 0
    /// Send an SS (RFC 9628 §4.2.1) on keyframes.
    public var sendsScalabilityStructure = true
    /// Set the marker bit on the last packet (RFC 9628 §4.1: end of the picture, i.e. the highest
    /// spatial layer). Clear it when more spatial layers of the same picture follow.
    public var marksEndOfPicture = true

    public init(maxPayloadSize: Int = 1200, initialPictureID: UInt16 = 0) {
        self.maxPayloadSize = maxPayloadSize
        self.pictureID = initialPictureID & 0x7FFF
    }

    public mutating func packetize(
        frame: ByteBuffer, timestamp: UInt32, emit: (_ payload: ByteBuffer, _ marker: Bool) -> Void
    ) throws(PayloadError) {
        guard frame.readableBytes > 0 else { throw PayloadError(.truncated, detail: "empty VP9 frame") }
        let header = try VP9FrameHeader(frame: frame)
        var structure: VP9ScalabilityStructure?
        if header.isKeyframe, sendsScalabilityStructure, (layer?.spatialID ?? 0) == 0,
           let width = header.width, let height = header.height
        {
            structure = VP9ScalabilityStructure(
                spatialLayerCount: 1,
                resolutions: [.init(width: UInt16(truncatingIfNeeded: width), height: UInt16(truncatingIfNeeded: height))]
            )
        }
        var descriptor = VP9PayloadDescriptor(
            interPicturePredicted: !header.isKeyframe, startOfFrame: true, endOfFrame: false, pictureID: pictureID,
            layer: layer, tl0PictureIndex: layer == nil ? nil : tl0PictureIndex, scalabilityStructure: structure
        )
        let firstOverhead = descriptor.encodedSize
        descriptor.scalabilityStructure = nil
        let overhead = descriptor.encodedSize
        // The first packet also carries the SS: split the rest with the smaller descriptor.
        let firstCapacity = maxPayloadSize - firstOverhead
        guard firstCapacity >= 1, maxPayloadSize - overhead >= 1 else {
            throw PayloadError(.valueOutOfRange, detail: "maxPayloadSize leaves no room for VP9 data")
        }
        let total = frame.readableBytes
        let firstLength = min(total, firstCapacity)
        var offset = 0
        var isFirst = true
        while offset < total {
            let length: Int
            if isFirst {
                length = firstLength
            } else {
                length = min(total - offset, maxPayloadSize - overhead)
            }
            let isLast = offset + length == total
            descriptor.startOfFrame = isFirst
            descriptor.endOfFrame = isLast
            descriptor.scalabilityStructure = isFirst ? structure : nil
            var payload = ByteBuffer()
            payload.reserveCapacity(descriptor.encodedSize + length)
            descriptor.write(to: &payload)
            if let slice = frame.getSlice(at: frame.readerIndex + offset, length: length) {
                payload.writeImmutableBuffer(slice)
            }
            emit(payload, isLast && marksEndOfPicture)
            offset += length
            isFirst = false
        }
        if marksEndOfPicture {
            pictureID = (pictureID &+ 1) & 0x7FFF
            if let layer, layer.temporalID == 0 { tl0PictureIndex &+= 1 }
        }
    }
}
