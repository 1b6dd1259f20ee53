import NIOCore

/// A point on a monotonic clock, as the time elapsed since an arbitrary origin.
///
/// The ICE state machines never read a clock (STYLE §2): callers pass `now` into every event. The
/// UDP handler derives it from `NIODeadline.now()`; tests build instants by hand.
public struct ICEInstant: Comparable, Hashable, Sendable, CustomStringConvertible {
    /// Time since the clock's origin.
    public var sinceOrigin: Duration

    public init(_ sinceOrigin: Duration) {
        self.sinceOrigin = sinceOrigin
    }

    /// The instant of a `NIODeadline` (its uptime nanoseconds as the offset).
    public init(_ deadline: NIODeadline) {
        self.sinceOrigin = .nanoseconds(Int64(clamping: deadline.uptimeNanoseconds))
    }

    public static let zero = ICEInstant(.zero)

    public static func < (lhs: ICEInstant, rhs: ICEInstant) -> Bool { lhs.sinceOrigin < rhs.sinceOrigin }
    public static func + (lhs: ICEInstant, rhs: Duration) -> ICEInstant { ICEInstant(lhs.sinceOrigin + rhs) }
    public static func - (lhs: ICEInstant, rhs: ICEInstant) -> Duration { lhs.sinceOrigin - rhs.sinceOrigin }

    public var description: String { "ICEInstant(\(sinceOrigin))" }
}
