/// Sequence-number bookkeeping shared by the depacketizers: which packets belong to the frame in
/// progress, whether one is missing, and which frames to report dropped. Pure and allocation-free
/// except for the drop list (rare).
///
/// Packets are expected in sequence order (a jitter buffer, if any, sits in front). A packet at
/// or behind the last one seen (serial-number arithmetic, RFC 1982) is a duplicate or arrived too
/// late and is ignored.
struct FrameTracker {
    /// Whether a packet starts a frame, as far as its format can tell.
    enum Start { case yes, no, unknown }

    private(set) var inFrame = false
    private(set) var broken = false
    private(set) var timestamp: UInt32 = 0
    private(set) var firstSequenceNumber: UInt16 = 0
    private(set) var lastSequenceNumber: UInt16 = 0
    private var seenAny = false
    private var brokenReason = DroppedFrame.Reason.missingPacket
    private var brokenMissing = 0
    private(set) var pendingDrops: [DroppedFrame] = []

    /// Admits a packet. Returns `false` for a duplicate or late packet, which must be ignored.
    mutating func admit(sequenceNumber: UInt16, timestamp: UInt32, start: Start) -> Bool {
        var gap = 0
        if seenAny {
            let delta = Int16(bitPattern: sequenceNumber &- lastSequenceNumber)
            if delta <= 0 { return false }
            gap = Int(delta) - 1
        }
        seenAny = true
        lastSequenceNumber = sequenceNumber
        var droppedPrevious = false
        if inFrame, timestamp != self.timestamp || start == .yes {
            // The frame in progress never saw its end: the gap (or nothing) swallowed it.
            pendingDrops.append(
                DroppedFrame(
                    reason: broken ? brokenReason : .missingEnd, timestamp: self.timestamp,
                    missingPackets: broken ? brokenMissing : gap
                )
            )
            inFrame = false
            droppedPrevious = true
        }
        if inFrame {
            if gap > 0, !broken { markBroken(.missingPacket, missing: gap) }
            return true
        }
        inFrame = true
        broken = false
        brokenMissing = 0
        self.timestamp = timestamp
        firstSequenceNumber = sequenceNumber
        switch start {
        case .no:
            markBroken(.missingStart, missing: gap)
        case .unknown:
            if gap > 0 { markBroken(.missingPacket, missing: gap) }
        case .yes:
            if gap > 0, !droppedPrevious {
                pendingDrops.append(DroppedFrame(reason: .lostInGap, timestamp: nil, missingPackets: gap))
            }
        }
        return true
    }

    mutating func markBroken(_ reason: DroppedFrame.Reason, missing: Int = 0) {
        guard !broken else { return }
        broken = true
        brokenReason = reason
        brokenMissing = missing
    }

    /// Ends the frame in progress. Returns `true` when it is intact and should be delivered;
    /// otherwise records the drop.
    mutating func end() -> Bool {
        guard inFrame else { return false }
        inFrame = false
        if broken {
            pendingDrops.append(DroppedFrame(reason: brokenReason, timestamp: timestamp, missingPackets: brokenMissing))
            return false
        }
        return true
    }

    /// Records a malformed packet: the frame it belongs to is dropped at its end.
    mutating func fail(sequenceNumber: UInt16, timestamp: UInt32, ends: Bool) {
        if !(seenAny && sequenceNumber == lastSequenceNumber && inFrame) {
            guard admit(sequenceNumber: sequenceNumber, timestamp: timestamp, start: .unknown) else { return }
        }
        markBroken(.malformed)
        if ends { _ = end() }
    }

    mutating func takeDrops() -> [DroppedFrame] {
        guard !pendingDrops.isEmpty else { return [] }
        defer { pendingDrops.removeAll(keepingCapacity: true) }
        return pendingDrops
    }
}

/// A small fixed-capacity list of unsigned values of one bit width, stored inline in 256 bits so
/// that descriptors holding reference lists (VP9 P_DIFF, dependency-descriptor fdiffs, chains,
/// DTIs) never allocate. Capacity is `256 / bitWidth`.
public struct PackedSmallArray: Hashable, Sendable, RandomAccessCollection {
    private var w0: UInt64 = 0, w1: UInt64 = 0, w2: UInt64 = 0, w3: UInt64 = 0
    public let bitWidth: Int
    public private(set) var count: Int = 0

    public init(bitWidth: Int) {
        self.bitWidth = Swift.min(Swift.max(bitWidth, 1), 32)
    }

    public var capacity: Int { 256 / bitWidth }
    public var startIndex: Int { 0 }
    public var endIndex: Int { count }

    private func word(_ index: Int) -> UInt64 {
        switch index {
        case 0: w0
        case 1: w1
        case 2: w2
        default: w3
        }
    }

    private mutating func setWord(_ index: Int, _ value: UInt64) {
        switch index {
        case 0: w0 = value
        case 1: w1 = value
        case 2: w2 = value
        default: w3 = value
        }
    }

    private func rawBit(_ bit: Int) -> UInt64 { word(bit >> 6) >> UInt64(bit & 63) & 1 }

    public subscript(position: Int) -> Int {
        guard position >= 0, position < count else { return 0 }
        var value = 0
        let start = position * bitWidth
        for bit in 0..<bitWidth where rawBit(start + bit) == 1 { value |= 1 << bit }
        return value
    }

    /// Appends `value` (masked to `bitWidth` bits). Returns `false` when full.
    @discardableResult
    public mutating func append(_ value: Int) -> Bool {
        guard count < capacity else { return false }
        let start = count * bitWidth
        for bit in 0..<bitWidth where value >> bit & 1 == 1 {
            let position = start + bit
            setWord(position >> 6, word(position >> 6) | 1 << UInt64(position & 63))
        }
        count += 1
        return true
    }
}
