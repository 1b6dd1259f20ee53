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
}
