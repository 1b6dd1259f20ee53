import NIOCore

/// The packets a consumer sent recently, kept to answer NACKs (RFC 4585 §6.2.1) with a
/// retransmission: a ring of preallocated MTU-sized slots (STYLE §3), indexed by the output
/// sequence number modulo the capacity. Storing copies into a slot, a lookup copies out of it;
/// neither allocates once the ring exists. A newer packet overwrites the slot of the packet
/// `capacity` numbers before it; packets larger than a slot are not kept.
///
/// Holds plaintext RTP (after rewriting, before SRTP). Not thread-safe: confine it to its
/// router's event loop.
public final class RetransmissionRing {
    /// Bytes per slot: a 1500-byte Ethernet MTU payload, the largest RTP packet CommuCat forwards.
    public static let defaultSlotSize = 1500

    public let capacity: Int
    public let slotSize: Int
    private var storage: [UInt8]
    private var lengths: [Int32]
    private var sequences: [UInt64]
    private var storedAt: [UInt64]
    /// The highest extended sequence number stored.
    public private(set) var highest: UInt64?

    /// - Parameter capacity: slots, rounded up to a power of two (at least 16).
    public init(capacity: Int = 512, slotSize: Int = RetransmissionRing.defaultSlotSize) {
        var rounded = 16
        while rounded < capacity { rounded <<= 1 }
        self.capacity = rounded
        self.slotSize = max(slotSize, 64)
        self.storage = [UInt8](repeating: 0, count: rounded * self.slotSize)
        self.lengths = [Int32](repeating: -1, count: rounded)
        self.sequences = [UInt64](repeating: 0, count: rounded)
        self.storedAt = [UInt64](repeating: 0, count: rounded)
    }

    /// Copies the readable bytes of `packet` into the slot of `extendedSequenceNumber`.
    /// Returns `false` (and forgets the slot's old packet) when the packet is larger than a slot.
    @discardableResult
    public func store(_ packet: ByteBuffer, extendedSequenceNumber: UInt64, nowNanoseconds: UInt64 = 0) -> Bool {
        let index = Int(extendedSequenceNumber & UInt64(capacity - 1))
        if highest.map({ extendedSequenceNumber > $0 }) ?? true { highest = extendedSequenceNumber }
        let length = packet.readableBytes
        guard length <= slotSize else {
            lengths[index] = -1
            return false
        }
        let base = index * slotSize
        packet.withUnsafeReadableBytes { source in
            storage.withUnsafeMutableBytes { destination in
                guard let target = destination.baseAddress, let bytes = source.baseAddress else { return }
                (target + base).copyMemory(from: bytes, byteCount: length)
            }
        }
        lengths[index] = Int32(length)
        sequences[index] = extendedSequenceNumber
        storedAt[index] = nowNanoseconds
        return true
    }

    /// The extended number a 16-bit sequence number from a NACK refers to: the one closest to the
    /// highest stored.
    public func extend(_ sequenceNumber: UInt16) -> UInt64? {
        guard let highest else { return nil }
        return SequenceUnwrapper(highest: highest).peek(sequenceNumber)
    }

    /// Calls `body` with the stored bytes of packet `sequenceNumber` (16-bit, as a NACK names it),
    /// or returns `nil` when it was never stored or was overwritten. `body` must not keep the
    /// pointer.
    public func withPacket<T>(
        sequenceNumber: UInt16, _ body: (UnsafeRawBufferPointer, _ storedAtNanoseconds: UInt64) -> T
    ) -> T? {
        guard let extended = extend(sequenceNumber) else { return nil }
        return withPacket(extendedSequenceNumber: extended, body)
    }

    /// Same with the extended sequence number.
    public func withPacket<T>(
        extendedSequenceNumber: UInt64, _ body: (UnsafeRawBufferPointer, _ storedAtNanoseconds: UInt64) -> T
    ) -> T? {
        let index = Int(extendedSequenceNumber & UInt64(capacity - 1))
        guard lengths[index] >= 0, sequences[index] == extendedSequenceNumber else { return nil }
        let length = Int(lengths[index])
        let base = index * slotSize
        let time = storedAt[index]
        return storage.withUnsafeBytes { bytes in
            body(UnsafeRawBufferPointer(rebasing: bytes[base..<(base + length)]), time)
        }
    }

    /// Copies packet `sequenceNumber` into `buffer` (appending); `false` when it is not held.
    public func copyPacket(sequenceNumber: UInt16, into buffer: inout ByteBuffer) -> Bool {
        withPacket(sequenceNumber: sequenceNumber) { bytes, _ in
            buffer.writeBytes(bytes)
            return true
        } ?? false
    }
}
