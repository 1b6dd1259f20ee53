import NIOCore

/// AV1 packetizer (AV1 RTP payload spec v1.0 §4–§5): takes one temporal unit in low-overhead
/// bitstream format (OBUs with `obu_has_size_field`), removes temporal delimiters and tile-list
/// OBUs (§5), strips the OBU size fields (§4.3), and packs the OBU elements into payloads of at
/// most `maxPayloadSize` bytes, fragmenting OBUs across packets (Y/Z bits) when needed. N is set
/// on the first packet when the temporal unit carries a sequence header (a new coded video
/// sequence, §4.4); the marker bit on the last packet of the temporal unit (§4.1).
public struct AV1Packetizer: RTPPacketizer {
    public var maxPayloadSize: Int

    public init(maxPayloadSize: Int = 1200) { self.maxPayloadSize = maxPayloadSize }

    /// An OBU element: the rewritten header bytes plus the OBU payload slice.
    private struct Element {
        var header: AV1OBUHeader
        var payload: ByteBuffer
        var length: Int { header.encodedSize + payload.readableBytes }
    }

    /// One element (or fragment of one) placed in a packet.
    private struct Piece {
        var element: Int
        var offset: Int
        var length: Int
    }

    public mutating func packetize(
        frame: ByteBuffer, timestamp: UInt32, emit: (_ payload: ByteBuffer, _ marker: Bool) -> Void
    ) throws(PayloadError) {
        let elements = try AV1OBU.parseLowOverhead(frame)
            .filter { $0.header.type != .temporalDelimiter && $0.header.type != .tileList }
            .map { Element(header: $0.header, payload: $0.payload) }
        guard !elements.isEmpty else { throw PayloadError(.truncated, detail: "temporal unit without OBUs to send") }
        guard maxPayloadSize >= 3 else { throw PayloadError(.valueOutOfRange, detail: "maxPayloadSize below 3") }
        let startsSequence = elements.contains { $0.header.type == .sequenceHeader }

        // Greedy packing, budgeting a length field for every element (W is chosen at write time).
        var packets: [[Piece]] = []
        var current: [Piece] = []
        var room = maxPayloadSize - 1
        for (index, element) in elements.enumerated() {
            var offset = 0
            while offset < element.length {
                let left = element.length - offset
                if LEB128.size(left) + left <= room {
                    current.append(Piece(element: index, offset: offset, length: left))
                    room -= LEB128.size(left) + left
                    offset = element.length
                    continue
                }
                // Fragment to fill this packet, unless too little room is left to bother.
                var fragment = room - LEB128.size(room)
                while fragment > 0, LEB128.size(fragment) + fragment > room { fragment -= 1 }
                if fragment >= 1, fragment >= min(left, 8) || current.isEmpty {
                    current.append(Piece(element: index, offset: offset, length: fragment))
                    offset += fragment
                }
                packets.append(current)
                current = []
                room = maxPayloadSize - 1
            }
        }
        if !current.isEmpty { packets.append(current) }

        for (packetIndex, pieces) in packets.enumerated() {
            guard let firstPiece = pieces.first, let lastPiece = pieces.last else { continue }
            let header = AV1AggregationHeader(
                continuesFragment: firstPiece.offset > 0,
                fragmentContinues: lastPiece.offset + lastPiece.length < elements[lastPiece.element].length,
                elementCount: pieces.count <= 3 ? pieces.count : 0,
                startsSequence: packetIndex == 0 && startsSequence
            )
            var payload = ByteBuffer()
            payload.reserveCapacity(maxPayloadSize)
            payload.writeInteger(header.byte)
            for (pieceIndex, piece) in pieces.enumerated() {
                if header.elementCount == 0 || pieceIndex < pieces.count - 1 {
                    LEB128.write(piece.length, to: &payload)
                }
                Self.write(elements[piece.element], range: piece.offset..<(piece.offset + piece.length), to: &payload)
            }
            emit(payload, packetIndex == packets.count - 1)
        }
    }

    /// Writes bytes `range` of an element (header without size field, then payload).
    private static func write(_ element: Element, range: Range<Int>, to out: inout ByteBuffer) {
        let headerSize = element.header.encodedSize
        if range.lowerBound < headerSize {
            var header = ByteBuffer()
            element.header.write(to: &header, hasSizeField: false)
            if let bytes = header.getSlice(at: range.lowerBound, length: min(headerSize, range.upperBound) - range.lowerBound) {
                out.writeImmutableBuffer(bytes)
            }
        }
        let start = max(range.lowerBound, headerSize) - headerSize
        let end = range.upperBound - headerSize
        if end > start, let slice = element.payload.getSlice(at: element.payload.readerIndex + start, length: end - start) {
            out.writeImmutableBuffer(slice)
        }
    }
}
