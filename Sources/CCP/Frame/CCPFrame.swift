import NIOCore

/// One CCP-1 frame (SPEC §4.1):
/// `frame := varint(body_len) body`,
/// `body := type:u8 varint(channel_id) varint(sequence) varint(payload_len) payload`.
///
/// `channelID` and `sequence` are `UInt32` because the spec caps both at 2^32-1; the type makes
/// an out-of-range value unrepresentable on the encoding side.
public struct CCPFrame: Hashable, Sendable {
    public var type: CCPFrameType
    public var channelID: UInt32
    public var sequence: UInt32
    /// Opaque bytes for Msg/VoiceFrame/VideoFrame, one UTF-8 JSON value for every other type.
    public var payload: ByteBuffer

    public init(type: CCPFrameType, channelID: UInt32, sequence: UInt32, payload: ByteBuffer) {
        self.type = type
        self.channelID = channelID
        self.sequence = sequence
        self.payload = payload
    }

    /// A frame whose payload is the UTF-8 bytes of `json` (not validated here).
    public init(type: CCPFrameType, channelID: UInt32, sequence: UInt32, json: String) {
        self.init(type: type, channelID: channelID, sequence: sequence, payload: ByteBuffer(string: json))
    }

    /// The number of bytes after the leading `body_len` varint.
    public var bodyLength: Int {
        let payloadLength = self.payload.readableBytes
        return 1 + CCPVarint.encodedLength(UInt64(self.channelID))
            + CCPVarint.encodedLength(UInt64(self.sequence))
            + CCPVarint.encodedLength(UInt64(payloadLength)) + payloadLength
    }

    /// The number of bytes ``write(to:)`` appends.
    public var encodedSize: Int {
        let body = self.bodyLength
        return CCPVarint.encodedLength(UInt64(body)) + body
    }

    /// Appends the encoded frame to `buffer` and returns the number of bytes written.
    ///
    /// This does not check limits; ``CCPFrameEncoder`` does, before calling it.
    @discardableResult
    public func write(to buffer: inout ByteBuffer) -> Int {
        let size = self.encodedSize
        buffer.reserveCapacity(minimumWritableBytes: size)
        CCPVarint.write(UInt64(self.bodyLength), to: &buffer)
        buffer.writeInteger(self.type.rawValue)
        CCPVarint.write(UInt64(self.channelID), to: &buffer)
        CCPVarint.write(UInt64(self.sequence), to: &buffer)
        CCPVarint.write(UInt64(self.payload.readableBytes), to: &buffer)
        buffer.writeImmutableBuffer(self.payload)
        return size
    }
}
