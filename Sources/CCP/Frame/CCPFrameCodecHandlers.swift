import NIOCore

/// A thin `ByteToMessageDecoder` around ``CCPFrameDecoder``.
public struct CCPFrameByteDecoder: ByteToMessageDecoder {
    public typealias InboundOut = CCPFrame

    private var decoder: CCPFrameDecoder

    public init(limits: CCPFrameDecoder.Limits = CCPFrameDecoder.Limits()) {
        self.decoder = CCPFrameDecoder(limits: limits)
    }

    public mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        switch try self.decoder.decode(buffer: &buffer) {
        case .needMoreData:
            return .needMoreData
        case .frame(let frame):
            context.fireChannelRead(Self.wrapInboundOut(frame))
            return .continue
        }
    }

    public mutating func decodeLast(
        context: ChannelHandlerContext,
        buffer: inout ByteBuffer,
        seenEOF: Bool
    ) throws -> DecodingState {
        while try self.decode(context: context, buffer: &buffer) == .continue {}
        if seenEOF && buffer.readableBytes > 0 {
            throw CCPError(.truncatedFrame, detail: "\(buffer.readableBytes) bytes left at end of stream")
        }
        return .needMoreData
    }
}

/// A thin `MessageToByteEncoder` for ``CCPFrame``s that refuses frames the peer's decoder with
/// the same limits would reject for size.
public struct CCPFrameEncoder: MessageToByteEncoder {
    public typealias OutboundIn = CCPFrame

    public let limits: CCPFrameDecoder.Limits

    public init(limits: CCPFrameDecoder.Limits = CCPFrameDecoder.Limits()) {
        self.limits = limits
    }

    public func encode(data frame: CCPFrame, out: inout ByteBuffer) throws {
        try Self.checkLimits(frame, limits: self.limits)
        frame.write(to: &out)
    }

    /// The size checks ``encode(data:out:)`` runs (JSON content is not validated when encoding).
    public static func checkLimits(_ frame: CCPFrame, limits: CCPFrameDecoder.Limits) throws(CCPError) {
        let payloadLength = frame.payload.readableBytes
        guard payloadLength <= limits.maxPayloadLength else { throw CCPError(.payloadTooLarge) }
        if frame.type.carriesJSON && payloadLength > limits.maxJSONPayloadLength {
            throw CCPError(.jsonPayloadTooLarge)
        }
        guard frame.bodyLength <= limits.maxBodyLength else { throw CCPError(.bodyTooLarge) }
    }
}
