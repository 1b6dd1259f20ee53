import Synchronization

/// The live WHIP/WHEP resources of this node: who owns each one, its ETag (RFC 9725 §4.3.1) and
/// the remote ICE ufrag that trickled fragments must carry (RFC 8840 §4.4); and how many sessions
/// each identity and each client address holds, so that neither can hold more than its quota
/// (`media.max_sessions_per_identity`, `media.max_sessions_per_ip`).
///
/// A slot is reserved before the backend creates the transport (``reserve(identity:address:)``),
/// so that concurrent POSTs cannot overshoot, and is given back by ``cancel(identity:address:)``
/// when the session is not created, or by ``remove(id:)`` when it ends.
final class MediaSessionRegistry: Sendable {
    struct Record: Hashable, Sendable {
        var session: MediaSessionID
        var identity: String
        var etag: String
        var remoteICEUfrag: String
        /// The client address that created it (its quota), when known.
        var address: String? = nil
    }

    enum Reservation: Equatable {
        case reserved
        case nodeFull
        case identityFull(limit: Int)
        case addressFull(limit: Int)
    }

    private struct State {
        var records: [String: Record] = [:]
        /// Reserved and live sessions per identity and per address (entries at 0 are removed).
        var byIdentity: [String: Int] = [:]
        var byAddress: [String: Int] = [:]
        var held = 0
    }

    private let state = Mutex(State())
    let capacity: Int
    let maxPerIdentity: Int
    let maxPerAddress: Int

    init(capacity: Int, maxPerIdentity: Int = .max, maxPerAddress: Int = .max) {
        self.capacity = capacity
        self.maxPerIdentity = maxPerIdentity
        self.maxPerAddress = maxPerAddress
    }

    /// Takes a slot for a session of `identity` from `address`, or says which quota is full.
    func reserve(identity: String, address: String?) -> Reservation {
        state.withLock { state in
            guard state.held < capacity else { return .nodeFull }
            guard state.byIdentity[identity, default: 0] < maxPerIdentity else { return .identityFull(limit: maxPerIdentity) }
            if let address, state.byAddress[address, default: 0] >= maxPerAddress { return .addressFull(limit: maxPerAddress) }
            state.held += 1
            state.byIdentity[identity, default: 0] += 1
            if let address { state.byAddress[address, default: 0] += 1 }
            return .reserved
        }
    }

    /// Gives back a slot whose session was not created.
    func cancel(identity: String, address: String?) {
        state.withLock { Self.release(&$0, identity: identity, address: address) }
    }

    /// Records a session in the slot reserved for it.
    func insert(_ record: Record) {
        state.withLock { $0.records[record.session.id] = record }
    }

    func record(kind: MediaSessionID.Kind, room: String, id: String) -> Record? {
        state.withLock { state in
            guard let record = state.records[id], record.session.kind == kind, record.session.room == room else { return nil }
            return record
        }
    }

    /// Forgets a session and frees its slot.
    func remove(id: String) -> Record? {
        state.withLock { state in
            guard let record = state.records.removeValue(forKey: id) else { return nil }
            Self.release(&state, identity: record.identity, address: record.address)
            return record
        }
    }

    var count: Int { state.withLock { $0.records.count } }

    /// Slots held (reserved or live) by `identity`, for tests.
    func held(identity: String) -> Int { state.withLock { $0.byIdentity[identity, default: 0] } }

    private static func release(_ state: inout State, identity: String, address: String?) {
        state.held = max(0, state.held - 1)
        if let count = state.byIdentity[identity] { state.byIdentity[identity] = count > 1 ? count - 1 : nil }
        if let address, let count = state.byAddress[address] { state.byAddress[address] = count > 1 ? count - 1 : nil }
    }
}
