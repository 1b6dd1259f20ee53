import NIOCore
import Testing

@testable import SFUCore

struct SendBufferPoolTests {
    private func address(_ buffer: ByteBuffer) -> UInt? {
        buffer.withUnsafeReadableBytes { $0.baseAddress.map { UInt(bitPattern: $0) } }
    }

    @Test func aSlotIsReusedInPlaceOnceTheSocketReleasedIt() {
        var pool = SendBufferPool(allocator: ByteBufferAllocator(), capacity: 2, bufferSize: 0)
        var (first, buffer) = pool.checkOut(minimumCapacity: 1_200)
        buffer.writeRepeatingByte(1, count: 1_000)
        let storage = address(buffer)
        pool.checkIn(buffer, at: first)
        buffer = ByteBuffer()  // the "socket" finished its write
        let (second, other) = pool.checkOut(minimumCapacity: 1_200)
        #expect(second != first)
        pool.checkIn(other, at: second)
        var (again, reused) = pool.checkOut(minimumCapacity: 1_200)
        #expect(again == first)
        #expect(reused.readableBytes == 0)
        reused.writeRepeatingByte(2, count: 10)
        #expect(address(reused) == storage)
    }

    @Test func aSlotStillQueuedIsCopiedNotOverwritten() {
        var pool = SendBufferPool(allocator: ByteBufferAllocator(), capacity: 1, bufferSize: 0)
        var (slot, buffer) = pool.checkOut(minimumCapacity: 64)
        buffer.writeString("queued packet")
        let queued = buffer  // NIO's pending write still holds it
        pool.checkIn(buffer, at: slot)
        var (_, next) = pool.checkOut(minimumCapacity: 64)
        next.writeString("next packet")
        #expect(String(buffer: queued) == "queued packet")
        #expect(String(buffer: next) == "next packet")
        _ = slot
    }
}
