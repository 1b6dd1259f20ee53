import NIOCore
import SFUWire
import Testing

@testable import SFUCore

@Suite("TransportCCRecorder")
struct TransportCCRecorderTests {
    @Test func feedbackReportsArrivalsLossesAndEachSequenceOnce() throws {
        var recorder = TransportCCRecorder(epochNanoseconds: 1_000_000_000)
        var none = recorder.makeFeedback(senderSSRC: 1, mediaSSRC: 2)
        #expect(none == nil)
        // 65534, 65535, (0 lost), 1 — across the 16-bit wrap; 2 ms apart.
        for (sequence, ms) in [(UInt16(65534), UInt64(0)), (65535, 2), (1, 6)] {
            recorder.record(sequenceNumber: sequence, arrivalNanoseconds: 1_000_000_000 + 100_000_000 + ms * 1_000_000)
        }
        let madefeedback = recorder.makeFeedback(senderSSRC: 1, mediaSSRC: 2)
        let feedback = try #require(madefeedback)
        #expect(feedback.baseSequenceNumber == 65534)
        #expect(feedback.feedbackPacketCount == 0)
        #expect(feedback.packets.count == 4)
        let arrivals = feedback.arrivalsMicroseconds
        #expect(arrivals[2] == nil)
        #expect(arrivals[0] == 100_000 && arrivals[1] == 102_000 && arrivals[3] == 106_000)
        // It survives the wire.
        var buffer = ByteBuffer()
        feedback.write(to: &buffer)
        #expect(try RTCPTransportCC(parsing: &buffer) == feedback)
        // Nothing new: no feedback. A late packet already reported is not reported again.
        none = recorder.makeFeedback(senderSSRC: 1, mediaSSRC: 2)
        #expect(none == nil)
        recorder.record(sequenceNumber: 0, arrivalNanoseconds: 1_200_000_000)
        none = recorder.makeFeedback(senderSSRC: 1, mediaSSRC: 2)
        #expect(none == nil)
        recorder.record(sequenceNumber: 2, arrivalNanoseconds: 1_210_000_000)
        let madenext = recorder.makeFeedback(senderSSRC: 1, mediaSSRC: 2)
        let next = try #require(madenext)
        #expect(next.baseSequenceNumber == 2 && next.packets.count == 1 && next.feedbackPacketCount == 1)
    }

    @Test func aBacklogIsSplitAndAJumpStartsOver() throws {
        var recorder = TransportCCRecorder(epochNanoseconds: 0)
        for sequence in 0..<2500 {
            recorder.record(sequenceNumber: UInt16(sequence), arrivalNanoseconds: UInt64(sequence) * 100_000)
        }
        var counts: [Int] = []
        while let feedback = recorder.makeFeedback(senderSSRC: 1, mediaSSRC: 2) { counts.append(feedback.packets.count) }
        #expect(counts == [1000, 1000, 500])
        recorder.record(sequenceNumber: 2600, arrivalNanoseconds: 300_000_000)
        recorder.record(sequenceNumber: 9000, arrivalNanoseconds: 301_000_000)
        let madefeedback = recorder.makeFeedback(senderSSRC: 1, mediaSSRC: 2)
        let feedback = try #require(madefeedback)
        #expect(feedback.baseSequenceNumber == 9000 && feedback.packets.count == 1)
    }
}
