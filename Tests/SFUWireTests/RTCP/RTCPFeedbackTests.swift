import NIOCore
import Testing
@testable import SFUWire

/// PLI (RTCPPictureLossIndication.swift), FIR (RTCPFullIntraRequest.swift) and REMB (RTCPRemb.swift).
@Suite struct RTCPFeedbackTests {
    @Test func pictureLossIndicationBytes() throws {
        let pli = RTCPPictureLossIndication(senderSSRC: 1, mediaSSRC: 0xDEAD_BEEF)
        var buffer = ByteBuffer()
        pli.write(to: &buffer)
        #expect(bytes(buffer) == [0x81, 206, 0, 2, 0, 0, 0, 1, 0xDE, 0xAD, 0xBE, 0xEF])
        #expect(try RTCPPictureLossIndication(parsing: &buffer) == pli)
    }

    @Test func fullIntraRequestRoundTrip() throws {
        let fir = RTCPFullIntraRequest(senderSSRC: 5, entries: [.init(ssrc: 10, sequenceNumber: 3), .init(ssrc: 11, sequenceNumber: 255)])
        var buffer = ByteBuffer()
        fir.write(to: &buffer)
        #expect(bytes(buffer).prefix(4) == [0x84, 206, 0, 6])
        #expect(bytes(buffer)[16..<20] == [3, 0, 0, 0])
        #expect(try RTCPFullIntraRequest(parsing: &buffer) == fir)
    }

    @Test func firWithPartialEntryIsInvalid() {
        var buffer = hexBuffer("84 ce 00 03 00 00 00 01 00 00 00 00 00 00 00 0a")
        #expect { try RTCPFullIntraRequest(parsing: &buffer) } throws: { ($0 as? WireParseError)?.code == .invalidFeedback }
    }

    @Test func rembEncodesMantissaAndExponent() throws {
        var buffer = hexBuffer("""
            8f ce 00 05  # PSFB FMT 15, 6 words
            00 00 00 01  # sender
            00 00 00 00  # media source 0
            52 45 4d 42  # "REMB"
            01 0b d0 90  # 1 SSRC, exp 2, mantissa 250000 → 1 000 000 bps
            00 00 00 2a  # SSRC 42
            """)
        let expected = bytes(buffer)
        let remb = try RTCPRemb(parsing: &buffer)
        #expect(remb == RTCPRemb(senderSSRC: 1, bitrate: 1_000_000, ssrcs: [42]))
        var out = ByteBuffer()
        remb.write(to: &out)
        #expect(bytes(out) == expected)
    }

    @Test func rembRoundsLargeBitratesDown() throws {
        let remb = RTCPRemb(senderSSRC: 1, bitrate: 123_456_789_123, ssrcs: [1, 2, 3])
        var buffer = ByteBuffer()
        remb.write(to: &buffer)
        let parsed = try RTCPRemb(parsing: &buffer)
        #expect(parsed.ssrcs == [1, 2, 3])
        #expect(parsed.bitrate <= 123_456_789_123)
        #expect(parsed.bitrate > 123_456_789_123 - (123_456_789_123 >> 17))
    }
}
