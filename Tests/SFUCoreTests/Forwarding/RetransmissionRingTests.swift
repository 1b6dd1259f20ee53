import NIOCore
import Testing
@testable import SFUCore

@Suite("RetransmissionRing")
struct RetransmissionRingTests {
    func packet(_ marker: UInt8, length: Int = 100) -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.writeRepeatingByte(marker, count: length)
        return buffer
    }

    @Test func storesAndFindsBySixteenBitSequenceNumber() throws {
        let ring = RetransmissionRing(capacity: 16)
        #expect(ring.capacity == 16)
        for index in 0..<10 {
            #expect(ring.store(packet(UInt8(index), length: 50 + index), extendedSequenceNumber: 65_530 + UInt64(index)))
        }
        var out = ByteBuffer()
        // 65_530 + 7 = 65_537 → 16-bit 1.
        #expect(ring.copyPacket(sequenceNumber: 1, into: &out))
        #expect(out.readableBytes == 57)
        #expect(out.readableBytesView.allSatisfy { $0 == 7 })
        var old = ByteBuffer()
        #expect(ring.copyPacket(sequenceNumber: 65_531, into: &old))
        #expect(old.readableBytesView.first == 1)
        #expect(!ring.copyPacket(sequenceNumber: 500, into: &out))
    }

    @Test func newerPacketsOverwriteOlderSlots() {
        let ring = RetransmissionRing(capacity: 16)
        for sequence in UInt64(0)..<40 { ring.store(packet(UInt8(sequence)), extendedSequenceNumber: sequence) }
        var out = ByteBuffer()
        #expect(!ring.copyPacket(sequenceNumber: 10, into: &out))  // overwritten by 26
        #expect(!ring.copyPacket(sequenceNumber: 23, into: &out))  // overwritten by 39
        #expect(ring.copyPacket(sequenceNumber: 24, into: &out))
        #expect(out.readableBytesView.first == 24)
        #expect(ring.withPacket(sequenceNumber: 39) { bytes, _ in bytes.count } == 100)
    }

    @Test func oversizedPacketsAreNotKeptAndForgetTheSlot() {
        let ring = RetransmissionRing(capacity: 16, slotSize: 200)
        ring.store(packet(1, length: 150), extendedSequenceNumber: 3)
        #expect(!ring.store(packet(2, length: 201), extendedSequenceNumber: 19))
        var out = ByteBuffer()
        #expect(!ring.copyPacket(sequenceNumber: 3, into: &out))
        #expect(!ring.copyPacket(sequenceNumber: 19, into: &out))
    }

    // MARK: Lazy growth and the budget (issue 14 item 3)

    @Test func allocatesNothingBeforeTheFirstPacket() {
        let budget = RetransmissionBudget(limitBytes: 10 << 20)
        let ring = RetransmissionRing(capacity: 512, budget: budget)
        #expect(ring.capacity == 512)
        #expect(ring.allocatedSlots == 0)
        #expect(budget.usedBytes == 0)
        var out = ByteBuffer()
        #expect(!ring.copyPacket(sequenceNumber: 0, into: &out))
        ring.store(packet(1), extendedSequenceNumber: 7, nowNanoseconds: 1)
        #expect(ring.allocatedSlots == RetransmissionRing.initialSlots)
        #expect(budget.usedBytes == ring.reservedBytes)
    }

    @Test func growsOnlyWhileItWouldOverwriteYoungPacketsAndKeepsThemAcrossGrowth() {
        let second: UInt64 = 1_000_000_000
        let ring = RetransmissionRing(capacity: 512, retentionNanoseconds: second)
        // 50 packets per second for 3 s: a second is 50 packets, so 64 slots are enough.
        for sequence in UInt64(0)..<150 {
            ring.store(packet(UInt8(truncatingIfNeeded: sequence)), extendedSequenceNumber: sequence, nowNanoseconds: sequence * second / 50)
        }
        #expect(ring.allocatedSlots == 64)
        // The last 64 are held, with their bytes, after the moves of each growth.
        for sequence in UInt64(86)..<150 {
            #expect(ring.withPacket(extendedSequenceNumber: sequence) { bytes, _ in bytes.first } == UInt8(truncatingIfNeeded: sequence))
        }
        #expect(ring.withPacket(extendedSequenceNumber: 85) { _, _ in true } == nil)
        // Steady state: no more growth at the same rate.
        for sequence in UInt64(150)..<1000 {
            ring.store(packet(1), extendedSequenceNumber: sequence, nowNanoseconds: sequence * second / 50)
        }
        #expect(ring.allocatedSlots == 64)
    }

    @Test func neverGrowsBeyondItsCapacity() {
        let ring = RetransmissionRing(capacity: 32)
        for sequence in UInt64(0)..<200 { ring.store(packet(1), extendedSequenceNumber: sequence, nowNanoseconds: 0) }
        #expect(ring.allocatedSlots == 32)
    }

    @Test func theBudgetCapsGrowthAndRefusesAFirstSlotWhenFull() {
        let perSlot = RetransmissionRing.bytesPerSlot(slotSize: RetransmissionRing.defaultSlotSize)
        let budget = RetransmissionBudget(limitBytes: 48 * perSlot)
        let first = RetransmissionRing(capacity: 512, budget: budget)
        for sequence in UInt64(0)..<600 { first.store(packet(1), extendedSequenceNumber: sequence, nowNanoseconds: 0) }
        #expect(first.allocatedSlots == 32)  // 16 → 32; 64 would exceed 48 slots
        #expect(budget.usedBytes == 32 * perSlot)
        let second = RetransmissionRing(capacity: 512, budget: budget)
        #expect(second.store(packet(1), extendedSequenceNumber: 0))  // 16 more fit exactly
        let third = RetransmissionRing(capacity: 512, budget: budget)
        #expect(!third.store(packet(1), extendedSequenceNumber: 0))
        #expect(third.allocatedSlots == 0)
        #expect(!budget.canReserve(16 * perSlot))
    }

    @Test func releaseAndDeinitGiveTheBytesBack() {
        let budget = RetransmissionBudget(limitBytes: 100 << 20)
        let ring = RetransmissionRing(capacity: 512, budget: budget)
        for sequence in UInt64(0)..<512 { ring.store(packet(1), extendedSequenceNumber: sequence) }
        #expect(budget.usedBytes == 512 * ring.bytesPerSlot)
        ring.release()
        #expect(budget.usedBytes == 0)
        #expect(!ring.store(packet(1), extendedSequenceNumber: 600))
        do {
            let other = RetransmissionRing(capacity: 64, budget: budget)
            other.store(packet(1), extendedSequenceNumber: 1)
            #expect(budget.usedBytes > 0)
        }
        #expect(budget.usedBytes == 0)
    }
}
