import Foundation
import SQLKit

extension SQLStorage {
    // MARK: Server secrets

    func insertServerSecret(_ secret: ServerSecretRecord) async throws(StorageError) {
        guard secret.version >= 1 else { throw .invalid("secret version must be at least 1") }
        guard secret.validAfter <= secret.rotatesAt, secret.rotatesAt <= secret.expiresAt else {
            throw .invalid("secret times must satisfy valid_after <= rotates_at <= expires_at")
        }
        try await transaction("insert server secret") { db in
            if try await db.raw("SELECT version FROM server_secrets WHERE version = \(bind: secret.version)").first() != nil {
                throw StorageError.conflict("server secret version \(secret.version) exists")
            }
            try await db.raw("""
                INSERT INTO server_secrets (version, private_key, public_key, valid_after, rotates_at, expires_at)
                VALUES (\(bind: secret.version), \(bind: secret.privateKey.sqlData), \(bind: secret.publicKey.sqlData),
                        \(bind: secret.validAfter.storageMillis), \(bind: secret.rotatesAt.storageMillis),
                        \(bind: secret.expiresAt.storageMillis))
                """).run()
        }
    }

    func serverSecrets() async throws(StorageError) -> [ServerSecretRecord] {
        try await run("list server secrets") { db in
            try await db.raw("""
                SELECT version, private_key, public_key, valid_after, rotates_at, expires_at FROM server_secrets ORDER BY version
                """).all().map { row in
                ServerSecretRecord(version: try row.int("version"), privateKey: try row.bytes("private_key"),
                                   publicKey: try row.bytes("public_key"), validAfter: try row.date("valid_after"),
                                   rotatesAt: try row.date("rotates_at"), expiresAt: try row.date("expires_at"))
            }
        }
    }

    @discardableResult
    func purgeExpiredServerSecrets(now: Date) async throws(StorageError) -> Int {
        try await run("purge server secrets") { db in
            try await db.raw("DELETE FROM server_secrets WHERE expires_at <= \(bind: now.storageMillis) RETURNING version").all().count
        }
    }

    // MARK: Federation peers

    static let peerColumns: SQLQueryString = "domain, endpoint, public_key, status, created_at, updated_at"

    @discardableResult
    func upsertFederationPeer(domain: String, endpoint: String, publicKey: [UInt8], now: Date) async throws(StorageError) -> FederationPeerRecord {
        guard !domain.isEmpty, !endpoint.isEmpty else { throw .invalid("peer domain and endpoint must not be empty") }
        return try await transaction("upsert federation peer") { db in
            try await db.raw("""
                INSERT INTO federation_peers (domain, endpoint, public_key, status, created_at, updated_at)
                VALUES (\(bind: domain), \(bind: endpoint), \(bind: publicKey.sqlData), 'allowed', \(bind: now.storageMillis),
                        \(bind: now.storageMillis))
                ON CONFLICT (domain) DO UPDATE SET endpoint = excluded.endpoint, public_key = excluded.public_key,
                    status = 'allowed', updated_at = excluded.updated_at
                """).run()
            guard let peer = try await Self.fetchPeer(domain: domain, on: db) else { throw StorageError.internal("peer upsert lost its row") }
            return peer
        }
    }

    func federationPeer(domain: String) async throws(StorageError) -> FederationPeerRecord? {
        try await run("get federation peer") { db in try await Self.fetchPeer(domain: domain, on: db) }
    }

    static func fetchPeer(domain: String, on db: any SQLDatabase) async throws -> FederationPeerRecord? {
        try await db.raw("SELECT \(peerColumns) FROM federation_peers WHERE domain = \(bind: domain)").first().map(peerRecord)
    }

    func federationPeers() async throws(StorageError) -> [FederationPeerRecord] {
        try await run("list federation peers") { db in
            try await db.raw("SELECT \(Self.peerColumns) FROM federation_peers ORDER BY domain").all().map(Self.peerRecord)
        }
    }

    @discardableResult
    func removeFederationPeer(domain: String) async throws(StorageError) -> Bool {
        try await run("remove federation peer") { db in
            try await db.raw("DELETE FROM federation_peers WHERE domain = \(bind: domain) RETURNING domain").all().count > 0
        }
    }

