import NIOCore

/// Transport-wide congestion control feedback: RTPFB (PT 205) FMT 15
/// (draft-holmer-rmcat-transport-wide-cc-extensions-01 §3.1).
///
/// Layout after the common feedback header: base sequence number (16), packet status count (16),
/// reference time (24, signed, multiples of 64 ms), feedback packet count (8), packet status
/// chunks (16 bits each), then one receive delta per received packet (1 byte unsigned for the
/// "small delta" symbol, 2 bytes signed for "large or negative"), in units of 250 µs.
public struct RTCPTransportCC: Hashable, Sendable {
    /// The fate of one transport sequence number.
    public enum PacketStatus: Hashable, Sendable {
        case notReceived
        /// Received; delta from the previous received packet (or the reference time) in 250 µs ticks.
        case received(delta: Int16)

        /// §3.1.1 symbols: 0 not received, 1 small delta (0...255 ticks), 2 large or negative delta.
        var symbol: UInt8 {
            switch self {
            case .notReceived: return 0
            case .received(let delta): return (0...255).contains(delta) ? 1 : 2
            }
        }
    }

    public var senderSSRC: UInt32
    public var mediaSSRC: UInt32
    public var baseSequenceNumber: UInt16
    /// Signed 24-bit reference time in 64 ms units.
    public var referenceTime: Int32
    public var feedbackPacketCount: UInt8
    /// One status per sequence number from `baseSequenceNumber` (at most 65535).
    public var packets: [PacketStatus]

    public static let format: UInt8 = 15
    static let maxRunLength = 0x1FFF

    public init(
        senderSSRC: UInt32, mediaSSRC: UInt32, baseSequenceNumber: UInt16, referenceTime: Int32,
        feedbackPacketCount: UInt8, packets: [PacketStatus]
    ) {
        self.senderSSRC = senderSSRC
        self.mediaSSRC = mediaSSRC
        self.baseSequenceNumber = baseSequenceNumber
        self.referenceTime = min(max(referenceTime, -0x80_0000), 0x7F_FFFF)
        self.feedbackPacketCount = feedbackPacketCount
        self.packets = Array(packets.prefix(Int(UInt16.max)))
    }

    /// Builds feedback from arrival times: `arrivals[i]` is the arrival of sequence number
    /// `baseSequenceNumber + i` in microseconds on the receiver's clock, or `nil` if lost.
    ///
    /// The reference time is the first arrival floored to 64 ms (§3.1); deltas are computed from
    /// the rounded previous arrival so rounding never accumulates. Throws `valueOutOfRange` when
    /// a delta does not fit 16 bits (±8.19 s): the caller then starts a new feedback packet there.
    public init(
        senderSSRC: UInt32, mediaSSRC: UInt32, baseSequenceNumber: UInt16, feedbackPacketCount: UInt8,
        arrivalsMicroseconds arrivals: [Int64?]
    ) throws(WireParseError) {
        guard arrivals.count <= Int(UInt16.max) else {
            throw WireParseError(.valueOutOfRange, detail: "more than 65535 packets")
        }
        let first = arrivals.lazy.compactMap { $0 }.first ?? 0
        let reference = first >= 0 ? first / 64_000 : (first - 63_999) / 64_000
        var previousTicks = reference * 256  // 64 ms = 256 ticks of 250 µs
        var packets: [PacketStatus] = []
        packets.reserveCapacity(arrivals.count)
        for arrival in arrivals {
            guard let arrival else {
                packets.append(.notReceived)
                continue
            }
            let ticks = arrival >= 0 ? (arrival + 125) / 250 : (arrival - 125) / 250
            let delta = ticks - previousTicks
            guard let delta16 = Int16(exactly: delta) else {
                throw WireParseError(.valueOutOfRange, detail: "receive delta does not fit 16 bits")
            }
            packets.append(.received(delta: delta16))
            previousTicks = ticks
        }
        guard let referenceTime = Int32(exactly: reference), (-0x80_0000...0x7F_FFFF).contains(referenceTime) else {
            throw WireParseError(.valueOutOfRange, detail: "reference time does not fit 24 bits")
        }
        self.init(
            senderSSRC: senderSSRC, mediaSSRC: mediaSSRC, baseSequenceNumber: baseSequenceNumber,
            referenceTime: referenceTime, feedbackPacketCount: feedbackPacketCount, packets: packets
        )
    }

