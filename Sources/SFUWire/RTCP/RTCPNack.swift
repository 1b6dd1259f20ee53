import NIOCore

/// Generic NACK: RTPFB (PT 205) FMT 1 (RFC 4585 §6.2.1). Each FCI item names a lost packet
/// (PID) and a bitmask of the 16 following ones (BLP: bit i set means PID+i+1 is lost).
public struct RTCPNack: Hashable, Sendable {
    public struct Item: Hashable, Sendable {
        public var packetID: UInt16
        public var lostBitmask: UInt16

        public init(packetID: UInt16, lostBitmask: UInt16) {
            self.packetID = packetID
            self.lostBitmask = lostBitmask
        }

        /// PID then each sequence number flagged in BLP, in order (wrapping at 65535).
        public var sequenceNumbers: [UInt16] {
            var result = [packetID]
            for bit in 0..<16 where lostBitmask & (1 << bit) != 0 {
                result.append(packetID &+ UInt16(bit + 1))
            }
            return result
        }
    }

    public var senderSSRC: UInt32
    public var mediaSSRC: UInt32
    public var items: [Item]

    public static let format: UInt8 = 1

    public init(senderSSRC: UInt32, mediaSSRC: UInt32, items: [Item]) {
        self.senderSSRC = senderSSRC
        self.mediaSSRC = mediaSSRC
        self.items = items
    }

    /// Packs lost sequence numbers into PID+BLP items: each number within 1...16 after the
    /// current item's PID (modulo 2^16) joins that item, otherwise it starts a new one. Give the
    /// numbers in sending order for the tightest packing.
    public init(senderSSRC: UInt32, mediaSSRC: UInt32, lostSequenceNumbers: some Sequence<UInt16>) {
        var items: [Item] = []
        for sequence in lostSequenceNumbers {
            if var last = items.last {
                let distance = sequence &- last.packetID
                if distance == 0 { continue }
                if distance <= 16 {
                    last.lostBitmask |= 1 << (distance - 1)
                    items[items.count - 1] = last
                    continue
                }
            }
            items.append(Item(packetID: sequence, lostBitmask: 0))
        }
        self.init(senderSSRC: senderSSRC, mediaSSRC: mediaSSRC, items: items)
    }

    /// All sequence numbers reported lost, item by item.
    public var lostSequenceNumbers: [UInt16] { items.flatMap(\.sequenceNumbers) }

    public init(parsing buffer: inout ByteBuffer) throws(WireParseError) {
        var (_, body) = try RTCPHeader.readPacket(from: &buffer, type: RTCPHeader.transportFeedback, format: Self.format)
        senderSSRC = try body.readOrThrow(UInt32.self, "NACK")
        mediaSSRC = try body.readOrThrow(UInt32.self, "NACK")
        // RFC 4585 §6.2.1: at least one FCI item.
        guard body.readableBytes >= 4, body.readableBytes % 4 == 0 else {
            throw WireParseError(.invalidFeedback, offset: body.readerIndex, detail: "NACK FCI")
        }
        var items: [Item] = []
        items.reserveCapacity(body.readableBytes / 4)
        while body.readableBytes >= 4 {
            let pid = try body.readOrThrow(UInt16.self)
            let blp = try body.readOrThrow(UInt16.self)
            items.append(Item(packetID: pid, lostBitmask: blp))
        }
        self.items = items
    }

    public var encodedSize: Int { 12 + 4 * items.count }

    @discardableResult
    public func write(to buffer: inout ByteBuffer) -> Int {
        RTCPHeader.write(count: Self.format, packetType: RTCPHeader.transportFeedback, size: encodedSize, to: &buffer)
        buffer.writeInteger(senderSSRC)
        buffer.writeInteger(mediaSSRC)
        for item in items {
            buffer.writeInteger(item.packetID)
            buffer.writeInteger(item.lostBitmask)
        }
        return encodedSize
    }
}