    @discardableResult
    func blockFederationPeer(domain: String, now: Date) async throws(StorageError) -> FederationPeerRecord {
        guard !domain.isEmpty else { throw .invalid("peer domain must not be empty") }
        return try await transaction("block federation peer") { db in
            try await db.raw("""
                INSERT INTO federation_peers (domain, status, created_at, updated_at)
                VALUES (\(bind: domain), 'blocked', \(bind: now.storageMillis), \(bind: now.storageMillis))
                ON CONFLICT (domain) DO UPDATE SET status = 'blocked', updated_at = excluded.updated_at
                """).run()
            guard let peer = try await Self.fetchPeer(domain: domain, on: db) else { throw StorageError.internal("peer block lost its row") }
            return peer
        }
    }

    static func peerRecord(_ row: any SQLRow) throws -> FederationPeerRecord {
        FederationPeerRecord(domain: try row.string("domain"), endpoint: try row.optionalString("endpoint"),
                             publicKey: try row.optionalBytes("public_key"),
                             status: try row.enumeration("status", as: FederationPeerStatus.self),
                             createdAt: try row.date("created_at"), updatedAt: try row.date("updated_at"))
    }

    // MARK: Federation outbox

    static let outboxColumns: SQLQueryString =
        "event_id, destination, payload, attempts, created_at, next_attempt_at, delivered_at, last_error"

    @discardableResult
    func enqueueFederationEvent(eventID: String, destination: String, payload: [UInt8], now: Date) async throws(StorageError) -> Bool {
        guard !eventID.isEmpty, !destination.isEmpty else { throw .invalid("event id and destination must not be empty") }
        return try await run("enqueue federation event") { db in
            try await db.raw("""
                INSERT INTO federation_outbox (event_id, destination, payload, attempts, created_at, next_attempt_at)
                VALUES (\(bind: eventID), \(bind: destination), \(bind: payload.sqlData), 0, \(bind: now.storageMillis),
                        \(bind: now.storageMillis))
                ON CONFLICT (event_id) DO NOTHING RETURNING event_id
                """).all().count > 0
        }
    }

    func dueFederationEvents(now: Date, limit: Int) async throws(StorageError) -> [FederationOutboxEvent] {
        guard limit > 0 else { return [] }
        return try await run("list due federation events") { db in
            try await db.raw("""
                SELECT \(Self.outboxColumns) FROM federation_outbox
                WHERE delivered_at IS NULL AND next_attempt_at <= \(bind: now.storageMillis)
                ORDER BY next_attempt_at, event_id LIMIT \(bind: Int64(limit))
                """).all().map(Self.outboxRecord)
        }
    }

    func federationEvent(id: String) async throws(StorageError) -> FederationOutboxEvent? {
        try await run("get federation event") { db in
            try await db.raw("SELECT \(Self.outboxColumns) FROM federation_outbox WHERE event_id = \(bind: id)").first()
                .map(Self.outboxRecord)
        }
    }

    func markFederationEventDelivered(eventID: String, at: Date) async throws(StorageError) {
        let updated = try await run("mark federation event delivered") { db in
            try await db.raw("""
                UPDATE federation_outbox SET delivered_at = \(bind: at.storageMillis), last_error = NULL
                WHERE event_id = \(bind: eventID) RETURNING event_id
                """).all().count
        }
        guard updated > 0 else { throw .notFound("federation event \(eventID)") }
    }

    func markFederationEventFailed(eventID: String, nextAttemptAt: Date, error: String?) async throws(StorageError) {
        let updated = try await run("mark federation event failed") { db in
            try await db.raw("""
                UPDATE federation_outbox SET attempts = attempts + 1, next_attempt_at = \(bind: nextAttemptAt.storageMillis),
                    last_error = \(bind: error)
                WHERE event_id = \(bind: eventID) AND delivered_at IS NULL RETURNING event_id
                """).all().count
        }
        guard updated > 0 else { throw .notFound("undelivered federation event \(eventID)") }
    }

    static func outboxRecord(_ row: any SQLRow) throws -> FederationOutboxEvent {
        FederationOutboxEvent(eventID: try row.string("event_id"), destination: try row.string("destination"),
                              payload: try row.bytes("payload"), attempts: Int(try row.int("attempts")),
                              createdAt: try row.date("created_at"), nextAttemptAt: try row.date("next_attempt_at"),
                              deliveredAt: try row.optionalDate("delivered_at"), lastError: try row.optionalString("last_error"))
    }
}
