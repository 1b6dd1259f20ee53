import NIOCore
import Testing
@testable import Codecs

@Suite struct AV1PacketizerTests {
    static func obu(_ type: AV1OBUType, size: Int, seed: UInt64, temporalID: UInt8? = nil) -> AV1OBU {
        AV1OBU(
            header: AV1OBUHeader(type: type, temporalID: temporalID, spatialID: temporalID.map { _ in 0 }),
            payload: buffer(randomBytes(size, seed: seed))
        )
    }

    static func stream(_ obus: [AV1OBU]) -> ByteBuffer {
        var out = ByteBuffer()
        for obu in obus { obu.writeLowOverhead(to: &out) }
        return out
    }

    static let delimiter = obu(.temporalDelimiter, size: 0, seed: 0)
    static let sequenceHeader = obu(.sequenceHeader, size: 11, seed: 1)
    static let keyFrame = obu(.frame, size: 4000, seed: 2)
    static let deltaFrame = obu(.frame, size: 600, seed: 3, temporalID: 1)
    static let metadata = (0..<5).map { obu(.metadata, size: 10 + $0, seed: 10 + UInt64($0)) }
    static let tileList = obu(.tileList, size: 20, seed: 20)

    @Test func roundTripRemovesTemporalDelimitersAndTileLists() throws {
        let units = [
            [Self.delimiter, Self.sequenceHeader, Self.keyFrame],
            [Self.delimiter, Self.deltaFrame],
            [Self.delimiter] + Self.metadata + [Self.tileList, Self.obu(.frame, size: 50, seed: 4)],
            [Self.sequenceHeader, Self.obu(.frame, size: 2389, seed: 5)],
        ]
        var packetizer = AV1Packetizer(maxPayloadSize: 1200)
        let packets = try packetStream(&packetizer, frames: units.map(Self.stream))
        #expect(packets.allSatisfy { $0.payload.readableBytes <= 1200 })
        let headers = packets.map { AV1AggregationHeader($0.payload.getInteger(at: $0.payload.readerIndex, as: UInt8.self) ?? 0) }
        // First TU: N=1, the 4000-byte frame fragmented over 4 packets with Y/Z chained.
        #expect(headers[0].startsSequence && !headers[0].continuesFragment && headers[0].fragmentContinues)
        #expect(headers[1].continuesFragment && headers[1].fragmentContinues && headers[1].elementCount == 1)
        #expect(headers[3].continuesFragment && !headers[3].fragmentContinues)
        #expect(VideoPayloadCodec.av1.isKeyframe(payload: packets[0].payload))
        #expect(!packets.dropFirst().prefix(5).contains { VideoPayloadCodec.av1.isKeyframe(payload: $0.payload) })
        // Third TU: 6 elements in one packet, W=0.
        let third = packets.filter { $0.timestamp == 6000 }
        #expect(third.count == 1)
        #expect(AV1AggregationHeader(third[0].payload.getInteger(at: third[0].payload.readerIndex, as: UInt8.self) ?? 0).elementCount == 0)

        var depacketizer = AV1Depacketizer()
        let output = try depacketize(&depacketizer, packets)
        let expected = units.map { Self.stream($0.filter { $0.header.type != .temporalDelimiter && $0.header.type != .tileList }) }
        #expect(output.frames.map(\.data) == expected)
        #expect(output.frames.map(\.isKeyframe) == [true, false, false, true])
        #expect(output.dropped.isEmpty)
    }

    @Test func smallMTUsFragmentEveryOBU() throws {
        for mtu in [3, 4, 5, 17, 128, 129, 130, 1000] {
            var packetizer = AV1Packetizer(maxPayloadSize: mtu)
            let unit = Self.stream([Self.sequenceHeader, Self.obu(.frame, size: 300, seed: 6), Self.obu(.padding, size: 1, seed: 7)])
            let packets = try packetStream(&packetizer, frames: [unit])
            #expect(packets.allSatisfy { $0.payload.readableBytes <= mtu })
            var depacketizer = AV1Depacketizer()
            #expect(try depacketize(&depacketizer, packets).frames.map(\.data) == [unit])
        }
    }

    @Test func lossInsideAFragmentedOBU() throws {
        var packetizer = AV1Packetizer(maxPayloadSize: 1200)
        let units = [[Self.sequenceHeader, Self.keyFrame], [Self.deltaFrame]].map(Self.stream)
        var packets = try packetStream(&packetizer, frames: units)
        packets.remove(at: 1)
        var depacketizer = AV1Depacketizer()
        let output = try depacketize(&depacketizer, packets)
        #expect(output.frames.map(\.data) == [units[1]])
        #expect(output.dropped.map(\.reason) == [.missingPacket])
    }

    @Test func malformedPackets() throws {
        // Z=1 with no fragment open.
        var depacketizer = AV1Depacketizer()
        expectError(.fuWithoutStart) { try depacketizer.push(payload: hexBuffer("90 30 AA"), sequenceNumber: 1, timestamp: 0, marker: true) }
        // Element length past the end.
        expectError(.badOBUSize) { try depacketizer.push(payload: hexBuffer("00 09 30 AA"), sequenceNumber: 2, timestamp: 1, marker: true) }
        // OBU keeps a size field that disagrees with the element.
        expectError(.badOBUSize) { try depacketizer.push(payload: hexBuffer("10 32 05 AA"), sequenceNumber: 3, timestamp: 2, marker: true) }
        // Forbidden bit.
        expectError(.invalidOBU) { try depacketizer.push(payload: hexBuffer("10 B0 AA"), sequenceNumber: 4, timestamp: 3, marker: true) }
        expectError(.truncated) { try depacketizer.push(payload: ByteBuffer(), sequenceNumber: 5, timestamp: 4, marker: true) }
        // A matching size field is accepted; temporal delimiters are ignored.
        let output = try depacketizer.push(payload: hexBuffer("00 02 12 00 03 32 01 AA"), sequenceNumber: 6, timestamp: 5, marker: true)
        #expect(output.frames.map { bytes($0.data) } == [[0x32, 0x01, 0xAA]])
        var packetizer = AV1Packetizer()
        expectError(.badOBUSize) { try packetizer.packetize(frame: hexBuffer("32 09 AA")) }
        expectError(.truncated) { try packetizer.packetize(frame: hexBuffer("12 00")) }
    }
}
