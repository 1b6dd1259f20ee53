import NIOCore

/// Source description, PT 202 (RFC 3550 §6.5).
public struct RTCPSourceDescription: Hashable, Sendable {
    /// One SDES item: type (1 CNAME, 2 NAME, … 8 PRIV) and up to 255 bytes of text.
    public struct Item: Hashable, Sendable {
        public var type: UInt8
        public var value: [UInt8]

        public init(type: UInt8, value: [UInt8]) {
            self.type = type
            self.value = Array(value.prefix(255))
        }

        public init(type: UInt8, text: String) { self.init(type: type, value: Array(text.utf8)) }

        public static func cname(_ text: String) -> Item { Item(type: 1, text: text) }

        public var text: String { String(decoding: value, as: UTF8.self) }
    }

    /// A chunk: an SSRC/CSRC and its items.
    public struct Chunk: Hashable, Sendable {
        public var source: UInt32
        public var items: [Item]

        public init(source: UInt32, items: [Item]) {
            self.source = source
            self.items = items
        }

        /// Chunk size: SSRC, items, at least one null octet, padded to 32 bits (RFC 3550 §6.5).
        var encodedSize: Int {
            let itemBytes = items.reduce(0) { $0 + 2 + $1.value.count }
            return 4 + (itemBytes + 1 + 3) / 4 * 4
        }
    }

    public static let cnameType: UInt8 = 1
    public static let packetType = RTCPHeader.sourceDescription

    /// At most 31 chunks.
    public var chunks: [Chunk]

    public init(chunks: [Chunk]) { self.chunks = chunks }

    public init(parsing buffer: inout ByteBuffer) throws(WireParseError) {
        var (header, body) = try RTCPHeader.readPacket(from: &buffer, type: Self.packetType)
        let bodyStart = body.readerIndex
        var chunks: [Chunk] = []
        for _ in 0..<header.count {
            let source = try body.readOrThrow(UInt32.self, "SDES chunk")
            var items: [Item] = []
            while true {
                let type = try body.readOrThrow(UInt8.self, "SDES item")
                if type == 0 {
                    // RFC 3550 §6.5: the item list ends with null octets up to the next 32-bit boundary.
                    let consumed = body.readerIndex - bodyStart
                    let skip = (4 - consumed % 4) % 4
                    guard body.readableBytes >= skip else {
                        throw WireParseError(.truncated, offset: body.readerIndex, detail: "SDES chunk padding")
                    }
                    body.moveReaderIndex(forwardBy: skip)
                    break
                }
                let length = try body.readOrThrow(UInt8.self, "SDES item length")
                items.append(Item(type: type, value: try body.readBytesOrThrow(Int(length), "SDES item value")))
            }
            chunks.append(Chunk(source: source, items: items))
        }
        self.chunks = chunks
    }

    public var encodedSize: Int { 4 + chunks.prefix(31).reduce(0) { $0 + $1.encodedSize } }

    @discardableResult
    public func write(to buffer: inout ByteBuffer) -> Int {
        let chunks = self.chunks.prefix(31)
        RTCPHeader.write(count: UInt8(chunks.count), packetType: Self.packetType, size: encodedSize, to: &buffer)
        for chunk in chunks {
            let start = buffer.writerIndex
            buffer.writeInteger(chunk.source)
            for item in chunk.items {
                buffer.writeInteger(item.type)
                buffer.writeInteger(UInt8(item.value.count))
                buffer.writeBytes(item.value)
            }
            buffer.writeRepeatingByte(0, count: chunk.encodedSize - (buffer.writerIndex - start))
        }
        return encodedSize
    }
}
