import NIOCore
import Synchronization

/// The packets a consumer sent recently, kept to answer NACKs (RFC 4585 §6.2.1) with a
/// retransmission: a ring of MTU-sized slots (STYLE §3), indexed by the output sequence number
/// modulo the number of slots held. Storing copies into a slot, a lookup copies out of it; packets
/// larger than a slot are not kept.
///
/// Sized by need, not up front: nothing is allocated until the first packet; the ring then holds
/// ``initialSlots`` and doubles (up to ``capacity``) only when a store would overwrite a packet
/// younger than ``retentionNanoseconds`` — so a stream keeps about `retention` worth of packets
/// whatever its packet rate, an idle consumer holds no slots, and growth stops after at most
/// log2(capacity / initialSlots) steps. Once grown, `store` and lookups never allocate (the steady
/// state is allocation-free). Every byte held is reserved from the worker's
/// ``RetransmissionBudget``; when the budget refuses, the ring stays at its size (or keeps nothing),
/// and NACKs it cannot answer are counted as missing retransmissions.
///
/// Holds plaintext RTP (after rewriting, before SRTP). Not thread-safe: confine it to its
/// router's event loop.
public final class RetransmissionRing {
    /// Bytes per slot: a 1500-byte Ethernet MTU payload, the largest RTP packet CommuCat forwards.
    public static let defaultSlotSize = 1500
    /// Slots allocated at the first store.
    public static let initialSlots = 16
    /// Packets younger than this are not overwritten while the ring may still grow.
    public static let defaultRetentionNanoseconds: UInt64 = 1_000_000_000

    /// The most slots the ring may grow to (a power of two).
    public let capacity: Int
    public let slotSize: Int
    public let retentionNanoseconds: UInt64
    private let budget: RetransmissionBudget?
    /// Slots allocated now: 0 before the first store, then a power of two up to ``capacity``.
    public private(set) var allocatedSlots = 0
    private var storage: [UInt8] = []
    private var lengths: [Int32] = []
    private var sequences: [UInt64] = []
    private var storedAt: [UInt64] = []
    private var released = false
    /// The highest extended sequence number stored.
    public private(set) var highest: UInt64?

    /// - Parameters:
    ///   - capacity: the most slots, rounded up to a power of two (at least 16).
    ///   - retentionNanoseconds: how long a packet should stay answerable; the ring grows while it
    ///     would overwrite younger ones.
    ///   - budget: the worker's budget the ring reserves its bytes from (`nil`: unlimited).
    public init(
        capacity: Int = 512, slotSize: Int = RetransmissionRing.defaultSlotSize,
        retentionNanoseconds: UInt64 = RetransmissionRing.defaultRetentionNanoseconds,
        budget: RetransmissionBudget? = nil
    ) {
        var rounded = 16
        while rounded < capacity, rounded < (1 << 20) { rounded <<= 1 }
        self.capacity = rounded
        self.slotSize = max(slotSize, 64)
        self.retentionNanoseconds = retentionNanoseconds
        self.budget = budget
    }

    deinit {
        budget?.release(reservedBytes)
    }

    /// Memory one slot costs: its bytes and its bookkeeping.
    public var bytesPerSlot: Int { Self.bytesPerSlot(slotSize: slotSize) }

    public static func bytesPerSlot(slotSize: Int) -> Int { max(slotSize, 64) + 4 + 8 + 8 }

    /// Bytes reserved from the budget (and held) now.
    public var reservedBytes: Int { allocatedSlots * bytesPerSlot }

    /// Frees every slot and gives the bytes back to the budget (the consumer closed). Later stores
    /// keep nothing.
    public func release() {
        budget?.release(reservedBytes)
        allocatedSlots = 0
        storage = []
        lengths = []
        sequences = []
        storedAt = []
        released = true
    }

