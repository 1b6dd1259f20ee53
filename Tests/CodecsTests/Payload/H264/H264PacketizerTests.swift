import NIOCore
import Testing
@testable import Codecs

@Suite struct H264PacketizerTests {
    /// A NAL unit of `size` bytes with no zero bytes, so no start code emulation.
    static func unit(_ header: UInt8, size: Int, seed: UInt64) -> [UInt8] {
        [header] + randomBytes(size - 1, seed: seed).map { $0 == 0 ? 1 : $0 }
    }

    static let sps = bytes(H264NALUnitTests.sps)
    static let pps = bytes(H264NALUnitTests.pps)
    static let idr = unit(0x65, size: 5000, seed: 1)
    static let slice1 = unit(0x41, size: 800, seed: 2)
    static let slice2 = unit(0x41, size: 300, seed: 3)
    static let slice3 = unit(0x01, size: 200, seed: 4)  // NRI 0

    /// Access units as an encoder writes them (mixed 3- and 4-byte start codes).
    static let accessUnits: [[UInt8]] = [
        [0, 0, 0, 1] + sps + [0, 0, 0, 1] + pps + [0, 0, 1] + idr,
        [0, 0, 0, 1] + slice1,
        [0, 0, 1] + slice2 + [0, 0, 0, 1] + slice3,
    ]

    static func annexB(_ units: [[UInt8]]) -> [UInt8] { units.flatMap { [0, 0, 0, 1] + $0 } }

    @Test func packetizationMode1() throws {
        var packetizer = H264Packetizer(maxPayloadSize: 1200)
        let packets = try packetStream(&packetizer, frames: Self.accessUnits.map(buffer))
        let types = try packets.map { try H264PacketInfo(payload: $0.payload).packetType }
        // SPS+PPS aggregated (the IDR does not fit with them), IDR in 5 FU-As, slice alone, two slices in a STAP-A.
        #expect(types == [.stapA, .fuA, .fuA, .fuA, .fuA, .fuA, .slice, .stapA])
        #expect(packets.map(\.marker) == [false, false, false, false, false, true, true, true])
        #expect(packets.map { VideoPayloadCodec.h264.isKeyframe(payload: $0.payload) } == [true, true, false, false, false, false, false, false])
        #expect(packets.map { $0.payload.readableBytes }.max() ?? 0 <= 1200)
        // FU indicator keeps NRI 3 of the IDR; STAP-A NRI is the maximum of its units (RFC 6184 §5.7.1).
        #expect(packets[1].payload.getInteger(at: 0, as: UInt8.self) == 0x7C)
        #expect(packets[7].payload.getInteger(at: 0, as: UInt8.self) == 0x58)

        var depacketizer = H264Depacketizer()
        let output = try depacketize(&depacketizer, packets)
        #expect(output.frames.map { bytes($0.data) } == [
            Self.annexB([Self.sps, Self.pps, Self.idr]), Self.annexB([Self.slice1]), Self.annexB([Self.slice2, Self.slice3]),
        ])
        #expect(output.frames.map(\.isKeyframe) == [true, false, false])
        #expect(output.dropped.isEmpty)
    }

    @Test func withoutAggregationEveryUnitTravelsAlone() throws {
        var packetizer = H264Packetizer(maxPayloadSize: 6000)
        packetizer.usesSTAPA = false
        let packets = try packetStream(&packetizer, frames: [buffer(Self.accessUnits[0])])
        #expect(packets.map { bytes($0.payload) } == [Self.sps, Self.pps, Self.idr])
    }

    @Test func lostFragmentDropsTheAccessUnit() throws {
        var packetizer = H264Packetizer(maxPayloadSize: 1200)
        var packets = try packetStream(&packetizer, frames: Self.accessUnits.map(buffer))
        packets.remove(at: 3)
        var depacketizer = H264Depacketizer()
        let output = try depacketize(&depacketizer, packets)
        #expect(output.frames.count == 2)
        #expect(output.dropped == [DroppedFrame(reason: .missingPacket, timestamp: 0, missingPackets: 1)])
    }

    @Test func fuAWithoutStartIsATypedError() throws {
        var depacketizer = H264Depacketizer()
        expectError(.fuWithoutStart) {
            try depacketizer.push(payload: hexBuffer("7C 05 88 99"), sequenceNumber: 1, timestamp: 0, marker: false)
        }
        // The rest of the broken access unit is dropped and reported at its end; the next one decodes.
        let end = try depacketizer.push(payload: hexBuffer("7C 45 88 99"), sequenceNumber: 2, timestamp: 0, marker: true)
        #expect(end.frames.isEmpty && end.dropped.map(\.reason) == [.malformed])
        let output = try depacketizer.push(payload: hexBuffer("41 9A"), sequenceNumber: 3, timestamp: 3000, marker: true)
        #expect(output.frames.map { bytes($0.data) } == [[0, 0, 0, 1, 0x41, 0x9A]])
        #expect(output.dropped.isEmpty)
        // After a sequence gap the same continuation is a loss, not an error.
        let lost = try depacketizer.push(payload: hexBuffer("7C 45 88 99"), sequenceNumber: 9, timestamp: 6000, marker: true)
        #expect(lost.dropped.map(\.reason) == [.missingPacket])
    }

    @Test func fuAStartWhileOpenAndUnfinishedFragment() throws {
        var depacketizer = H264Depacketizer()
        _ = try depacketizer.push(payload: hexBuffer("7C 85 88"), sequenceNumber: 1, timestamp: 0, marker: false)
        expectError(.fuWithoutEnd) {
            try depacketizer.push(payload: hexBuffer("7C 85 88"), sequenceNumber: 2, timestamp: 0, marker: false)
        }
        // An access unit ending inside an FU-A is dropped.
        var other = H264Depacketizer()
        _ = try other.push(payload: hexBuffer("7C 85 88"), sequenceNumber: 1, timestamp: 0, marker: false)
        let output = try other.push(payload: hexBuffer("7C 05 89"), sequenceNumber: 2, timestamp: 0, marker: true)
        #expect(output.frames.isEmpty && output.dropped.count == 1)
    }

    @Test func stapALengthPastTheEnd() {
        var depacketizer = H264Depacketizer()
        expectError(.invalidLength) {
            try depacketizer.push(payload: hexBuffer("78 00 02 67 42 00 09 68"), sequenceNumber: 1, timestamp: 0, marker: true)
        }
    }

    @Test func packetizerRejectsEmptyStreams() {
        var packetizer = H264Packetizer()
        expectError(.truncated) { try packetizer.packetize(bytes: [0xFF, 0xFF]) }
        expectError(.invalidNALUnit) { try packetizer.packetize(bytes: [0, 0, 1, 0x80, 0x01]) }
    }
}
