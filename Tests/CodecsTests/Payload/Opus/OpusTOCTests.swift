import NIOCore
import Testing
@testable import Codecs

@Suite struct OpusTOCTests {
    @Test func configurationTableOfRFC6716Section3_1() {
        // 0x78 = 01111|0|00: config 15 (Hybrid FB 20 ms), mono, one frame.
        let hybrid = OpusTOC(0x78)
        #expect(hybrid.config == 15)
        #expect(hybrid.mode == .hybrid)
        #expect(hybrid.bandwidth == .fullband)
        #expect(hybrid.samplesPerFrame == 960)
        #expect(!hybrid.isStereo)
        #expect(hybrid.frameCountCode == 0)
        // 0xFC = 11111|1|00: config 31 (CELT FB 20 ms), stereo.
        let celt = OpusTOC(0xFC)
        #expect(celt.mode == .celt && celt.bandwidth == .fullband && celt.isStereo && celt.samplesPerFrame == 960)
        // 0x0B = 00001|0|11: config 1 (SILK NB 20 ms), code 3.
        let silk = OpusTOC(0x0B)
        #expect(silk.mode == .silk && silk.bandwidth == .narrowband && silk.samplesPerFrame == 960 && silk.frameCountCode == 3)
        // config 16 = CELT NB 2.5 ms.
        #expect(OpusTOC(16 << 3).samplesPerFrame == 120)
        #expect(OpusTOC(3 << 3).samplesPerFrame == 2880)
    }

    @Test func frameCounts() throws {
        #expect(try OpusPacketInfo(payload: hexBuffer("78 01 02")).frameCount == 1)
        #expect(try OpusPacketInfo(payload: hexBuffer("79 01 02")).frameCount == 2)
        #expect(try OpusPacketInfo(payload: hexBuffer("7A 01 02 03")).frameCount == 2)
        // Code 3, VBR, padding, 3 frames of 20 ms = 60 ms.
        let info = try OpusPacketInfo(payload: hexBuffer("7B C3 00 01 02"))
        #expect(info.frameCount == 3 && info.isVBR && info.hasPadding && info.samples == 2880)
    }

    @Test func invalidPacketsThrowTypedErrors() {
        expectError(.truncated) { try OpusPacketInfo(payload: ByteBuffer()) }
        // R3: code 1 with an odd number of frame bytes.
        expectError(.invalidTOC) { try OpusPacketInfo(payload: hexBuffer("79 01 02 03")) }
        // R5: code 3 with 0 frames, and 7 × 20 ms > 120 ms.
        expectError(.invalidTOC) { try OpusPacketInfo(payload: hexBuffer("7B 00")) }
        expectError(.invalidTOC) { try OpusPacketInfo(payload: hexBuffer("7B 07")) }
        expectError(.truncated) { try OpusPacketInfo(payload: hexBuffer("7B")) }
    }
}
