import NIOCore
import Testing
@testable import SFUWire

/// SR, RR and their report blocks (RTCPSenderReport.swift, RTCPReceiverReport.swift, RTCPReportBlock.swift).
@Suite struct RTCPReportTests {
    static let block = RTCPReportBlock(
        ssrc: 0x1111_1111, fractionLost: 25, cumulativeLost: -3, extendedHighestSequenceNumber: 0x0001_0005,
        jitter: 17, lastSenderReport: 0xAABB_CCDD, delaySinceLastSenderReport: 65536
    )

    @Test func senderReportBytesAndRoundTrip() throws {
        let report = RTCPSenderReport(
            ssrc: 0xDEAD_BEEF, ntpTimestamp: 0xE8F0_1234_8000_0000, rtpTimestamp: 90000, packetCount: 10, octetCount: 12000,
            reportBlocks: [Self.block]
        )
        var buffer = ByteBuffer()
        #expect(report.write(to: &buffer) == 52)
        #expect(report.encodedSize == 52)
        #expect(bytes(buffer).prefix(8) == [0x81, 200, 0x00, 0x0C, 0xDE, 0xAD, 0xBE, 0xEF])
        // cumulative lost −3 as 24-bit two's complement after fraction 25.
        #expect(bytes(buffer)[32..<36] == [25, 0xFF, 0xFF, 0xFD])
        #expect(report.compactNTP == 0x1234_8000)
        #expect(try RTCPSenderReport(parsing: &buffer) == report)
        #expect(buffer.readableBytes == 0)
    }

    @Test func receiverReportRoundTripsWithProfileExtension() throws {
        let report = RTCPReceiverReport(ssrc: 1, reportBlocks: [Self.block, Self.block], profileExtension: [1, 2, 3, 4])
        var buffer = ByteBuffer()
        report.write(to: &buffer)
        #expect(buffer.readableBytes == 8 + 48 + 4)
        #expect(try RTCPReceiverReport(parsing: &buffer) == report)
    }

    @Test func emptyReceiverReportIsEightBytes() throws {
        var buffer = hexBuffer("80 c9 00 01 00 00 00 2a")
        let report = try RTCPReceiverReport(parsing: &buffer)
        #expect(report.ssrc == 42)
        #expect(report.reportBlocks.isEmpty)
    }

    @Test func countBeyondBodyIsTruncated() {
        var buffer = hexBuffer("81 c9 00 01 00 00 00 2a")
        #expect { try RTCPReceiverReport(parsing: &buffer) } throws: { ($0 as? WireParseError)?.code == .truncated }
    }

    @Test func wrongTypeIsRejectedWithoutConsuming() {
        var buffer = hexBuffer("80 c9 00 01 00 00 00 2a")
        #expect { try RTCPSenderReport(parsing: &buffer) } throws: { ($0 as? WireParseError)?.code == .unknownPacketType }
        #expect(buffer.readableBytes == 8)
    }

    @Test func cumulativeLostIsClampedTo24Bits() {
        #expect(RTCPReportBlock(ssrc: 1, cumulativeLost: 10_000_000).cumulativeLost == 0x7F_FFFF)
        #expect(RTCPReportBlock(ssrc: 1, cumulativeLost: -10_000_000).cumulativeLost == -0x80_0000)
    }
}
