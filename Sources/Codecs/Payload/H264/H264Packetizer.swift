import NIOCore

/// H.264 packetizer, packetization-mode 1 (RFC 6184 §6.3): takes one access unit as an Annex-B
/// stream and emits single NAL unit packets (§5.6), STAP-A packets aggregating consecutive small
/// units such as SPS+PPS (§5.7.1), and FU-A fragments for units larger than `maxPayloadSize`
/// (§5.8). The marker bit is set on the access unit's last packet (§5.1).
public struct H264Packetizer: RTPPacketizer {
    public var maxPayloadSize: Int
    /// Aggregate small consecutive NAL units into STAP-A packets.
    public var usesSTAPA = true

    public init(maxPayloadSize: Int = 1200) { self.maxPayloadSize = maxPayloadSize }

    public mutating func packetize(
        frame: ByteBuffer, timestamp: UInt32, emit: (_ payload: ByteBuffer, _ marker: Bool) -> Void
    ) throws(PayloadError) {
        let units = H264AnnexB.nalUnits(in: frame)
        guard !units.isEmpty else { throw PayloadError(.truncated, detail: "no NAL unit in the Annex B stream") }
        guard maxPayloadSize >= 3 else { throw PayloadError(.valueOutOfRange, detail: "maxPayloadSize below 3") }
        for unit in units {
            guard let byte = unit.getInteger(at: unit.readerIndex, as: UInt8.self),
                  !H264NALHeader(byte).forbiddenBit, H264NALHeader(byte).type.isSingleNALUnit
            else { throw PayloadError(.invalidNALUnit, detail: "Annex B NAL unit header") }
        }
        var index = 0
        while index < units.count {
            let unit = units[index]
            if unit.readableBytes > maxPayloadSize {
                fragment(unit, isLastUnit: index == units.count - 1, emit: emit)
                index += 1
                continue
            }
            // Greedy STAP-A: 1 header byte, then (2-byte size + unit) per aggregated unit.
            var end = index + 1
            var size = 1 + 2 + unit.readableBytes
            // STAP-A sizes are 16 bits (RFC 6184 §5.7.1).
            while usesSTAPA, unit.readableBytes <= 0xFFFF, end < units.count, units[end].readableBytes <= 0xFFFF,
                  size + 2 + units[end].readableBytes <= maxPayloadSize
            {
                size += 2 + units[end].readableBytes
                end += 1
            }
            let isLast = end == units.count
            if end - index == 1 {
                emit(unit, isLast)
            } else {
                var payload = ByteBuffer()
                payload.reserveCapacity(size)
                var forbidden: UInt8 = 0
                var nri: UInt8 = 0
                for inner in units[index..<end] {
                    let header = H264NALHeader(inner.getInteger(at: inner.readerIndex, as: UInt8.self) ?? 0)
                    forbidden |= header.byte & 0x80
                    nri = max(nri, header.nri)
                }
                // RFC 6184 §5.7.1: F is the OR of the aggregated F bits, NRI their maximum.
                payload.writeInteger(forbidden | nri << 5 | H264NALUnitType.stapA.rawValue)
                for inner in units[index..<end] {
                    payload.writeInteger(UInt16(inner.readableBytes))
                    payload.writeImmutableBuffer(inner)
                }
                emit(payload, isLast)
            }
            index = end
        }
    }

    private func fragment(_ unit: ByteBuffer, isLastUnit: Bool, emit: (_ payload: ByteBuffer, _ marker: Bool) -> Void) {
        let header = H264NALHeader(unit.getInteger(at: unit.readerIndex, as: UInt8.self) ?? 0)
        // RFC 6184 §5.8: FU indicator keeps F and NRI; the FU header carries S, E and the type.
        let indicator = header.byte & 0xE0 | H264NALUnitType.fuA.rawValue
        let body = unit.readableBytes - 1
        guard let splitter = FrameSplitter(length: body, capacity: maxPayloadSize - 2) else { return }
        var first = true
        for part in splitter {
            var payload = ByteBuffer()
            payload.reserveCapacity(2 + part.length)
            payload.writeInteger(indicator)
            payload.writeInteger((first ? 0x80 : 0) | (part.isLast ? 0x40 : 0) | header.type.rawValue)
            if let slice = unit.getSlice(at: unit.readerIndex + 1 + part.offset, length: part.length) {
                payload.writeImmutableBuffer(slice)
            }
            emit(payload, part.isLast && isLastUnit)
            first = false
        }
    }
}
