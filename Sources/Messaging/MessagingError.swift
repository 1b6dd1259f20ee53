import CCP
import NIOCore

/// A refused messaging frame: a stable `code` sent back as `Error {error, detail}` on the frame's
/// channel (SPEC §4.4), counted in `commucat_messaging_rejections_total{code}`.
public struct MessagingError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Code: String, Sendable, Hashable, CaseIterable {
        /// A member device is not the sender's own nor a mutual friend's; a group invitee is not a friend.
        case notFriend = "not_friend"
        /// The sender is not (or no longer) a member of the group.
        case notMember = "not_member"
        /// No route on this channel for the sender (Join first).
        case unknownChannel = "unknown_channel"
        /// A member already uses the channel id for another route.
        case channelInUse = "channel_in_use"
        case unknownGroup = "unknown_group"
        /// The sender's group role does not allow the action (invite, kick, roles).
        case forbidden
        /// The payload is not what the frame type requires.
        case invalid
        /// The frame type is not handled by the messaging service (calls, media frames).
        case unsupported
        /// Storage failed; the frame was not acknowledged and may be sent again.
        case `internal`
    }

    public var code: Code
    public var detail: String

    public init(_ code: Code, _ detail: String) {
        self.code = code
        self.detail = detail
    }

    public var description: String { "\(code.rawValue): \(detail)" }

    /// `Error {error, detail}` on `channel` (sequence 0: not an inbox entry).
    public func frame(channel: UInt32) -> CCPFrame {
        CCPFrame(type: .error, channelID: channel, sequence: 0, json: JSONText.object(["error": .string(code.rawValue), "detail": .string(detail)]))
    }
}
