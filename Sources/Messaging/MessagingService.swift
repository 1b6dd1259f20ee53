import CCP
import Crypto
import Foundation
import Ledger
import Logging
import Metrics
import NIOCore
import Redis
import Storage
import Synchronization

/// Messaging between paired devices (SPEC §4.4): channel routes, the durable per-device inbox,
/// groups, presence, and the notices that friend requests and group changes send.
///
/// Signalling hands it every established session and every frame; it answers on the session. Frames
/// of one session arrive in order (the connection waits for each call); sessions run concurrently.
/// Routes and live sessions are this node's, in memory; inboxes, groups and friends are in storage.
public final class MessagingService: Sendable {
    public struct Configuration: Sendable {
        /// `limits.relay_ttl`: inbox entries older than this are purged.
        public var relayTTL: Duration
        /// Presence lives this long without a refresh (3 keepalive intervals).
        public var presenceTTL: Duration
        /// Most devices one Join may name, and most users one group create or invite may add.
        public var maxMembers: Int
        /// Inbox entries read and pushed per storage round trip.
        public var inboxBatch: Int
        public var purgeInterval: Duration

        public init(
            relayTTL: Duration = .seconds(7 * 86_400), presenceTTL: Duration = .seconds(90), maxMembers: Int = 512, inboxBatch: Int = 128,
            purgeInterval: Duration = .seconds(60)
        ) {
            self.relayTTL = relayTTL
            self.presenceTTL = presenceTTL
            self.maxMembers = maxMembers
            self.inboxBatch = inboxBatch
            self.purgeInterval = purgeInterval
        }
    }

    final class Live: Sendable {
        let session: any MessagingSession
        let pump: InboxPump
        init(session: any MessagingSession, pump: InboxPump) {
            self.session = session
            self.pump = pump
        }
    }

    struct State {
        var routes = ChannelRoutes()
        /// Live sessions by device.
        var live: [String: [ObjectIdentifier: Live]] = [:]
        /// Devices with a live session, by user.
        var onlineDevices: [String: Set<String>] = [:]
        /// The presence each live device last set.
        var presence: [String: PresenceState] = [:]
    }

    public let configuration: Configuration
    public let storage: any Storage
    public let presence: PresenceBoard
    public let ledger: Ledger
    let logger: Logger
    let state = Mutex(State())
    let writer: InboxWriter

    public init(configuration: Configuration, storage: any Storage, presence: PresenceBoard, ledger: Ledger, logger: Logger) {
        self.configuration = configuration
        self.storage = storage
        self.presence = presence
        self.ledger = ledger
        self.logger = logger
        self.writer = InboxWriter(storage: storage)
    }

    // MARK: Sessions

    public func sessionOpened(_ session: any MessagingSession) async {
        let live = Live(session: session, pump: InboxPump(session: session, storage: storage, batch: configuration.inboxBatch, logger: logger))
        let (first, current) = state.withLock { state -> (Bool, PresenceState) in
            let first = state.live[session.deviceID]?.isEmpty ?? true
            state.live[session.deviceID, default: [:]][ObjectIdentifier(session)] = live
            state.onlineDevices[session.userID, default: []].insert(session.deviceID)
            let current = state.presence[session.deviceID] ?? .online
            state.presence[session.deviceID] = current
            return (first, current)
        }
        live.pump.wake()
        await presence.set(userID: session.userID, deviceID: session.deviceID, state: current, ttl: configuration.presenceTTL)
        if first { await pushPresence(userID: session.userID, deviceID: session.deviceID, state: current) }
        await sendFriendsPresence(to: session)
    }

    /// A Keepalive from the session: refreshes its presence.
    public func sessionKeepalive(_ session: any MessagingSession) async {
        let current = state.withLock { $0.presence[session.deviceID] } ?? .online
        await presence.set(userID: session.userID, deviceID: session.deviceID, state: current, ttl: configuration.presenceTTL)
    }

