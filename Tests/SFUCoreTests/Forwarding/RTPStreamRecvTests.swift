import Testing
@testable import SFUCore

@Suite("RTPStreamRecv")
struct RTPStreamRecvTests {
    static let ms: UInt64 = 1_000_000

    @Test func countsLossAcrossWrapAndReportsFractionLost() {
        var stream = RTPStreamRecv(ssrc: 9, clockRate: 90_000)
        var time: UInt64 = 0
        var sequence: UInt16 = 65_500
        for index in 0..<100 {
            time += 10 * Self.ms
            defer { sequence &+= 1 }
            if index % 10 == 3 { continue }  // 10 % loss
            _ = stream.receive(
                sequenceNumber: sequence, timestamp: UInt32(index) * 900, payloadLength: 100, isKeyframe: index == 0,
                arrivalNanoseconds: time)
        }
        #expect(stream.packetsReceived == 90)
        #expect(stream.packetsExpected == 100)
        #expect(stream.packetsLost == 10)
        #expect(stream.keyframesReceived == 1)
        #expect(stream.highestSequenceNumber == 65_599)
        let block = stream.makeReportBlock(nowNanoseconds: time)
        #expect(block.cumulativeLost == 10)
        #expect(block.fractionLost == 25)  // 10/100 · 256
        #expect(block.extendedHighestSequenceNumber == 65_599)
        // Perfectly paced packets: no jitter.
        #expect(block.jitter == 0)
        // A late duplicate is out of order; the next interval has no loss.
        let duplicate = stream.receive(
            sequenceNumber: 65_510, timestamp: 0, payloadLength: 1, isKeyframe: false, arrivalNanoseconds: time)
        #expect(duplicate == .outOfOrder(extendedSequenceNumber: 65_510))
        let next = stream.makeReportBlock(nowNanoseconds: time)
        #expect(next.fractionLost == 0)
    }

    @Test func jitterGrowsWithIrregularArrival() {
        var stream = RTPStreamRecv(ssrc: 1, clockRate: 90_000)
        for index in 0..<50 {
            let wobble: UInt64 = index % 2 == 0 ? 0 : 5 * Self.ms
            _ = stream.receive(
                sequenceNumber: UInt16(index), timestamp: UInt32(index) * 3000, payloadLength: 10, isKeyframe: false,
                arrivalNanoseconds: UInt64(index) * 33_333_333 + wobble)
        }
        #expect(stream.jitter > 100)  // 5 ms ≈ 450 ticks of variation
    }

    @Test func senderReportFeedsLSRAndDLSR() {
        var stream = RTPStreamRecv(ssrc: 1, clockRate: 48_000)
        _ = stream.receive(sequenceNumber: 1, timestamp: 0, payloadLength: 10, isKeyframe: false, arrivalNanoseconds: 0)
        stream.receivedSenderReport(compactNTP: 0x1234_5678, arrivalNanoseconds: 1_000 * Self.ms)
        let block = stream.makeReportBlock(nowNanoseconds: 1_500 * Self.ms)
        #expect(block.lastSenderReport == 0x1234_5678)
        #expect(block.delaySinceLastSenderReport == 32_768)  // 0.5 s in 1/65536 s
    }
}
