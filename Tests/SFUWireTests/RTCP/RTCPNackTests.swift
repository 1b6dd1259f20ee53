import NIOCore
import Testing
@testable import SFUWire

@Suite struct RTCPNackTests {
    @Test func expandsPIDAndBLP() throws {
        var buffer = hexBuffer("""
            81 cd 00 04  # RTPFB FMT 1, 5 words
            00 00 00 01  # sender
            00 00 00 02  # media
            00 64 00 05  # PID 100, BLP bits 0 and 2 → 101, 103
            ff ff 80 00  # PID 65535, BLP bit 15 → 16 (wraps)
            """)
        let nack = try RTCPNack(parsing: &buffer)
        #expect(nack.lostSequenceNumbers == [100, 101, 103, 65535, 15])
    }

    @Test func packsLostSequencesIntoItems() throws {
        let lost: [UInt16] = [65530, 65531, 65535, 0, 9, 10, 11, 200]
        let nack = RTCPNack(senderSSRC: 1, mediaSSRC: 2, lostSequenceNumbers: lost)
        // 65530 covers up to 65530+16 = 10 (mod 2^16); 11 and 200 start new items.
        #expect(nack.items.map(\.packetID) == [65530, 11, 200])
        #expect(nack.lostSequenceNumbers == lost)
        var buffer = ByteBuffer()
        nack.write(to: &buffer)
        #expect(buffer.readableBytes == 12 + 12)
        #expect(try RTCPNack(parsing: &buffer) == nack)
    }

    @Test func duplicatesAreIgnored() {
        let nack = RTCPNack(senderSSRC: 1, mediaSSRC: 2, lostSequenceNumbers: [5, 5, 6, 6])
        #expect(nack.lostSequenceNumbers == [5, 6])
    }

    @Test func emptyFCIIsInvalid() {
        var buffer = hexBuffer("81 cd 00 02 00 00 00 01 00 00 00 02")
        #expect { try RTCPNack(parsing: &buffer) } throws: { ($0 as? WireParseError)?.code == .invalidFeedback }
    }
}