    public func sessionClosed(_ session: any MessagingSession) async {
        let (removed, last) = state.withLock { state -> (Live?, Bool) in
            let removed = state.live[session.deviceID]?.removeValue(forKey: ObjectIdentifier(session))
            guard state.live[session.deviceID]?.isEmpty ?? true else { return (removed, false) }
            state.live[session.deviceID] = nil
            state.presence[session.deviceID] = nil
            state.onlineDevices[session.userID]?.remove(session.deviceID)
            if state.onlineDevices[session.userID]?.isEmpty == true { state.onlineDevices[session.userID] = nil }
            return (removed, removed != nil)
        }
        removed?.pump.stop()
        guard last else { return }
        await presence.clear(deviceID: session.deviceID)
        await pushPresence(userID: session.userID, deviceID: session.deviceID, state: .offline)
    }

    /// Number of live messaging sessions on this node.
    public var liveSessions: Int { state.withLock { $0.live.values.reduce(0) { $0 + $1.count } } }

    // MARK: Frames

    /// Handles one frame of an established session; refusals are answered with an `Error` frame.
    public func received(_ frame: CCPFrame, from session: any MessagingSession) async {
        Counter(label: "commucat_messaging_frames_total", dimensions: [("type", "\(frame.type)")]).increment()
        do throws(MessagingError) {
            switch frame.type {
            case .join: try await join(frame, session)
            case .leave: try leave(frame, session)
            case .msg, .typing, .keyUpdate: try await relay(frame, session)
            case .groupEvent:
                let object = try Self.object(frame)
                if let action = object["action"] as? String {
                    try await groupAction(action, object, frame, session)
                } else {
                    try await relay(frame, session)
                }
            case .ack: try await acknowledge(frame, session)
            case .presence: try await setPresence(frame, session)
            case .groupCreate: try await createGroup(frame, session)
            case .groupInvite: try await invite(frame, session)
            default:
                throw MessagingError(.unsupported, "frame type \(frame.type) is not handled by this server")
            }
        } catch {
            Counter(label: "commucat_messaging_rejections_total", dimensions: [("code", error.code.rawValue)]).increment()
            session.deliver([error.frame(channel: frame.channelID)])
        }
    }

    // MARK: Channels

    private func join(_ frame: CCPFrame, _ session: any MessagingSession) async throws(MessagingError) {
        guard frame.channelID != 0 else { throw MessagingError(.invalid, "channel 0 carries server notices; join another channel id") }
        let object = try Self.object(frame)
        let target: ChannelRoutes.Target
        let memberDevices: Set<String>
        var groupID: String?
        if let group = object["group_id"] as? String {
            try await requireMember(groupID: group, userID: session.userID)
            target = .group(group)
            memberDevices = try await groupDevices(group)
            groupID = group
        } else if let members = object["members"] as? [String], !members.isEmpty {
            let unique = Set(members)
            guard unique.count <= configuration.maxMembers else {
                throw MessagingError(.invalid, "at most \(configuration.maxMembers) members per channel")
            }
            for deviceID in unique.sorted() where deviceID != session.deviceID {
                try await requireReachable(deviceID: deviceID, from: session.userID)
            }
            target = .devices(unique.union([session.deviceID]))
            memberDevices = unique
        } else {
            throw MessagingError(.invalid, "Join needs {members:[device_id…]} or {group_id}")
        }
        let outcome = try state.withLock { state throws(MessagingError) in
            try state.routes.join(sender: session.deviceID, channel: frame.channelID, target: target, memberDevices: memberDevices)
        }
        if case .created(let route) = outcome {
            var notice: [String: JSONText] = [
                "type": .string("channel"), "channel": .int(Int64(frame.channelID)), "members": .strings(route.members.sorted()),
                "from_device": .string(session.deviceID), "from_user": .string(session.userID),
            ]
            if let groupID { notice["group_id"] = .string(groupID) }
            let others = route.members.subtracting([session.deviceID]).sorted()
            try await enqueue(
                to: others, type: .groupEvent, channel: frame.channelID, payload: Array(JSONText.object(notice).utf8),
                envelopeID: "join:\(UUID().uuidString.lowercased())")
        }
        session.deliver([Self.ack(frame, ["channel": .int(Int64(frame.channelID))])])
    }

    private func leave(_ frame: CCPFrame, _ session: any MessagingSession) throws(MessagingError) {
        let left = state.withLock { $0.routes.leave(device: session.deviceID, channel: frame.channelID) }
        guard left else { throw MessagingError(.unknownChannel, "no route on channel \(frame.channelID)") }
        session.deliver([Self.ack(frame, [:])])
    }

