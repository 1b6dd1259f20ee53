import Testing
@testable import SFUCore

@Suite("RTPMunger")
struct RTPMungerTests {
    static let ms: UInt64 = 1_000_000

    func feed(_ munger: inout RTPMunger, ssrc: UInt32, seq: UInt16, ts: UInt32, at time: UInt64) -> RTPMunger.Output? {
        munger.rewrite(ssrc: ssrc, sequenceNumber: seq, timestamp: ts, arrivalNanoseconds: time)
    }

    @Test func firstPacketTakesInitialValuesAndStreamStaysRelative() throws {
        var munger = RTPMunger(clockRate: 90_000, initialSequenceNumber: 1000, initialTimestamp: 5000)
        let first = try #require(feed(&munger, ssrc: 1, seq: 40_000, ts: 123_456, at: 0))
        #expect(first.sequenceNumber == 1000)
        #expect(first.timestamp == 5000)
        let second = try #require(feed(&munger, ssrc: 1, seq: 40_001, ts: 123_456 + 3000, at: 33 * Self.ms))
        #expect(second.sequenceNumber == 1001)
        #expect(second.timestamp == 8000)
        // Reordered packet keeps its relative place.
        let late = try #require(feed(&munger, ssrc: 1, seq: 40_003, ts: 129_456, at: 66 * Self.ms))
        let early = try #require(feed(&munger, ssrc: 1, seq: 40_002, ts: 126_456, at: 67 * Self.ms))
        #expect(late.sequenceNumber == 1003)
        #expect(early.sequenceNumber == 1002)
        #expect(munger.highestSent.map { UInt16(truncatingIfNeeded: $0) } == 1003)
    }

    @Test func sequenceAndTimestampWrapAround() throws {
        var munger = RTPMunger(clockRate: 48_000, initialSequenceNumber: 65_534, initialTimestamp: UInt32.max - 959)
        var outputs: [RTPMunger.Output] = []
        for index in 0..<4 {
            let input = UInt16(truncatingIfNeeded: 65_533 + index)
            outputs.append(try #require(feed(&munger, ssrc: 7, seq: input, ts: UInt32(index) * 960, at: UInt64(index) * 20 * Self.ms)))
        }
        #expect(outputs.map(\.sequenceNumber) == [65_534, 65_535, 0, 1])
        #expect(outputs.map(\.timestamp) == [UInt32.max - 959, 0, 960, 1920])
        let extended = outputs.map(\.extendedSequenceNumber)
        #expect(zip(extended, extended.dropFirst()).allSatisfy { $1 == $0 + 1 })
    }

    @Test func ssrcSwitchContinuesSequenceAndAdvancesTimestampByElapsedTime() throws {
        var munger = RTPMunger(clockRate: 90_000, initialSequenceNumber: 100, initialTimestamp: 0)
        for index in 0..<10 {
            _ = feed(&munger, ssrc: 0xAAAA, seq: UInt16(500 + index), ts: UInt32(index) * 3000, at: UInt64(index) * 33 * Self.ms)
        }
        // Last output: seq 109, ts 27000 at 297 ms. A new source 100 ms later with unrelated numbers.
        let switched = try #require(feed(&munger, ssrc: 0xBBBB, seq: 9, ts: 777_777, at: 397 * Self.ms))
        #expect(switched.sequenceNumber == 110)
        #expect(switched.timestamp == 27_000 + 9000)
        let next = try #require(feed(&munger, ssrc: 0xBBBB, seq: 10, ts: 777_777 + 3000, at: 430 * Self.ms))
        #expect(next.sequenceNumber == 111)
        #expect(next.timestamp == 27_000 + 9000 + 3000)
        // A straggler of the new source from before its first packet is dropped.
        let straggler = feed(&munger, ssrc: 0xBBBB, seq: 8, ts: 777_777 - 3000, at: 431 * Self.ms)
        #expect(straggler == nil)
    }

    @Test func switchWithNoElapsedTimeStillAdvancesTimestamp() throws {
        var munger = RTPMunger(clockRate: 90_000, initialSequenceNumber: 0, initialTimestamp: 0)
        _ = feed(&munger, ssrc: 1, seq: 1, ts: 10, at: 5 * Self.ms)
        let switched = try #require(feed(&munger, ssrc: 2, seq: 1, ts: 10, at: 5 * Self.ms))
        #expect(switched.sequenceNumber == 1)
        #expect(switched.timestamp == 1)
    }

    @Test func pauseAndResumeOfTheSameSourceClosesTheSequenceGapButKeepsTimestamps() throws {
        var munger = RTPMunger(clockRate: 90_000, initialSequenceNumber: 200, initialTimestamp: 1_000)
        for index in 0..<5 {
            _ = feed(&munger, ssrc: 5, seq: UInt16(10 + index), ts: 50_000 + UInt32(index) * 3000, at: UInt64(index) * 33 * Self.ms)
        }
        // Paused: input 15...59 are not forwarded. Resume at input 60.
        munger.markSwitch()
        let resumed = try #require(feed(&munger, ssrc: 5, seq: 60, ts: 50_000 + 50 * 3000, at: 50 * 33 * Self.ms))
        #expect(resumed.sequenceNumber == 205)
        #expect(resumed.timestamp == 1_000 + 50 * 3000)
        // A packet from during the pause arriving late is dropped.
        let late = feed(&munger, ssrc: 5, seq: 59, ts: 50_000 + 49 * 3000, at: 50 * 33 * Self.ms + 1)
        #expect(late == nil)
    }

    @Test func continuityAcrossManySwitchesAndWraps() throws {
        var munger = RTPMunger(clockRate: 90_000, initialSequenceNumber: 65_000, initialTimestamp: 0)
        var previous: UInt64?
        var time: UInt64 = 0
        for round in 0..<6 {
            let ssrc = UInt32(round % 2 + 1)
            let start = UInt16(truncatingIfNeeded: round * 20_000 + 65_530)
            for index in 0..<700 {
                time += 10 * Self.ms
                let seq = start &+ UInt16(index)
                let output = try #require(feed(&munger, ssrc: ssrc, seq: seq, ts: UInt32(index) * 900, at: time))
                if let previous { #expect(output.extendedSequenceNumber == previous + 1) }
                previous = output.extendedSequenceNumber
            }
            if round == 3 { munger.markSwitch() }
        }
    }
}

@Suite("SequenceUnwrapper")
struct SequenceUnwrapperTests {
    @Test func unwrapsAcrossWrapAndRejectsBeforeStart() {
        var unwrapper = SequenceUnwrapper()
        let values = [65_535, 0, 65_534, 2].map { unwrapper.unwrap(UInt16($0)) }
        #expect(values == [65_535, 65_536, 65_534, 65_538])
        #expect(unwrapper.highest == 65_538)
        var fresh = SequenceUnwrapper()
        let first = fresh.unwrap(3)
        let beforeStart = fresh.unwrap(65_000)
        #expect(first == 3)
        #expect(beforeStart == nil)
    }
}
