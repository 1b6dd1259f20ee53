import NIOCore

/// VP8 packetizer (RFC 7741 §4): splits a frame into payloads of at most `maxPayloadSize` bytes,
/// each with a descriptor carrying a 15-bit picture id that increments per frame (RFC 7741 §4.2).
/// The first packet has S=1, PID=0; the rest S=0 (partition boundaries are not tracked, which
/// RFC 7741 §4.4 allows). The marker bit is set on the frame's last packet (RFC 7741 §4.1).
public struct VP8Packetizer: RTPPacketizer {
    public var maxPayloadSize: Int
    /// The picture id the next frame gets (15 bits).
    public var pictureID: UInt16
    /// Temporal layering fields to put in every descriptor of the next frames, when used.
    public var tl0PictureIndex: UInt8?
    public var temporalLayerID: UInt8?
    public var layerSync = false
    /// N bit for the next frames.
    public var nonReference = false

    public init(maxPayloadSize: Int = 1200, initialPictureID: UInt16 = 0) {
        self.maxPayloadSize = maxPayloadSize
        self.pictureID = initialPictureID & 0x7FFF
    }

    public mutating func packetize(
        frame: ByteBuffer, timestamp: UInt32, emit: (_ payload: ByteBuffer, _ marker: Bool) -> Void
    ) throws(PayloadError) {
        guard frame.readableBytes > 0 else { throw PayloadError(.truncated, detail: "empty VP8 frame") }
        var descriptor = VP8PayloadDescriptor(
            nonReference: nonReference, startOfPartition: true, pictureID: pictureID, hasLongPictureID: true,
            tl0PictureIndex: tl0PictureIndex, temporalLayerID: temporalLayerID, layerSync: layerSync
        )
        let overhead = descriptor.encodedSize
        guard let splitter = FrameSplitter(length: frame.readableBytes, capacity: maxPayloadSize - overhead) else {
            throw PayloadError(.valueOutOfRange, detail: "maxPayloadSize leaves no room for VP8 data")
        }
        for part in splitter {
            var payload = ByteBuffer()
            payload.reserveCapacity(overhead + part.length)
            descriptor.write(to: &payload)
            if let slice = frame.getSlice(at: frame.readerIndex + part.offset, length: part.length) {
                payload.writeImmutableBuffer(slice)
            }
            emit(payload, part.isLast)
            descriptor.startOfPartition = false
        }
        pictureID = (pictureID &+ 1) & 0x7FFF
    }
}
