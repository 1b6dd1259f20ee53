import NIOCore
import Testing
@testable import Codecs

@Suite struct AV1OBUTests {
    @Test func obuHeaders() throws {
        // 0x0A = 0|0001|0|1|0: sequence header with size field (AV1 spec §5.3.2).
        let sequence = try AV1OBUHeader(bytes: hexBuffer("0A 0B"))
        #expect(sequence.type == .sequenceHeader && sequence.hasSizeField && !sequence.hasExtension)
        // 0x36 = 0|0110|1|1|0: frame OBU with extension; 0x28 = temporal_id 1, spatial_id 1.
        let frame = try AV1OBUHeader(bytes: hexBuffer("36 28"))
        #expect(frame.type == .frame && frame.temporalID == 1 && frame.spatialID == 1 && frame.encodedSize == 2)
        var out = ByteBuffer()
        frame.write(to: &out, hasSizeField: false)
        #expect(bytes(out) == [0x34, 0x28])
        expectError(.invalidOBU) { try AV1OBUHeader(bytes: hexBuffer("8A")) }
        expectError(.truncated) { try AV1OBUHeader(bytes: hexBuffer("36")) }
        #expect(AV1OBUType.tileList.description == "OBU_TILE_LIST")
    }

    @Test func lowOverheadParse() throws {
        let stream = hexBuffer("""
            12 00                 # temporal delimiter, size 0
            0A 03 00 00 00        # sequence header, size 3
            32 81 01 \(String(repeating: "AB ", count: 129))   # frame, size 129 (LEB128 81 01)
            """)
        let obus = try AV1OBU.parseLowOverhead(stream)
        #expect(obus.map(\.header.type) == [.temporalDelimiter, .sequenceHeader, .frame])
        #expect(obus.map(\.payload.readableBytes) == [0, 3, 129])
        var out = ByteBuffer()
        for obu in obus { obu.writeLowOverhead(to: &out) }
        #expect(out == stream)
    }

    @Test func badSizes() {
        expectError(.badOBUSize) { try AV1OBU.parseLowOverhead(hexBuffer("0A 05 00 00")) }  // past the end
        expectError(.badOBUSize) { try AV1OBU.parseLowOverhead(hexBuffer("0A 80 80")) }  // LEB128 cut
        expectError(.badOBUSize) { try AV1OBU.parseLowOverhead(hexBuffer("0A FF FF FF FF FF FF FF FF 01")) }  // > 8 bytes
        expectError(.badOBUSize) { try AV1OBU.parseLowOverhead(hexBuffer("0A FF FF FF FF 7F")) }  // > 2^32-1
    }

    @Test func aggregationHeader() throws {
        // 0x18 = Z=0 Y=0 W=1 N=1 (AV1 RTP spec §4.4).
        let header = AV1AggregationHeader(0x18)
        #expect(!header.continuesFragment && !header.fragmentContinues && header.elementCount == 1 && header.startsSequence)
        #expect(AV1AggregationHeader(continuesFragment: true, fragmentContinues: true, elementCount: 2).byte == 0xE0)
        // W=2: first element with LEB128 length, last without.
        var seen: [[UInt8]] = []
        _ = try AV1AggregationHeader.forEachElement(in: hexBuffer("28 02 08 00 30 AA BB")) { element, _, _ in seen.append(bytes(element)) }
        #expect(seen == [[0x08, 0x00], [0x30, 0xAA, 0xBB]])
        // N=1 with a sequence header element: keyframe.
        #expect(VideoPayloadCodec.av1.isKeyframe(payload: hexBuffer("18 08 00 00")))
        #expect(!VideoPayloadCodec.av1.isKeyframe(payload: hexBuffer("10 08 00 00")))  // N=0
        #expect(!VideoPayloadCodec.av1.isKeyframe(payload: hexBuffer("18 30 AA")))  // no sequence header
        #expect(!VideoPayloadCodec.av1.isKeyframe(payload: hexBuffer("98 08 00")))  // Z=1: continuation only
    }

    @Test func malformedElements() {
        expectError(.badOBUSize) { try AV1AggregationHeader.forEachElement(in: hexBuffer("00 05 30 AA")) { _, _, _ in } }
        expectError(.badOBUSize) { try AV1AggregationHeader.forEachElement(in: hexBuffer("00 00 30")) { _, _, _ in } }
        expectError(.truncated) { try AV1AggregationHeader.forEachElement(in: hexBuffer("30 01 30")) { _, _, _ in } }  // W=3, 1 element
        expectError(.truncated) { try AV1AggregationHeader.forEachElement(in: hexBuffer("10")) { _, _, _ in } }
    }
}
