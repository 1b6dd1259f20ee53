import NIOCore

/// Reusable outgoing datagram buffers for one consumer, so that forwarding allocates nothing in
/// steady state (STYLE §3).
///
/// A forwarded copy must outlive `forward` (NIO writes it at the end of the read batch), so it
/// cannot live on the stack; instead the pool hands out its slots round-robin. A slot's storage is
/// shared with NIO's pending write until that write completes; by the time the pool comes back to
/// the same slot (`capacity` packets later) the write is long done, the storage is uniquely
/// referenced again, and `clear()` plus the writes reuse it in place. Only when the socket is so
/// backed up that a slot is still queued does writing into it copy (one allocation, correct output).
struct SendBufferPool {
    private var slots: [ByteBuffer]
    private var next = 0
    /// Stands in for a slot while it is checked out, so the slot's storage has one owner.
    private let placeholder: ByteBuffer

    /// `bufferSize` 0 lets each slot grow to its first packet's size on first use.
    init(allocator: ByteBufferAllocator, capacity: Int, bufferSize: Int) {
        let count = max(1, capacity)
        slots = (0..<count).map { _ in allocator.buffer(capacity: bufferSize) }
        placeholder = allocator.buffer(capacity: 0)
    }

    /// Checks out the next slot, empty, with at least `minimumCapacity` bytes of room.
    mutating func checkOut(minimumCapacity: Int) -> (index: Int, buffer: ByteBuffer) {
        let index = next
        next = next + 1 == slots.count ? 0 : next + 1
        var buffer = slots[index]
        slots[index] = placeholder
        buffer.clear(minimumCapacity: minimumCapacity)
        return (index, buffer)
    }

    /// Returns a slot after its contents were handed to the socket (the socket keeps a reference
    /// until the write completes; the pool's reference is for reuse).
    mutating func checkIn(_ buffer: ByteBuffer, at index: Int) {
        slots[index] = buffer
    }
}