    /// Msg, Typing, KeyUpdate and GroupEvent on a routed channel: appended to every other member
    /// device's inbox, then acknowledged to the sender, then pushed to the live ones.
    private func relay(_ frame: CCPFrame, _ session: any MessagingSession) async throws(MessagingError) {
        guard let route = state.withLock({ $0.routes.route(device: session.deviceID, channel: frame.channelID) }) else {
            throw MessagingError(.unknownChannel, "no route on channel \(frame.channelID); send Join first")
        }
        var recipients: [String]
        switch route.target {
        case .devices:
            recipients = route.members.subtracting([session.deviceID]).sorted()
        case .group(let groupID):
            do throws(MessagingError) {
                try await requireMember(groupID: groupID, userID: session.userID)
            } catch {
                state.withLock { _ = $0.routes.leave(device: session.deviceID, channel: frame.channelID) }
                throw error
            }
            let devices = try await groupDevices(groupID)
            recipients = devices.subtracting([session.deviceID]).sorted()
            state.withLock { state in
                recipients = recipients.filter { state.routes.bindIfFree(device: $0, routeID: route.id) }
            }
        }
        let payload: [UInt8]
        if frame.type.carriesJSON {
            payload = Self.stamped(frame, from: session)
        } else {
            payload = Array(frame.payload.readableBytesView)
        }
        let envelopeID = Self.envelopeID(sender: session.deviceID, frame: frame)
        try await enqueue(to: recipients, type: frame.type, channel: frame.channelID, payload: payload, envelopeID: envelopeID)
        ledger.record(
            scope: .delivery, result: "queued",
            fields: [
                "envelope_id": .string(envelopeID), "type": .string("\(frame.type)"), "from_device": .string(session.deviceID),
                "channel": .int(Int64(frame.channelID)), "to_devices": .string(recipients.joined(separator: ",")),
            ])
        session.deliver([Self.ack(frame, ["envelope_id": .string(envelopeID), "recipients": .int(Int64(recipients.count))])])
    }

    /// `Ack {ack: n}` from a device: removes its inbox entries up to `n`.
    private func acknowledge(_ frame: CCPFrame, _ session: any MessagingSession) async throws(MessagingError) {
        let object = try Self.object(frame)
        guard let value = object["ack"] as? NSNumber, let requested = Int64(exactly: value.doubleValue), requested >= 0 else {
            throw MessagingError(.invalid, "Ack needs {ack: <inbox sequence>}")
        }
        // Never past what this device's live sessions were given: an Ack from a confused client must
        // not delete entries it has not seen.
        let delivered = state.withLock { state in (state.live[session.deviceID]?.values.map(\.pump.deliveredSequence) ?? []).max() ?? 0 }
        let upTo = min(requested, delivered)
        guard upTo > 0 else { return }
        let removed: Int
        do {
            removed = try await storage.ack(deviceID: session.deviceID, upTo: upTo)
        } catch {
            throw MessagingError(.internal, "cannot remove acknowledged entries: \(error.code.rawValue)")
        }
        if removed > 0 {
            ledger.record(
                scope: .delivery, result: "acked",
                fields: ["device_id": .string(session.deviceID), "up_to": .int(upTo), "removed": .int(Int64(removed))])
        }
    }

    // MARK: Presence

    private func setPresence(_ frame: CCPFrame, _ session: any MessagingSession) async throws(MessagingError) {
        let object = try Self.object(frame)
        guard let name = object["state"] as? String, let value = PresenceState(rawValue: name) else {
            throw MessagingError(.invalid, "Presence needs {state: online|away|offline}")
        }
        let previous = state.withLock { state -> PresenceState? in
            let previous = state.presence[session.deviceID]
            state.presence[session.deviceID] = value
            return previous
        }
        await presence.set(userID: session.userID, deviceID: session.deviceID, state: value, ttl: configuration.presenceTTL)
        if previous != value { await pushPresence(userID: session.userID, deviceID: session.deviceID, state: value) }
    }

