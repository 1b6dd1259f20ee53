/// Splits `length` bytes into packets carrying at most `capacity` bytes each, with sizes that
/// differ by at most one byte (so the last packet is not a runt).
struct FrameSplitter: Sequence, IteratorProtocol {
    private let base: Int
    private let extra: Int
    private let count: Int
    private var index = 0
    private var offset = 0

    /// `nil` when `capacity < 1`.
    init?(length: Int, capacity: Int) {
        guard capacity >= 1 else { return nil }
        count = Swift.max(1, (length + capacity - 1) / capacity)
        base = length / count
        extra = length % count
    }

    var packetCount: Int { count }

    /// (offset, length, isLast)
    mutating func next() -> (offset: Int, length: Int, isLast: Bool)? {
        guard index < count else { return nil }
        let length = base + (index < extra ? 1 : 0)
        defer {
            index += 1
            offset += length
        }
        return (offset, length, index == count - 1)
    }
}