    /// Arrival times in microseconds reconstructed from the reference time and deltas (`nil` for
    /// packets not received), the inverse of ``init(senderSSRC:mediaSSRC:baseSequenceNumber:feedbackPacketCount:arrivalsMicroseconds:)``
    /// up to 250 µs rounding.
    public var arrivalsMicroseconds: [Int64?] {
        var ticks = Int64(referenceTime) * 256
        return packets.map { status in
            guard case .received(let delta) = status else { return nil }
            ticks += Int64(delta)
            return ticks * 250
        }
    }

    public init(parsing buffer: inout ByteBuffer) throws(WireParseError) {
        var (_, body) = try RTCPHeader.readPacket(from: &buffer, type: RTCPHeader.transportFeedback, format: Self.format)
        senderSSRC = try body.readOrThrow(UInt32.self, "TWCC")
        mediaSSRC = try body.readOrThrow(UInt32.self, "TWCC")
        baseSequenceNumber = try body.readOrThrow(UInt16.self, "TWCC base sequence")
        let statusCount = Int(try body.readOrThrow(UInt16.self, "TWCC status count"))
        let word = try body.readOrThrow(UInt32.self, "TWCC reference time")
        referenceTime = Int32(bitPattern: word) >> 8  // sign-extends the 24-bit field
        feedbackPacketCount = UInt8(word & 0xFF)

        // §3.1.1-3.1.4: decode chunks into symbols until `statusCount` symbols are known.
        var symbols: [UInt8] = []
        symbols.reserveCapacity(min(statusCount, 4 * body.readableBytes))
        while symbols.count < statusCount {
            let chunk = try body.readOrThrow(UInt16.self, "TWCC packet chunk")
            let remaining = statusCount - symbols.count
            if chunk & 0x8000 == 0 {
                // §3.1.3 run length chunk: T=0, symbol (2 bits), run length (13 bits).
                let symbol = UInt8((chunk >> 13) & 0x3)
                let run = min(Int(chunk & 0x1FFF), remaining)
                guard symbol != 3 || run == 0 else {
                    throw WireParseError(.invalidFeedback, offset: body.readerIndex - 2, detail: "reserved TWCC symbol")
                }
                symbols.append(contentsOf: repeatElement(symbol, count: run))
            } else if chunk & 0x4000 == 0 {
                // §3.1.4 status vector, S=0: fourteen 1-bit symbols.
                for bit in (0..<14).reversed().prefix(remaining) {
                    symbols.append(UInt8((chunk >> bit) & 1))
                }
            } else {
                // §3.1.4 status vector, S=1: seven 2-bit symbols.
                for index in (0..<7).reversed().prefix(remaining) {
                    let symbol = UInt8((chunk >> (2 * index)) & 0x3)
                    guard symbol != 3 else {
                        throw WireParseError(.invalidFeedback, offset: body.readerIndex - 2, detail: "reserved TWCC symbol")
                    }
                    symbols.append(symbol)
                }
            }
        }
        // §3.1.5: one receive delta per received packet, in symbol order.
        var packets: [PacketStatus] = []
        packets.reserveCapacity(symbols.count)
        for symbol in symbols {
            switch symbol {
            case 0:
                packets.append(.notReceived)
            case 1:
                packets.append(.received(delta: Int16(try body.readOrThrow(UInt8.self, "TWCC small delta"))))
            default:
                packets.append(.received(delta: try body.readOrThrow(Int16.self, "TWCC large delta")))
            }
        }
        // Up to 3 zero bytes may pad the packet to 32 bits without the P bit.
        guard body.readableBytes < 4 else {
            throw WireParseError(.invalidFeedback, offset: body.readerIndex, detail: "TWCC trailing bytes")
        }
        self.packets = packets
    }

