/// Extends 16-bit RTP sequence numbers to 64 bits (RFC 3550 §A.1's cycle counting, without the
/// probation logic): each number is placed at the distance from the highest one seen that is
/// shortest modulo 2^16, so reordering within ±32767 packets keeps its order across wraparound.
public struct SequenceUnwrapper: Hashable, Sendable {
    /// The highest extended number seen, `nil` before the first.
    public private(set) var highest: UInt64?

    public init() {}

    /// An unwrapper that has already seen `highest`.
    public init(highest: UInt64) {
        self.highest = highest
    }

    /// Starts at `first`'s extended value `UInt64(first)`; numbers that would fall below zero
    /// (older than the first packet across a wrap) are `nil`.
    public mutating func unwrap(_ sequenceNumber: UInt16) -> UInt64? {
        guard let highest else {
            self.highest = UInt64(sequenceNumber)
            return UInt64(sequenceNumber)
        }
        let distance = Int64(Int16(bitPattern: sequenceNumber &- UInt16(truncatingIfNeeded: highest)))
        let candidate = Int64(bitPattern: highest) + distance
        guard candidate >= 0 else { return nil }
        let extended = UInt64(candidate)
        if extended > highest { self.highest = extended }
        return extended
    }

    /// The extended value `sequenceNumber` would have, without recording it.
    public func peek(_ sequenceNumber: UInt16) -> UInt64? {
        guard let highest else { return UInt64(sequenceNumber) }
        let distance = Int64(Int16(bitPattern: sequenceNumber &- UInt16(truncatingIfNeeded: highest)))
        let candidate = Int64(bitPattern: highest) + distance
        return candidate >= 0 ? UInt64(candidate) : nil
    }
}
