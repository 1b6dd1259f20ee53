import Testing

import Simulcast

@Suite("VP8PictureMunger")
struct VP8PictureMungerTests {
    /// An RTP packet of 12 header bytes and a VP8 descriptor with a 15-bit picture id and TL0PICIDX.
    static func packet(pictureID: UInt16, tl0: UInt8, long: Bool = true) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: 12)
        bytes += [0x90, 0xC0]  // X=1, S=1; I=1, L=1
        bytes += long ? [0x80 | UInt8(pictureID >> 8), UInt8(truncatingIfNeeded: pictureID)] : [UInt8(pictureID & 0x7F)]
        bytes += [tl0, 0x9D, 0x01, 0x2A]
        return bytes
    }

    static func fields(_ bytes: [UInt8], long: Bool = true) -> (UInt16, UInt8) {
        long ? (UInt16(bytes[14] & 0x7F) << 8 | UInt16(bytes[15]), bytes[16]) : (UInt16(bytes[14]), bytes[15])
    }

    func munge(_ munger: inout VP8PictureMunger, _ packet: [UInt8]) -> [UInt8] {
        var bytes = packet
        let ok = bytes.withUnsafeMutableBytes { munger.rewrite($0, payloadOffset: 12) }
        #expect(ok)
        return bytes
    }

    @Test func picturesContinueAcrossAnEncodingSwitchAndWrap() {
        var munger = VP8PictureMunger()
        // The first segment passes unchanged.
        #expect(Self.fields(munge(&munger, Self.packet(pictureID: 0x7FFE, tl0: 250))) == (0x7FFE, 250))
        #expect(Self.fields(munge(&munger, Self.packet(pictureID: 0x7FFF, tl0: 251))) == (0x7FFF, 251))
        // Another encoding with its own numbering: continues at last + 1, wrapping at 15 bits.
        munger.markSwitch()
        #expect(Self.fields(munge(&munger, Self.packet(pictureID: 100, tl0: 7))) == (0, 252))
        #expect(Self.fields(munge(&munger, Self.packet(pictureID: 101, tl0: 8))) == (1, 253))
        // Reordering within the segment keeps its offset.
        #expect(Self.fields(munge(&munger, Self.packet(pictureID: 99, tl0: 7))) == (0x7FFF, 252))
    }

    @Test func sevenBitIDsKeepTheirWidthAndShortDescriptorsPass() {
        var munger = VP8PictureMunger()
        _ = munge(&munger, Self.packet(pictureID: 126, tl0: 1, long: false))
        munger.markSwitch()
        let out = munge(&munger, Self.packet(pictureID: 5, tl0: 9, long: false))
        #expect(Self.fields(out, long: false) == (127, 2))
        #expect(out[14] & 0x80 == 0)
        // X = 0: nothing to rewrite.
        var plain = [UInt8](repeating: 0, count: 12) + [0x10, 0x00, 0x01]
        let before = plain
        #expect(plain.withUnsafeMutableBytes { munger.rewrite($0, payloadOffset: 12) })
        #expect(plain == before)
    }

    @Test func truncatedDescriptorsAreLeftAlone() {
        var munger = VP8PictureMunger()
        for length in 12..<16 {
            var bytes = Array(Self.packet(pictureID: 300, tl0: 3).prefix(length))
            let before = bytes
            #expect(!bytes.withUnsafeMutableBytes { munger.rewrite($0, payloadOffset: 12) })
            #expect(bytes == before)
        }
    }
}
