import CCP

/// One live, established CCP-1 session as the messaging service sees it. Signalling's
/// `ConnectSessionHandle` conforms; tests use their own.
public protocol MessagingSession: AnyObject, Sendable {
    var sessionID: String { get }
    var deviceID: String { get }
    var userID: String { get }
    /// Queues frames for this session, in call order; never blocks.
    func deliver(_ frames: [CCPFrame])
}
