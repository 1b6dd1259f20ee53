import NIOCore
import SFUWire

/// Identifies a session in an ``ICESessionTable``. Stale handles (of removed sessions) never match
/// a later session that reuses the slot.
public struct ICESessionHandle: Hashable, Sendable, CustomStringConvertible {
    let index: Int32
    let generation: UInt32

    public var description: String { "ICESession(\(index)#\(generation))" }
}

/// The demultiplexer of one UDP port shared by every session (SPEC §3.1): STUN binding requests
/// route by the local ufrag in their USERNAME, every other packet (DTLS, RTP, RTCP per RFC 7983)
/// by the remote transport address a valid check came from.
///
/// Owns each session's ``ICEAgent`` and an owner-chosen `Context` (the UDP handler stores the
/// session's delegate there). Lookups are hash lookups on inline keys: no allocation per packet.
/// Not thread-safe: confine it to one event loop.
public struct ICESessionTable<Context> {
    private var agents: [ICEAgent?] = []
    private var contexts: [Context?] = []
    private var generations: [UInt32] = []
    private var freeSlots: [Int32] = []
    private var byUfrag: [ICEUfragKey: Int32] = [:]
    private var byAddress: [STUNAddress: Int32] = [:]

    /// Drops by reason, for every packet this table (or its owner) refused.
    public private(set) var drops = ICEDropCounters()
    /// Registered sessions.
    public private(set) var count = 0

    public init(minimumCapacity: Int = 0) {
        agents.reserveCapacity(minimumCapacity)
        contexts.reserveCapacity(minimumCapacity)
        generations.reserveCapacity(minimumCapacity)
        byUfrag.reserveCapacity(minimumCapacity)
        byAddress.reserveCapacity(minimumCapacity)
    }

    /// Adds a session answering checks for `local` credentials.
    ///
    /// - Throws: ``ICEError`` `.invalidUfrag` / `.invalidPassword` (RFC 8839 §5.4, and local ufrags
    ///   of at most ``ICEUfragKey/maximumLength`` bytes), `.duplicateUfrag`.
    public mutating func register(
        local: ICECredentials, remote: ICECredentials?, context: Context,
        configuration: ICEAgent.Configuration = ICEAgent.Configuration(), now: ICEInstant,
        allocator: ByteBufferAllocator = ByteBufferAllocator()
    ) throws(ICEError) -> ICESessionHandle {
        guard let key = ICEUfragKey(local.ufrag) else {
            throw ICEError(.invalidUfrag, detail: "local ufrag longer than \(ICEUfragKey.maximumLength) bytes")
        }
        guard byUfrag[key] == nil else { throw ICEError(.duplicateUfrag, detail: local.ufrag) }
        let agent = try ICEAgent(local: local, remote: remote, configuration: configuration, now: now, allocator: allocator)
        let index: Int32
        if let free = freeSlots.popLast() {
            index = free
            agents[Int(index)] = agent
            contexts[Int(index)] = context
        } else {
            index = Int32(agents.count)
            agents.append(agent)
            contexts.append(context)
            generations.append(0)
        }
        byUfrag[key] = index
        count += 1
        return ICESessionHandle(index: index, generation: generations[Int(index)])
    }

    private func slot(_ handle: ICESessionHandle) -> Int? {
        let index = Int(handle.index)
        guard generations.indices.contains(index), generations[index] == handle.generation, agents[index] != nil else {
            return nil
        }
        return index
    }

    /// Removes a session and every route to it; returns its context, `nil` for a stale handle.
    @discardableResult
    public mutating func remove(_ handle: ICESessionHandle) -> Context? {
        guard let index = slot(handle), let agent = agents[index] else { return nil }
        if let key = ICEUfragKey(agent.localCredentials.ufrag), byUfrag[key] == Int32(index) {
            byUfrag.removeValue(forKey: key)
        }
        for pair in agent.pairs where byAddress[pair.remote] == Int32(index) {
            byAddress.removeValue(forKey: pair.remote)
        }
        let context = contexts[index]
        agents[index] = nil
        contexts[index] = nil
        generations[index] &+= 1
        freeSlots.append(Int32(index))
        count -= 1
        return context
    }

    /// The session's agent, `nil` for a stale handle.
    public func agent(_ handle: ICESessionHandle) -> ICEAgent? {
        slot(handle).flatMap { agents[$0] }
    }

    /// The session's context, `nil` for a stale handle.
    public func context(_ handle: ICESessionHandle) -> Context? {
        slot(handle).flatMap { contexts[$0] }
    }

