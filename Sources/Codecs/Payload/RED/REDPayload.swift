import NIOCore

/// One block of a RED payload (RFC 2198 §3).
public struct REDBlock: Hashable, Sendable {
    /// Block payload type (7 bits).
    public var payloadType: UInt8
    /// How much earlier than the packet's timestamp the block was (14 bits); 0 for the primary.
    public var timestampOffset: UInt16
    /// The block's data (a slice of the packet when parsed).
    public var data: ByteBuffer

    public init(payloadType: UInt8, timestampOffset: UInt16 = 0, data: ByteBuffer) {
        self.payloadType = payloadType
        self.timestampOffset = timestampOffset
        self.data = data
    }
}

/// A RED payload (RFC 2198 §3): a chain of headers, then the blocks in the same order, the
/// primary encoding last.
///
/// ```
///  0                   1                   2                   3
///  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |F|   block PT  |  timestamp offset         |   block length    |   (F=1, redundant)
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |0|   block PT  |                                                   (F=0, primary, last)
/// +-+-+-+-+-+-+-+-+
/// ```
public struct REDPayload: Hashable, Sendable {
    /// Redundant blocks, oldest first as sent.
    public var redundant: [REDBlock]
    /// The primary encoding.
    public var primary: REDBlock

    public init(redundant: [REDBlock], primary: REDBlock) {
        self.redundant = redundant
        self.primary = primary
    }

    /// Parses a RED payload; block data are slices of `payload`.
    public init(parsing payload: ByteBuffer) throws(PayloadError) {
        var list: [REDBlock] = []
        let primary = try Self.walk(payload) { block in list.append(block) }
        self.redundant = list
        self.primary = primary
    }

    /// The primary block only, without allocating (for forwarding RED to a non-RED subscriber).
    public static func primaryBlock(in payload: ByteBuffer) throws(PayloadError) -> REDBlock {
        try walk(payload) { _ in }
    }

    /// Walks the header chain, calls `redundant` per redundant block, returns the primary.
    static func walk(_ payload: ByteBuffer, _ redundant: (REDBlock) -> Void) throws(PayloadError) -> REDBlock {
        var headers = PayloadReader(payload)
        // First pass: headers, to find where data starts.
        var count = 0
        var dataLength = 0
        while true {
            let first = try headers.u8("RED header")
            if first & 0x80 == 0 { break }
            let rest = try headers.u8("RED header")
            let last = try headers.u16("RED header")
            _ = rest
            dataLength += Int(last & 0x03FF)
            count += 1
        }
        let primaryPT = (payload.getInteger(at: payload.readerIndex + headers.offset - 1, as: UInt8.self) ?? 0) & 0x7F
        guard dataLength <= headers.remaining else {
            throw PayloadError(.invalidLength, offset: headers.offset, detail: "RED block lengths past the end")
        }
        // Second pass: blocks.
        var reader = PayloadReader(payload)
        var data = PayloadReader(payload)
        data.offset = headers.offset
        for _ in 0..<count {
            let first = try reader.u8()
            let middle = try reader.u8()
            let last = try reader.u16()
            let offset = UInt16(middle) << 6 | last >> 10
            let block = try data.slice(Int(last & 0x03FF))
            redundant(REDBlock(payloadType: first & 0x7F, timestampOffset: offset, data: block))
        }
        return REDBlock(payloadType: primaryPT, data: data.rest())
    }

    public var encodedSize: Int {
        4 * redundant.count + 1 + redundant.reduce(0) { $0 + $1.data.readableBytes } + primary.data.readableBytes
    }

    /// Appends the payload. Throws `value_out_of_range` for a timestamp offset above 2^14-1 or a
    /// redundant block longer than 1023 bytes (RFC 2198 §3).
    @discardableResult
    public func write(to out: inout ByteBuffer) throws(PayloadError) -> Int {
        for block in redundant {
            guard block.timestampOffset <= 0x3FFF, block.data.readableBytes <= 0x3FF else {
                throw PayloadError(.valueOutOfRange, detail: "RED timestamp offset or block length")
            }
        }
        let start = out.writerIndex
        for block in redundant {
            out.writeInteger(0x80 | block.payloadType & 0x7F)
            out.writeInteger(UInt8(truncatingIfNeeded: block.timestampOffset >> 6))
            out.writeInteger(UInt16(block.timestampOffset & 0x3F) << 10 | UInt16(block.data.readableBytes))
        }
        out.writeInteger(primary.payloadType & 0x7F)
        for block in redundant { out.writeImmutableBuffer(block.data) }
        out.writeImmutableBuffer(primary.data)
        return out.writerIndex - start
    }
}

/// Builds Opus RED payloads (RFC 2198, as used by WebRTC for audio): each new frame goes out as
/// the primary with up to `distance` previous frames as redundant blocks, skipping those too old
/// (offset above 14 bits) or too large (above 1023 bytes) to encode.
public struct REDEncoder: Sendable {
    public var payloadType: UInt8
    public var distance: Int
    private var history: [(timestamp: UInt32, data: ByteBuffer)] = []

    public init(payloadType: UInt8, distance: Int = 1) {
        self.payloadType = payloadType
        self.distance = max(0, min(distance, 8))
    }

    /// The RED payload carrying `frame` (timestamp `timestamp`) and its predecessors.
    public mutating func encode(frame: ByteBuffer, timestamp: UInt32) -> ByteBuffer {
        var blocks: [REDBlock] = []
        for old in history {
            let offset = timestamp &- old.timestamp
            guard offset > 0, offset <= 0x3FFF, old.data.readableBytes <= 0x3FF else { continue }
            blocks.append(REDBlock(payloadType: payloadType, timestampOffset: UInt16(offset), data: old.data))
        }
        let payload = REDPayload(redundant: blocks, primary: REDBlock(payloadType: payloadType, data: frame))
        var out = ByteBuffer()
        out.reserveCapacity(payload.encodedSize)
        _ = try? payload.write(to: &out)
        history.append((timestamp, frame))
        if history.count > distance { history.removeFirst(history.count - distance) }
        return out
    }
}
