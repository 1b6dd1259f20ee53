import NIOCore

/// RFC 4571 §2 framing for RTP/RTCP/STUN/DTLS over TCP (used by ICE-TCP, RFC 6544): each frame
/// is a 16-bit big-endian length followed by that many bytes.
///
/// A pure step decoder in the shape of NIO's `NIOSingleStepByteToMessageDecoder`, so the I/O
/// layer wraps it in a `ByteToMessageHandler` as is.
public struct RFC4571FrameDecoder: NIOSingleStepByteToMessageDecoder, Sendable {
    public typealias InboundOut = ByteBuffer

    /// Frames longer than this are an error (the wire allows up to 65535).
    public let maximumFrameLength: Int

    public init(maximumFrameLength: Int = 65535) {
        self.maximumFrameLength = min(max(maximumFrameLength, 0), 65535)
    }

    /// The next complete frame's payload as a slice, or `nil` until enough bytes have arrived.
    public mutating func decode(buffer: inout ByteBuffer) throws(WireParseError) -> ByteBuffer? {
        guard let length = buffer.getInteger(at: buffer.readerIndex, as: UInt16.self) else { return nil }
        guard Int(length) <= maximumFrameLength else {
            throw WireParseError(.frameTooLarge, offset: 0, detail: "RFC 4571 frame over limit")
        }
        guard buffer.readableBytes >= 2 + Int(length) else { return nil }
        buffer.moveReaderIndex(forwardBy: 2)
        return buffer.readSlice(length: Int(length))
    }

    /// At end of stream a partial frame is an error.
    public mutating func decodeLast(buffer: inout ByteBuffer, seenEOF: Bool) throws(WireParseError) -> ByteBuffer? {
        if let frame = try decode(buffer: &buffer) { return frame }
        guard buffer.readableBytes == 0 || !seenEOF else {
            throw WireParseError(.truncated, offset: buffer.readerIndex, detail: "partial RFC 4571 frame at EOF")
        }
        return nil
    }
}

/// Writes RFC 4571 frames.
public enum RFC4571FrameEncoder {
    /// Appends the 2-byte length and the readable bytes of `frame`; frames over 65535 bytes throw.
    @discardableResult
    public static func write(frame: ByteBuffer, to buffer: inout ByteBuffer) throws(WireParseError) -> Int {
        guard frame.readableBytes <= 65535 else {
            throw WireParseError(.frameTooLarge, detail: "RFC 4571 frames carry at most 65535 bytes")
        }
        buffer.writeInteger(UInt16(frame.readableBytes))
        buffer.writeImmutableBuffer(frame)
        return 2 + frame.readableBytes
    }
}