    /// Sequence numbers received, with their deltas, in order.
    public var receivedPackets: [(sequenceNumber: UInt16, delta: Int16)] {
        packets.enumerated().compactMap { index, status in
            if case .received(let delta) = status {
                return (baseSequenceNumber &+ UInt16(truncatingIfNeeded: index), delta)
            }
            return nil
        }
    }

    /// The packet status chunks this encoder emits (greedy: run-length for runs of 14 or more or
    /// for a uniform tail, 1-bit vectors when no large delta is near, else 2-bit vectors).
    var chunks: [UInt16] {
        let symbols = packets.map(\.symbol)
        var chunks: [UInt16] = []
        var index = 0
        while index < symbols.count {
            let symbol = symbols[index]
            var run = 1
            while index + run < symbols.count, symbols[index + run] == symbol, run < Self.maxRunLength { run += 1 }
            let window = symbols[index..<min(index + 14, symbols.count)]
            if run >= 14 || index + run == symbols.count {
                chunks.append(UInt16(symbol) << 13 | UInt16(run))
                index += run
            } else if !window.contains(2) {
                var chunk: UInt16 = 0x8000
                for (position, value) in window.enumerated() { chunk |= UInt16(value) << (13 - position) }
                chunks.append(chunk)
                index += window.count
            } else if run >= 7 {
                chunks.append(UInt16(symbol) << 13 | UInt16(run))
                index += run
            } else {
                var chunk: UInt16 = 0xC000
                for (position, value) in symbols[index..<min(index + 7, symbols.count)].enumerated() {
                    chunk |= UInt16(value) << (12 - 2 * position)
                }
                chunks.append(chunk)
                index += min(7, symbols.count - index)
            }
        }
        return chunks
    }

    private var deltaBytes: Int {
        packets.reduce(0) { total, status in
            switch status.symbol {
            case 1: return total + 1
            case 2: return total + 2
            default: return total
            }
        }
    }

    private func unpaddedSize(chunkCount: Int) -> Int { 20 + 2 * chunkCount + deltaBytes }

    public var encodedSize: Int { (unpaddedSize(chunkCount: chunks.count) + 3) / 4 * 4 }

    /// Writes the packet; padding to 32 bits uses the P bit with a count byte, as libwebrtc does
    /// (RFC 3550 §6.4.1).
    @discardableResult
    public func write(to buffer: inout ByteBuffer) -> Int {
        let chunks = self.chunks
        let unpadded = unpaddedSize(chunkCount: chunks.count)
        let size = (unpadded + 3) / 4 * 4
        let padding = size - unpadded
        RTCPHeader.write(
            count: Self.format, packetType: RTCPHeader.transportFeedback, size: size, padding: padding > 0, to: &buffer
        )
        buffer.writeInteger(senderSSRC)
        buffer.writeInteger(mediaSSRC)
        buffer.writeInteger(baseSequenceNumber)
        buffer.writeInteger(UInt16(packets.count))
        buffer.writeInteger(UInt32(bitPattern: referenceTime) << 8 | UInt32(feedbackPacketCount))
        for chunk in chunks { buffer.writeInteger(chunk) }
        for status in packets {
            guard case .received(let delta) = status else { continue }
            if status.symbol == 1 { buffer.writeInteger(UInt8(delta)) } else { buffer.writeInteger(delta) }
        }
        if padding > 0 {
            buffer.writeRepeatingByte(0, count: padding - 1)
            buffer.writeInteger(UInt8(padding))
        }
        return size
    }
}
