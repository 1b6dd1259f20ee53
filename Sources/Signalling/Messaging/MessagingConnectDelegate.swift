import CCP
import Messaging

/// Hands every established `/connect` session and its frames to the messaging service.
public struct MessagingConnectDelegate: ConnectSessionDelegate {
    public let messaging: MessagingService

    public init(messaging: MessagingService) {
        self.messaging = messaging
    }

    public func sessionOpened(_ session: ConnectSessionHandle) async { await messaging.sessionOpened(session) }
    public func session(_ session: ConnectSessionHandle, received frame: CCPFrame) async { await messaging.received(frame, from: session) }
    public func sessionKeepalive(_ session: ConnectSessionHandle) async { await messaging.sessionKeepalive(session) }
    public func sessionClosed(_ session: ConnectSessionHandle) async { await messaging.sessionClosed(session) }
}

extension ConnectSessionHandle: MessagingSession {
    public func deliver(_ frames: [CCPFrame]) { send(frames) }
}