    /// Tells the live devices of `userID`'s friends, and nobody else, that `deviceID` is now `state`.
    func pushPresence(userID: String, deviceID: String, state value: PresenceState) async {
        guard let friends = try? await storage.friends(of: userID), !friends.isEmpty else { return }
        let frame = Self.presenceFrame(userID: userID, deviceID: deviceID, state: value)
        let targets = state.withLock { state in
            friends.flatMap { friend in
                (state.onlineDevices[friend.id] ?? []).flatMap { state.live[$0].map { Array($0.values) } ?? [] }
            }
        }
        for live in targets { live.session.deliver([frame]) }
    }

    /// The presence of every friend device that has one, to a session that just opened.
    private func sendFriendsPresence(to session: any MessagingSession) async {
        guard let friends = try? await storage.friends(of: session.userID), !friends.isEmpty else { return }
        var frames: [CCPFrame] = []
        for friend in friends {
            for record in await presence.presence(ofUser: friend.id) {
                frames.append(Self.presenceFrame(userID: record.userID, deviceID: record.deviceID, state: record.state))
            }
        }
        if !frames.isEmpty { session.deliver(frames) }
    }

    /// Presence of a user's devices (for `GET /api/friends`): the shared or local record, else offline.
    public func presenceStates(ofUser userID: String) async -> [String: PresenceState] {
        var states: [String: PresenceState] = [:]
        for record in await presence.presence(ofUser: userID) { states[record.deviceID] = record.state }
        return states
    }

    static func presenceFrame(userID: String, deviceID: String, state: PresenceState) -> CCPFrame {
        CCPFrame(
            type: .presence, channelID: 0, sequence: 0,
            json: JSONText.object(["user_id": .string(userID), "device_id": .string(deviceID), "state": .string(state.rawValue)]))
    }

    // MARK: Notices

    /// Appends a GroupEvent notice (channel 0) to every active device of `userIDs` and pushes it to
    /// the live ones. Used for friend requests and group changes.
    public func notify(userIDs: [String], event: [String: JSONText]) async throws(MessagingError) {
        var devices: [String] = []
        for userID in Set(userIDs).sorted() {
            do {
                devices += try await storage.devices(userID: userID).filter { $0.status == .active }.map(\.deviceID)
            } catch {
                throw MessagingError(.internal, "cannot list devices: \(error.code.rawValue)")
            }
        }
        try await enqueue(
            to: devices, type: .groupEvent, channel: 0, payload: Array(JSONText.object(event).utf8),
            envelopeID: "notice:\(UUID().uuidString.lowercased())")
    }

    /// Appends one frame to each device's inbox (committed before this returns), then wakes the
    /// devices' live sessions.
    func enqueue(to devices: [String], type: CCPFrameType, channel: UInt32, payload: [UInt8], envelopeID: String) async throws(MessagingError) {
        let expires = Date().addingTimeInterval(Self.seconds(configuration.relayTTL))
        let entries = devices.map { deviceID in
            InboxAppend(deviceID: deviceID, envelopeID: envelopeID, channelID: channel, frameType: type.rawValue, payload: payload, expiresAt: expires)
        }
        do {
            _ = try await writer.append(entries)
        } catch {
            throw MessagingError(.internal, "cannot queue the frame: \(error.code.rawValue)")
        }
        let pumps = state.withLock { state in devices.flatMap { state.live[$0].map { $0.values.map(\.pump) } ?? [] } }
        for pump in pumps { pump.wake() }
    }

    // MARK: Housekeeping

    /// Purges expired inbox entries every `purgeInterval` until cancelled.
    public func runPurge() async {
        while !Task.isCancelled {
            do { try await Task.sleep(for: configuration.purgeInterval) } catch { return }
            await purgeExpired(now: Date())
        }
    }

    @discardableResult
    public func purgeExpired(now: Date) async -> Int {
        do {
            let purged = try await storage.purgeExpired(now: now)
            if purged > 0 {
                Counter(label: "commucat_messaging_purged_total").increment(by: Int64(purged))
                logger.info("inbox: purged expired entries", metadata: ["entries": "\(purged)"])
            }
            return purged
        } catch {
            logger.warning("inbox: purge failed", metadata: ["error": "\(error)"])
            return 0
        }
    }

