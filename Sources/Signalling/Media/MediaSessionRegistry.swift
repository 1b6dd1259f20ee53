import Synchronization

/// The live WHIP/WHEP resources of this node: who owns each one, its ETag (RFC 9725 §4.3.1) and
/// the remote ICE ufrag that trickled fragments must carry (RFC 8840 §4.4).
final class MediaSessionRegistry: Sendable {
    struct Record: Hashable, Sendable {
        var session: MediaSessionID
        var identity: String
        var etag: String
        var remoteICEUfrag: String
    }

    private let records = Mutex<[String: Record]>([:])
    let capacity: Int

    init(capacity: Int) {
        self.capacity = capacity
    }

    /// Reserves a slot; `false` when the node is full.
    func insert(_ record: Record) -> Bool {
        records.withLock { table in
            guard table.count < capacity else { return false }
            table[record.session.id] = record
            return true
        }
    }

    func record(kind: MediaSessionID.Kind, room: String, id: String) -> Record? {
        records.withLock { table in
            guard let record = table[id], record.session.kind == kind, record.session.room == room else { return nil }
            return record
        }
    }

    func remove(id: String) -> Record? {
        records.withLock { $0.removeValue(forKey: id) }
    }

    var count: Int { records.withLock { $0.count } }
}
