import SFUWire

/// A candidate pair as an ICE-lite agent sees it (RFC 8445 §2.5, §7.3.1.4): our host candidate on
/// the shared port, and the remote transport address a valid check came from.
public struct ICECandidatePair: Hashable, Sendable {
    /// The source transport address of the checks (the peer's candidate, possibly peer-reflexive).
    public var remote: STUNAddress
    /// The PRIORITY attribute of the latest valid check (RFC 8445 §7.1.1).
    public var remotePriority: UInt32
    /// Pair priority of RFC 8445 §6.1.2.3, the peer being controlling.
    public var priority: UInt64
    /// A check on this pair carried USE-CANDIDATE (RFC 8445 §7.3.1.5).
    public var nominated: Bool
    /// When the first valid check arrived.
    public var firstValidCheck: ICEInstant
    /// When the latest valid check arrived: consent (RFC 7675 §5.1) is counted from here.
    public var lastValidCheck: ICEInstant

    public init(
        remote: STUNAddress, remotePriority: UInt32, priority: UInt64, nominated: Bool,
        firstValidCheck: ICEInstant, lastValidCheck: ICEInstant
    ) {
        self.remote = remote
        self.remotePriority = remotePriority
        self.priority = priority
        self.nominated = nominated
        self.firstValidCheck = firstValidCheck
        self.lastValidCheck = lastValidCheck
    }

    /// RFC 8445 §6.1.2.3: `2^32·MIN(G,D) + 2·MAX(G,D) + (G>D ? 1 : 0)`, where G is the
    /// controlling agent's candidate priority and D the controlled agent's.
    public static func priority(controlling g: UInt32, controlled d: UInt32) -> UInt64 {
        let low = UInt64(min(g, d))
        let high = UInt64(max(g, d))
        return (low << 32) &+ 2 &* high &+ (g > d ? 1 : 0)
    }
}