    /// Sets the peer's credentials once its SDP arrives (see ``ICEAgent/setRemoteCredentials(_:)``).
    public mutating func setRemoteCredentials(_ remote: ICECredentials, for handle: ICESessionHandle) throws(ICEError) {
        guard let index = slot(handle) else { throw ICEError(.unknownSession) }
        try agents[index]?.setRemoteCredentials(remote)
    }

    /// ICE restart of a session: checks for `local`'s ufrag reach it from now on, the old ufrag no
    /// longer does; its transport addresses stay bound (see ``ICEAgent/restart(local:)``).
    public mutating func restart(_ handle: ICESessionHandle, local: ICECredentials) throws(ICEError) {
        guard let index = slot(handle), let old = agents[index]?.localCredentials else { throw ICEError(.unknownSession) }
        guard let key = ICEUfragKey(local.ufrag) else {
            throw ICEError(.invalidUfrag, detail: "local ufrag longer than \(ICEUfragKey.maximumLength) bytes")
        }
        guard byUfrag[key] == nil else { throw ICEError(.duplicateUfrag, detail: local.ufrag) }
        try agents[index]?.restart(local: local)
        if let oldKey = ICEUfragKey(old.ufrag) { byUfrag[oldKey] = nil }
        byUfrag[key] = Int32(index)
    }

    /// What became of a STUN message.
    public enum STUNRoute {
        /// Nobody answers; the drop was counted.
        case dropped(ICEDropReason)
        /// The session's agent produced `action` (never `.drop`: drops come back as `.dropped`).
        case session(ICESessionHandle, Context, ICEAgent.Action)
    }

    /// Routes a STUN message by the local ufrag of its USERNAME (RFC 8445 §7.2.2: the first
    /// half is the receiver's ufrag) to that session's agent.
    public mutating func receivedSTUN(_ message: STUNMessage, from source: STUNAddress, now: ICEInstant) -> STUNRoute {
        guard message.type == .bindingRequest else {
            return drop(message.type == .bindingIndication ? .bindingIndication : .notBindingRequest)
        }
        guard let username = message.usernameBytes else { return drop(.missingUsername) }
        let found: Int32? = username.withUnsafeReadableBytes { bytes in
            let colon = bytes.firstIndex(of: UInt8(ascii: ":")) ?? bytes.count
            guard let key = ICEUfragKey(bytes: UnsafeRawBufferPointer(rebasing: bytes[0..<colon])) else { return nil }
            return byUfrag[key]
        }
        guard let index = found.map(Int.init), let context = contexts[index],
              let outcome = agents[index]?.handle(from: source, message: message, now: now)
        else { return drop(.unknownUsername) }
        if case .drop(let reason) = outcome.action { return drop(reason) }
        if let evicted = outcome.evicted, byAddress[evicted] == Int32(index) {
            byAddress.removeValue(forKey: evicted)
        }
        // The latest valid check wins: a transport address routes to the session it last proved.
        if outcome.validatedSource { byAddress[source] = Int32(index) }
        let handle = ICESessionHandle(index: Int32(index), generation: generations[index])
        return .session(handle, context, outcome.action)
    }

    /// The session a non-STUN packet from `source` belongs to; `nil` (counted as
    /// `.unknownSource`) when no valid check came from there.
    public mutating func routeNonSTUN(from source: STUNAddress) -> (handle: ICESessionHandle, context: Context)? {
        guard let index = byAddress[source].map(Int.init), let context = contexts[index] else {
            drops.record(.unknownSource)
            return nil
        }
        return (ICESessionHandle(index: Int32(index), generation: generations[index]), context)
    }

    /// The session bound to `source`, without counting anything.
    public func session(boundTo source: STUNAddress) -> ICESessionHandle? {
        guard let index = byAddress[source].map(Int.init), agents[index] != nil else { return nil }
        return ICESessionHandle(index: Int32(index), generation: generations[index])
    }

    /// Runs every agent's timers; calls `body` for each action other than `.none`.
    public mutating func tick(now: ICEInstant, _ body: (ICESessionHandle, Context, ICEAgent.Action) -> Void) {
        for index in agents.indices {
            guard let action = agents[index]?.tick(now: now), let context = contexts[index] else { continue }
            if case .none = action { continue }
            body(ICESessionHandle(index: Int32(index), generation: generations[index]), context, action)
        }
    }

    /// Counts a drop decided outside the table (e.g. an unclassifiable datagram).
    public mutating func recordDrop(_ reason: ICEDropReason) {
        drops.record(reason)
    }

    private mutating func drop(_ reason: ICEDropReason) -> STUNRoute {
        drops.record(reason)
        return .dropped(reason)
    }
}
