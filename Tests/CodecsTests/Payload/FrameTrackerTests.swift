import Testing
@testable import Codecs

@Suite struct FrameTrackerTests {
    @Test func intactFramesAcrossTheSequenceWrap() {
        var tracker = FrameTracker()
        let r1 = tracker.admit(sequenceNumber: 65_535, timestamp: 10, start: .yes)
        #expect(r1)
        let r2 = tracker.admit(sequenceNumber: 0, timestamp: 10, start: .no)
        #expect(r2)
        let r3 = tracker.end()
        #expect(r3)
        #expect(tracker.firstSequenceNumber == 65_535)
        let r4 = tracker.admit(sequenceNumber: 1, timestamp: 20, start: .yes)
        #expect(r4)
        let r5 = tracker.end()
        #expect(r5)
        #expect(tracker.takeDrops().isEmpty)
    }

    @Test func duplicatesAndLatePacketsAreIgnored() {
        var tracker = FrameTracker()
        let r6 = tracker.admit(sequenceNumber: 10, timestamp: 0, start: .yes)
        #expect(r6)
        let r7 = tracker.admit(sequenceNumber: 10, timestamp: 0, start: .yes)
        #expect(!r7)
        let r8 = tracker.admit(sequenceNumber: 9, timestamp: 0, start: .yes)
        #expect(!r8)
        let r9 = tracker.admit(sequenceNumber: 11, timestamp: 0, start: .no)
        #expect(r9)
        let r10 = tracker.end()
        #expect(r10)
    }

    @Test func gapsInsideBeforeAndBetweenFrames() {
        var tracker = FrameTracker()
        _ = tracker.admit(sequenceNumber: 1, timestamp: 0, start: .yes)
        _ = tracker.admit(sequenceNumber: 3, timestamp: 0, start: .no)  // 2 lost inside
        let r11 = tracker.end()
        #expect(!r11)
        _ = tracker.admit(sequenceNumber: 6, timestamp: 9000, start: .yes)  // 4, 5 lost: a whole frame
        let r12 = tracker.end()
        #expect(r12)
        _ = tracker.admit(sequenceNumber: 8, timestamp: 12000, start: .no)  // 7 lost: this frame's start
        let r13 = tracker.end()
        #expect(!r13)
        _ = tracker.admit(sequenceNumber: 9, timestamp: 15000, start: .unknown)
        _ = tracker.admit(sequenceNumber: 10, timestamp: 18000, start: .unknown)  // 9's frame never ended
        let r14 = tracker.end()
        #expect(r14)
        #expect(tracker.takeDrops() == [
            DroppedFrame(reason: .missingPacket, timestamp: 0, missingPackets: 1),
            DroppedFrame(reason: .lostInGap, timestamp: nil, missingPackets: 2),
            DroppedFrame(reason: .missingStart, timestamp: 12000, missingPackets: 1),
            DroppedFrame(reason: .missingEnd, timestamp: 15000, missingPackets: 0),
        ])
    }

    @Test func packedSmallArray() {
        var list = PackedSmallArray(bitWidth: 7)
        #expect(list.capacity == 36)
        for value in 0..<36 {
            let appended = list.append(value * 3 + 1)
            #expect(appended)
        }
        let r15 = list.append(1)
        #expect(!r15)
        #expect(Array(list) == (0..<36).map { ($0 * 3 + 1) & 0x7F })
        #expect(list[99] == 0)
    }
}