    // MARK: Helpers

    /// `device` must be active and belong to `userID` or to a mutual friend of `userID`.
    private func requireReachable(deviceID: String, from userID: String) async throws(MessagingError) {
        do {
            guard let device = try await storage.device(id: deviceID), device.status == .active else {
                throw MessagingError(.notFriend, "device \(deviceID) is not a device of yours or of a friend")
            }
            if device.userID == userID { return }
            guard try await storage.areFriends(userID, device.userID) else {
                throw MessagingError(.notFriend, "device \(deviceID) is not a device of yours or of a friend")
            }
        } catch let error as MessagingError {
            throw error
        } catch {
            throw MessagingError(.internal, "cannot check device \(deviceID)")
        }
    }

    func requireMember(groupID: String, userID: String) async throws(MessagingError) {
        do {
            guard try await storage.group(id: groupID) != nil else { throw MessagingError(.unknownGroup, "no group \(groupID)") }
            guard try await storage.groupMember(groupID: groupID, userID: userID) != nil else {
                throw MessagingError(.notMember, "you are not a member of group \(groupID)")
            }
        } catch let error as MessagingError {
            throw error
        } catch {
            throw MessagingError(.internal, "cannot check group \(groupID)")
        }
    }

    /// Active devices of every member of the group.
    func groupDevices(_ groupID: String) async throws(MessagingError) -> Set<String> {
        do {
            var devices: Set<String> = []
            for member in try await storage.groupMembers(groupID: groupID) {
                for device in try await storage.devices(userID: member.userID) where device.status == .active {
                    devices.insert(device.deviceID)
                }
            }
            return devices
        } catch {
            throw MessagingError(.internal, "cannot list group \(groupID): \(error.code.rawValue)")
        }
    }

    static func object(_ frame: CCPFrame) throws(MessagingError) -> [String: Any] {
        guard let value = try? JSONSerialization.jsonObject(with: Data(frame.payload.readableBytesView)), let object = value as? [String: Any] else {
            throw MessagingError(.invalid, "\(frame.type) needs a JSON object")
        }
        return object
    }

    /// `Ack {ack: <the frame's sequence>, …}` on the frame's channel (sequence 0: not an inbox entry).
    static func ack(_ frame: CCPFrame, _ extra: [String: JSONText]) -> CCPFrame {
        var members = extra
        members["ack"] = .int(Int64(frame.sequence))
        return CCPFrame(type: .ack, channelID: frame.channelID, sequence: 0, json: JSONText.object(members))
    }

    /// A JSON object payload with `from_device` and `from_user` set by the server (so a recipient
    /// knows the sender); any other JSON value is relayed unchanged.
    static func stamped(_ frame: CCPFrame, from session: any MessagingSession) -> [UInt8] {
        let bytes = Array(frame.payload.readableBytesView)
        guard var object = (try? JSONSerialization.jsonObject(with: Data(bytes))) as? [String: Any] else { return bytes }
        object["from_device"] = session.deviceID
        object["from_user"] = session.userID
        guard let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]) else { return bytes }
        return Array(data)
    }

    /// The envelope id of a relayed frame: the first 16 bytes of SHA-256 over the sender device,
    /// channel, sequence, type and payload, in hex. A client that sends the same frame again (same
    /// sequence and bytes, after a lost Ack) hits the inbox's idempotency and is stored once.
    static func envelopeID(sender: String, frame: CCPFrame) -> String {
        var hasher = SHA256()
        hasher.update(data: Array(sender.utf8) + [0])
        withUnsafeBytes(of: frame.channelID.bigEndian) { hasher.update(bufferPointer: $0) }
        withUnsafeBytes(of: frame.sequence.bigEndian) { hasher.update(bufferPointer: $0) }
        hasher.update(data: [frame.type.rawValue])
        frame.payload.withUnsafeReadableBytes { hasher.update(bufferPointer: $0) }
        return hasher.finalize().prefix(16).map { String(format: "%02x", $0) }.joined()
    }

    static func seconds(_ duration: Duration) -> TimeInterval {
        let (seconds, attoseconds) = duration.components
        return TimeInterval(seconds) + TimeInterval(attoseconds) / 1e18
    }
}
