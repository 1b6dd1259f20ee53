import NIOCore

/// A pure CCP-1 frame decoder (SPEC §4.1): a struct that steps over a `ByteBuffer`, in the shape
/// of swift-nio's `WebSocketFrameDecoder`, with every limit an init parameter.
///
/// ``decode(buffer:)`` consumes one whole frame or nothing. Limits are checked as early as the
/// bytes allow: an oversized `body_len` fails before its body arrives.
public struct CCPFrameDecoder: Sendable {
    /// Size and validation limits. The defaults are SPEC §4.1's.
    public struct Limits: Hashable, Sendable {
        /// Largest accepted `body_len` (default 16 MiB).
        public var maxBodyLength: Int
        /// Largest accepted `payload_len` for any type (default 16 MiB).
        public var maxPayloadLength: Int
        /// Largest accepted payload of a JSON-carrying type (default 256 KiB).
        public var maxJSONPayloadLength: Int
        /// Whether JSON payloads must be exactly one RFC 8259 value (default `true`).
        public var validatesJSON: Bool
        /// Deepest accepted array/object nesting when validating JSON (default 64).
        public var maxJSONDepth: Int

        public init(
            maxBodyLength: Int = 16 * 1024 * 1024,
            maxPayloadLength: Int = 16 * 1024 * 1024,
            maxJSONPayloadLength: Int = 256 * 1024,
            validatesJSON: Bool = true,
            maxJSONDepth: Int = 64
        ) {
            self.maxBodyLength = maxBodyLength
            self.maxPayloadLength = maxPayloadLength
            self.maxJSONPayloadLength = maxJSONPayloadLength
            self.validatesJSON = validatesJSON
            self.maxJSONDepth = maxJSONDepth
        }
    }

    /// What one ``decode(buffer:)`` call produced.
    public enum DecodingResult: Hashable, Sendable {
        /// The buffer holds less than one frame; nothing was consumed.
        case needMoreData
        /// One frame, consumed from the buffer.
        case frame(CCPFrame)
    }

    public let limits: Limits

    public init(limits: Limits = Limits()) {
        self.limits = limits
    }

    /// Decodes the next frame from the front of `buffer`.
    ///
    /// On `.frame` the frame's bytes are consumed; on `.needMoreData` and on a thrown error the
    /// reader index is unchanged. After an error the stream is not resynchronisable: close it.
    public mutating func decode(buffer: inout ByteBuffer) throws(CCPError) -> DecodingResult {
        let start = buffer.readerIndex
        let end = buffer.writerIndex
        guard case .value(let bodyLength, let prefixLength) = try CCPVarint.peek(in: buffer, at: start, limit: end) else {
            return .needMoreData
        }
        guard bodyLength <= UInt64(clamping: self.limits.maxBodyLength) else {
            throw CCPError(.bodyTooLarge, detail: "body_len \(bodyLength) > \(self.limits.maxBodyLength)")
        }
        let bodyStart = start + prefixLength
        // Compared before any index arithmetic, so no limit value can overflow an index.
        guard bodyLength <= UInt64(end - bodyStart) else {
            // The header's own checks can still fail early on what has arrived.
            try self.checkPartialHeader(buffer: buffer, bodyStart: bodyStart, available: end)
            return .needMoreData
        }
        let bodyEnd = bodyStart + Int(bodyLength)
        let frame = try self.parseBody(buffer: buffer, bodyStart: bodyStart, bodyEnd: bodyEnd)
        buffer.moveReaderIndex(to: bodyEnd)
        return .frame(frame)
    }

    /// Runs the header checks that the bytes received so far allow, so that an oversized
    /// `payload_len` fails before 16 MiB have to arrive.
    private func checkPartialHeader(buffer: ByteBuffer, bodyStart: Int, available: Int) throws(CCPError) {
        var header = HeaderReader(buffer: buffer, index: bodyStart, limit: available)
        guard let typeByte = header.readByte() else { return }
        let type = try Self.frameType(typeByte)
        guard let channel = try header.readVarint() else { return }
        try Self.checkChannel(channel)
        guard let sequence = try header.readVarint() else { return }
        try Self.checkSequence(sequence)
        guard let payloadLength = try header.readVarint() else { return }
        try self.checkPayloadLength(payloadLength, type: type)
    }

