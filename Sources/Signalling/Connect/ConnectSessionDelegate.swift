import CCP
import ConnectCore
import Foundation
import NIOCore
import Synchronization

/// Receives every decrypted frame of an established session except Keepalive (which the
/// connection answers itself). Messaging implements this; ``UnsupportedFramesDelegate`` is the default.
public protocol ConnectSessionDelegate: Sendable {
    /// The Ack was sent; `session` can send frames from now on.
    func sessionOpened(_ session: ConnectSessionHandle) async
    /// One frame from the client, in order. The connection waits for this call before the next frame.
    func session(_ session: ConnectSessionHandle, received frame: CCPFrame) async
    /// The client sent a Keepalive (the connection answers it); refreshes presence.
    func sessionKeepalive(_ session: ConnectSessionHandle) async
    /// The stream closed (client gone, idle, revoked, error). Sends after this are dropped.
    func sessionClosed(_ session: ConnectSessionHandle) async
}

extension ConnectSessionDelegate {
    public func sessionKeepalive(_ session: ConnectSessionHandle) async {}
}

/// Answers every frame with `Error {error:"unsupported"}` on the frame's channel and sequence.
public struct UnsupportedFramesDelegate: ConnectSessionDelegate {
    public init() {}
    public func sessionOpened(_ session: ConnectSessionHandle) async {}
    public func session(_ session: ConnectSessionHandle, received frame: CCPFrame) async {
        let error = ConnectError(.unsupported, "frame type \(frame.type.rawValue) is not handled by this server")
        session.send(HandshakeMessages.errorFrame(error, channel: frame.channelID, sequence: frame.sequence))
    }
    public func sessionClosed(_ session: ConnectSessionHandle) async {}
}

/// A live, established CCP-1 session: who it is and a way to send frames or close it.
/// Frames are encrypted and written in the order `send` is called.
public final class ConnectSessionHandle: Sendable, Hashable {
    public let sessionID: String
    public let deviceID: String
    public let userID: String
    public let handle: String
    public let transport: String
    private let events: AsyncStream<ConnectionEvent>.Continuation

    init(device: AuthorizedDevice, transport: String, events: AsyncStream<ConnectionEvent>.Continuation) {
        self.sessionID = device.sessionID
        self.deviceID = device.deviceID
        self.userID = device.userID
        self.handle = device.handle
        self.transport = transport
        self.events = events
    }

    /// Queues frames for encryption and sending.
    public func send(_ frames: CCPFrame...) {
        events.yield(.send(frames))
    }

    public func send(_ frames: [CCPFrame]) {
        events.yield(.send(frames))
    }

    /// Closes the session, first sending `Error {error, detail}` when `error` is given.
    public func close(_ error: ConnectError? = nil) {
        events.yield(.close(error))
    }

    public static func == (a: ConnectSessionHandle, b: ConnectSessionHandle) -> Bool { a === b }
    public func hash(into hasher: inout Hasher) { hasher.combine(ObjectIdentifier(self)) }
}

/// The live sessions of this node, by device, so that revocation drops them.
public final class ConnectSessionRegistry: Sendable {
    private let sessions = Mutex<[String: Set<ConnectSessionHandle>]>([:])

    public init() {}

    func add(_ session: ConnectSessionHandle) {
        sessions.withLock { _ = $0[session.deviceID, default: []].insert(session) }
    }

    func remove(_ session: ConnectSessionHandle) {
        sessions.withLock { all in
            all[session.deviceID]?.remove(session)
            if all[session.deviceID]?.isEmpty == true { all[session.deviceID] = nil }
        }
    }

    /// The device's live sessions.
    public func sessions(deviceID: String) -> [ConnectSessionHandle] {
        sessions.withLock { Array($0[deviceID] ?? []) }
    }

    /// Number of live sessions on this node.
    public var count: Int { sessions.withLock { $0.values.reduce(0) { $0 + $1.count } } }

    /// Closes every live session of this node (graceful shutdown); returns how many.
    @discardableResult
    public func dropAll(error: ConnectError?) -> Int {
        let victims = sessions.withLock { $0.values.flatMap { $0 } }
        victims.forEach { $0.close(error) }
        return victims.count
    }

    /// Closes every live session of the device with `error`; returns how many.
    @discardableResult
    public func drop(deviceID: String, error: ConnectError) -> Int {
        let victims = sessions(deviceID: deviceID)
        victims.forEach { $0.close(error) }
        return victims.count
    }
}

enum ConnectionEvent: Sendable {
    case inbound(ByteBuffer)
    case inboundEnded
    case tick
    case send([CCPFrame])
    case close(ConnectError?)
    /// `limits.handshake_timeout` passed since the stream opened (ignored once established).
    case handshakeDeadline
}

/// Tracks inbound silence (SPEC §4.3: a silent session closes after 3 keepalive intervals).
struct IdleDeadline: Sendable {
    let limit: Duration
    private(set) var lastActivity: ContinuousClock.Instant

    init(interval: Duration, now: ContinuousClock.Instant) {
        self.limit = interval * 3
        self.lastActivity = now
    }

    mutating func activity(at now: ContinuousClock.Instant) { lastActivity = now }

    func isExpired(at now: ContinuousClock.Instant) -> Bool { now - lastActivity >= limit }
}
