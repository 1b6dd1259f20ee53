import NIOCore
import Testing
@testable import Codecs

@Suite struct H264NALUnitTests {
    static let sps = hexBuffer("67 42 C0 1F DA 01 40 16 EC 04 40 00 00 03 00 40 00 00 0F 23 C6 0C 92")
    static let pps = hexBuffer("68 CE 3C 80")

    @Test func nalHeaderFields() {
        let header = H264NALHeader(0x65)
        #expect(!header.forbiddenBit && header.nri == 3 && header.type == .idr)
        #expect(H264NALHeader(nri: 2, type: .slice).byte == 0x41)
        #expect(H264NALUnitType.fuA.description == "FU-A")
    }

    @Test func annexBSplitsOnThreeAndFourByteStartCodes() {
        let stream = hexBuffer("""
            FF EE                # bytes before the first start code are ignored
            00 00 00 01 67 42 C0 1F
            00 00 01 68 CE 3C 80 00 00   # trailing_zero_8bits
            00 00 00 01 65 88 84 00 00 03 01
            00 00 01 41 9A
            """)
        let units = H264AnnexB.nalUnits(in: stream).map(bytes)
        #expect(units == [[0x67, 0x42, 0xC0, 0x1F], [0x68, 0xCE, 0x3C, 0x80], [0x65, 0x88, 0x84, 0x00, 0x00, 0x03, 0x01], [0x41, 0x9A]])
        #expect(H264AnnexB.nalUnits(in: hexBuffer("00 00 01")).isEmpty)
        #expect(H264AnnexB.nalUnits(in: ByteBuffer()).isEmpty)
    }

    @Test func stapAWithSPSPPSAndIDR() throws {
        // RFC 6184 §5.7.1, Figure 7: STAP-A header, then (16-bit size, NAL unit) per unit.
        var payload = hexBuffer("78")
        for unit in [Self.sps, Self.pps, hexBuffer("65 88 84 21")] {
            payload.writeInteger(UInt16(unit.readableBytes))
            payload.writeImmutableBuffer(unit)
        }
        let info = try H264PacketInfo(payload: payload)
        #expect(info.packetType == .stapA && info.containsSPS && info.containsPPS && info.containsIDR && info.isKeyframe)
        #expect(VideoPayloadCodec.h264.isKeyframe(payload: payload))
    }

    @Test func keyframeRules() throws {
        #expect(try H264PacketInfo(payload: hexBuffer("65 88")).isKeyframe)  // single IDR
        #expect(try !H264PacketInfo(payload: hexBuffer("41 9A")).isKeyframe)  // non-IDR slice
        #expect(try H264PacketInfo(payload: hexBuffer("7C 85 88")).isKeyframe)  // FU-A start of IDR
        #expect(try !H264PacketInfo(payload: hexBuffer("7C 05 88")).isKeyframe)  // FU-A middle of IDR
        #expect(try !H264PacketInfo(payload: hexBuffer("67 42")).isKeyframe)  // SPS alone
        let fu = try H264PacketInfo(payload: hexBuffer("7C 45 88"))
        #expect(fu.fragmentEnd && !fu.fragmentStart && fu.fragmentType == .idr)
    }

    @Test func malformedPayloads() {
        expectError(.truncated) { try H264PacketInfo(payload: ByteBuffer()) }
        expectError(.invalidNALUnit) { try H264PacketInfo(payload: hexBuffer("E5 88")) }  // F=1
        expectError(.invalidNALUnit) { try H264PacketInfo(payload: hexBuffer("00 88")) }  // type 0
        expectError(.invalidLength) { try H264PacketInfo(payload: hexBuffer("78 00 09 67 42")) }  // size past the end
        expectError(.invalidLength) { try H264PacketInfo(payload: hexBuffer("78 00 02 67 42 00")) }  // cut size field
        expectError(.invalidLength) { try H264PacketInfo(payload: hexBuffer("78 00 00")) }  // zero size
        expectError(.truncated) { try H264PacketInfo(payload: hexBuffer("78")) }
        expectError(.invalidNALUnit) { try H264PacketInfo(payload: hexBuffer("78 00 02 7C 01")) }  // FU-A inside STAP-A
        expectError(.truncated) { try H264PacketInfo(payload: hexBuffer("7C 85")) }  // FU-A without data
        expectError(.invalidNALUnit) { try H264PacketInfo(payload: hexBuffer("7C C5 88")) }  // S and E both set
        expectError(.unsupported) { try H264PacketInfo(payload: hexBuffer("79 00 00 00 02 41 9A")) }  // STAP-B
        expectError(.unsupported) { try H264PacketInfo(payload: hexBuffer("7D 85 00 00 88")) }  // FU-B
    }
}
