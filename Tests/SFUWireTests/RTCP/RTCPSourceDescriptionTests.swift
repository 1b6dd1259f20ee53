import NIOCore
import Testing
@testable import SFUWire

@Suite struct RTCPSourceDescriptionTests {
    /// A CNAME chunk as browsers send it: 16-character CNAME, one null octet, padded.
    @Test func parsesBrowserCNAME() throws {
        var buffer = hexBuffer("""
            81 ca 00 06  # SDES, one chunk, 7 words
            de ad be ef  # SSRC
            01 10        # CNAME, 16 bytes
            61 62 63 64 65 66 67 68 69 6a 6b 6c 6d 6e 6f 70
            00 00        # END + padding to 32 bits
            """)
        let sdes = try RTCPSourceDescription(parsing: &buffer)
        #expect(sdes.chunks.count == 1)
        #expect(sdes.chunks[0].source == 0xDEAD_BEEF)
        #expect(sdes.chunks[0].items == [.cname("abcdefghijklmnop")])
        #expect(sdes.chunks[0].items[0].text == "abcdefghijklmnop")
    }

    @Test func roundTripsSeveralChunksAndItems() throws {
        let sdes = RTCPSourceDescription(chunks: [
            .init(source: 1, items: [.cname("a"), .init(type: 2, text: "Alice")]),
            .init(source: 2, items: []),
            .init(source: 3, items: [.cname("xyz")]),
        ])
        var buffer = ByteBuffer()
        let written = sdes.write(to: &buffer)
        #expect(written == buffer.readableBytes)
        #expect(written % 4 == 0)
        #expect(try RTCPSourceDescription(parsing: &buffer) == sdes)
    }

    @Test func missingEndIsTruncated() {
        var buffer = hexBuffer("81 ca 00 02 00 00 00 01 01 02 61 62")
        #expect { try RTCPSourceDescription(parsing: &buffer) } throws: { ($0 as? WireParseError)?.code == .truncated }
    }
}