    private func parseBody(buffer: ByteBuffer, bodyStart: Int, bodyEnd: Int) throws(CCPError) -> CCPFrame {
        var header = HeaderReader(buffer: buffer, index: bodyStart, limit: bodyEnd)
        guard let typeByte = header.readByte() else { throw CCPError(.truncatedHeader, detail: "empty body") }
        let type = try Self.frameType(typeByte)
        guard let channel = try header.readVarint() else { throw CCPError(.truncatedHeader, detail: "channel_id") }
        try Self.checkChannel(channel)
        guard let sequence = try header.readVarint() else { throw CCPError(.truncatedHeader, detail: "sequence") }
        try Self.checkSequence(sequence)
        guard let payloadLength = try header.readVarint() else {
            throw CCPError(.truncatedHeader, detail: "payload_len")
        }
        try self.checkPayloadLength(payloadLength, type: type)
        let remaining = bodyEnd - header.index
        guard payloadLength == UInt64(remaining) else {
            throw CCPError(.payloadLengthMismatch, detail: "payload_len \(payloadLength), \(remaining) bytes left in body")
        }
        guard let payload = buffer.getSlice(at: header.index, length: remaining) else {
            throw CCPError(.truncatedHeader, detail: "payload")
        }
        if type.carriesJSON && self.limits.validatesJSON {
            let depth = self.limits.maxJSONDepth
            let valid = payload.withUnsafeReadableBytes { CCPJSONValidator.isValid($0, maxDepth: depth) }
            guard valid else { throw CCPError(.invalidJSON, detail: "\(type) payload") }
        }
        return CCPFrame(type: type, channelID: UInt32(channel), sequence: UInt32(sequence), payload: payload)
    }

    private static func frameType(_ byte: UInt8) throws(CCPError) -> CCPFrameType {
        guard let type = CCPFrameType(rawValue: byte) else {
            throw CCPError(.unknownFrameType, detail: "type 0x\(String(byte, radix: 16))")
        }
        return type
    }

    private static func checkChannel(_ value: UInt64) throws(CCPError) {
        guard value <= UInt64(UInt32.max) else { throw CCPError(.channelIDOutOfRange, detail: "\(value)") }
    }

    private static func checkSequence(_ value: UInt64) throws(CCPError) {
        guard value <= UInt64(UInt32.max) else { throw CCPError(.sequenceOutOfRange, detail: "\(value)") }
    }

    private func checkPayloadLength(_ length: UInt64, type: CCPFrameType) throws(CCPError) {
        guard length <= UInt64(clamping: self.limits.maxPayloadLength) else {
            throw CCPError(.payloadTooLarge, detail: "payload_len \(length)")
        }
        if type.carriesJSON && length > UInt64(clamping: self.limits.maxJSONPayloadLength) {
            throw CCPError(.jsonPayloadTooLarge, detail: "payload_len \(length)")
        }
    }
}

/// Reads the body header fields within `[index, limit)`; `nil` means the bytes ran out.
private struct HeaderReader {
    let buffer: ByteBuffer
    var index: Int
    let limit: Int

    mutating func readByte() -> UInt8? {
        guard self.index < self.limit, let byte = self.buffer.getInteger(at: self.index, as: UInt8.self) else {
            return nil
        }
        self.index += 1
        return byte
    }

    mutating func readVarint() throws(CCPError) -> UInt64? {
        switch try CCPVarint.peek(in: self.buffer, at: self.index, limit: self.limit) {
        case .needMoreData:
            return nil
        case .value(let value, let length):
            self.index += length
            return value
        }
    }
}