    /// Copies the readable bytes of `packet` into the slot of `extendedSequenceNumber`.
    /// Returns `false` (and forgets the slot's old packet) when the packet is larger than a slot,
    /// or when the ring holds no slot (released, or the budget is exhausted).
    @discardableResult
    public func store(_ packet: ByteBuffer, extendedSequenceNumber: UInt64, nowNanoseconds: UInt64 = 0) -> Bool {
        if highest.map({ extendedSequenceNumber > $0 }) ?? true { highest = extendedSequenceNumber }
        if allocatedSlots == 0 {
            guard !released, grow(to: min(Self.initialSlots, capacity)) else { return false }
        }
        var index = Int(extendedSequenceNumber & UInt64(allocatedSlots - 1))
        if allocatedSlots < capacity, lengths[index] >= 0, sequences[index] != extendedSequenceNumber,
            nowNanoseconds &- storedAt[index] < retentionNanoseconds, grow(to: allocatedSlots * 2)
        {
            index = Int(extendedSequenceNumber & UInt64(allocatedSlots - 1))
        }
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

    /// Reallocates to `slots` (a power of two, larger than now) and moves the packets held to
    /// their new slots; distinct residues modulo n stay distinct modulo 2n, so none collide.
    /// `false` when the budget refuses.
    private func grow(to slots: Int) -> Bool {
        let extra = (slots - allocatedSlots) * bytesPerSlot
        if let budget, !budget.reserve(extra) { return false }
        var newStorage = [UInt8](repeating: 0, count: slots * slotSize)
        var newLengths = [Int32](repeating: -1, count: slots)
        var newSequences = [UInt64](repeating: 0, count: slots)
        var newStoredAt = [UInt64](repeating: 0, count: slots)
        for old in 0..<allocatedSlots where lengths[old] >= 0 {
            let index = Int(sequences[old] & UInt64(slots - 1))
            let length = Int(lengths[old])
            newStorage.withUnsafeMutableBytes { destination in
                storage.withUnsafeBytes { source in
                    guard let target = destination.baseAddress, let bytes = source.baseAddress else { return }
                    (target + index * slotSize).copyMemory(from: bytes + old * slotSize, byteCount: length)
                }
            }
            newLengths[index] = lengths[old]
            newSequences[index] = sequences[old]
            newStoredAt[index] = storedAt[old]
        }
        storage = newStorage
        lengths = newLengths
        sequences = newSequences
        storedAt = newStoredAt
        allocatedSlots = slots
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
        guard allocatedSlots > 0 else { return nil }
        let index = Int(extendedSequenceNumber & UInt64(allocatedSlots - 1))
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

/// The bytes of retransmission rings one media worker may hold (`media.retransmission_budget_bytes`):
/// rings reserve before they allocate and give back when their consumer closes, and a consumer is
/// refused with `limit_exceeded` once the budget cannot hold one more ring's first slots.
/// Thread-safe (an atomic counter; reserved off the packet path except when a ring grows).
public final class RetransmissionBudget: Sendable {
    public let limitBytes: Int
    private let used = Atomic<Int>(0)

    public init(limitBytes: Int) {
        self.limitBytes = max(0, limitBytes)
    }

    /// Bytes reserved now.
    public var usedBytes: Int { used.load(ordering: .relaxed) }

    /// Whether `bytes` more would fit now (without reserving them).
    public func canReserve(_ bytes: Int) -> Bool { usedBytes + bytes <= limitBytes }

    /// Takes `bytes`; `false` (and nothing taken) when that would exceed the limit.
    public func reserve(_ bytes: Int) -> Bool {
        guard bytes > 0 else { return true }
        var current = used.load(ordering: .relaxed)
        while true {
            guard current + bytes <= limitBytes else { return false }
            let (exchanged, original) = used.compareExchange(
                expected: current, desired: current + bytes, ordering: .relaxed)
            if exchanged { return true }
            current = original
        }
    }

    public func release(_ bytes: Int) {
        guard bytes > 0 else { return }
        used.subtract(bytes, ordering: .relaxed)
    }
}
