import Foundation
import SQLKit

extension SQLStorage {
    // MARK: Pairing codes

    @discardableResult
    func createPairingCode(_ code: String, userID: String, now: Date, expiresAt: Date) async throws(StorageError) -> PairingCodeRecord {
        guard !code.isEmpty else { throw .invalid("pairing code must not be empty") }
        guard expiresAt > now else { throw .invalid("pairing code must expire after it is created") }
        return try await transaction("create pairing code") { db in
            guard try await db.raw("SELECT id FROM users WHERE id = \(bind: userID)").first() != nil else {
                throw StorageError.notFound("user \(userID)")
            }
            if try await Self.fetchPairingCode(code, on: db) != nil { throw StorageError.conflict("pairing code exists") }
            try await db.raw("""
                INSERT INTO pairing_codes (code, user_id, created_at, expires_at, attempts)
                VALUES (\(bind: code), \(bind: userID), \(bind: now.storageMillis), \(bind: expiresAt.storageMillis), 0)
                """).run()
            return PairingCodeRecord(code: code, userID: userID, createdAt: Date(storageMillis: now.storageMillis),
                                     expiresAt: Date(storageMillis: expiresAt.storageMillis), attempts: 0, claimedAt: nil, deviceID: nil)
        }
    }

    func pairingCode(_ code: String) async throws(StorageError) -> PairingCodeRecord? {
        try await run("get pairing code") { db in try await Self.fetchPairingCode(code, on: db) }
    }

    static func fetchPairingCode(_ code: String, on db: any SQLDatabase) async throws -> PairingCodeRecord? {
        try await db.raw("""
            SELECT code, user_id, created_at, expires_at, attempts, claimed_at, device_id FROM pairing_codes WHERE code = \(bind: code)
            """).first().map { row in
            PairingCodeRecord(code: try row.string("code"), userID: try row.string("user_id"), createdAt: try row.date("created_at"),
                              expiresAt: try row.date("expires_at"), attempts: Int(try row.int("attempts")),
                              claimedAt: try row.optionalDate("claimed_at"), deviceID: try row.optionalString("device_id"))
        }
    }

    func claimPairingCode(_ code: String, device: NewDevice, now: Date, maxAttempts: Int) async throws(StorageError) -> PairingClaimResult {
        // Step 1 commits on its own so failed claims still count against the code.
        let counted = try await transaction("claim pairing code") { db -> PairingCodeRecord? in
            try await db.raw("UPDATE pairing_codes SET attempts = attempts + 1 WHERE code = \(bind: code)").run()
            return try await Self.fetchPairingCode(code, on: db)
        }
        guard let counted else { return .notFound }
        if counted.claimedAt != nil { return .alreadyClaimed }
        if counted.attempts > maxAttempts { return .tooManyAttempts }
        if counted.expiresAt <= now { return .expired }
        // Step 2: claim and register together; the `claimed_at IS NULL` re-check under the write
        // lock makes two racing claims register at most one device.
        return try await transaction("claim pairing code") { db -> PairingClaimResult in
            guard let current = try await Self.fetchPairingCode(code, on: db) else { return .notFound }
            guard current.claimedAt == nil else { return .alreadyClaimed }
            let won = try await db.raw("""
                UPDATE pairing_codes SET claimed_at = \(bind: now.storageMillis)
                WHERE code = \(bind: code) AND claimed_at IS NULL RETURNING code
                """).all()
            guard !won.isEmpty else { throw RollbackWithValue(value: PairingClaimResult.alreadyClaimed) }
            let registered = try await Self.insertDevice(device, userID: current.userID, now: now, on: db)
            try await db.raw("UPDATE pairing_codes SET device_id = \(bind: device.deviceID) WHERE code = \(bind: code)").run()
            guard let claimed = try await Self.fetchPairingCode(code, on: db) else {
                throw StorageError.internal("pairing code \(code) vanished during its claim")
            }
            return .claimed(claimed, registered)
        }
    }

    @discardableResult
    func purgeExpiredPairingCodes(now: Date) async throws(StorageError) -> Int {
        try await run("purge pairing codes") { db in
            try await db.raw("DELETE FROM pairing_codes WHERE expires_at <= \(bind: now.storageMillis) RETURNING code").all().count
        }
    }

    // MARK: Friends

    /// The stored order of a friend pair: byte-wise, matching the schema's CHECK on both drivers.
    static func orderedPair(_ a: String, _ b: String) -> (String, String) {
        a.utf8.lexicographicallyPrecedes(b.utf8) ? (a, b) : (b, a)
    }

    static let requestColumns: SQLQueryString = "id, from_user, to_user, message, status, created_at, responded_at"

    func createFriendRequest(from: String, to: String, message: String?, now: Date) async throws(StorageError) -> FriendRequestRecord {
        guard from != to else { throw .invalid("a user cannot befriend themselves") }
        return try await transaction("create friend request") { db in
            for id in [from, to] where try await db.raw("SELECT id FROM users WHERE id = \(bind: id)").first() == nil {
                throw StorageError.notFound("user \(id)")
            }
            if try await Self.areFriends(from, to, on: db) { throw StorageError.conflict("already friends") }
            if try await db.raw("""
                SELECT id FROM friend_requests WHERE from_user = \(bind: from) AND to_user = \(bind: to) AND status = 'pending'
                """).first() != nil {
                throw StorageError.conflict("a friend request is already pending")
            }
            let record = FriendRequestRecord(id: UUID().uuidString.lowercased(), fromUserID: from, toUserID: to, message: message,
                                             status: .pending, createdAt: Date(storageMillis: now.storageMillis), respondedAt: nil)
            try await db.raw("""
                INSERT INTO friend_requests (id, from_user, to_user, message, status, created_at)
                VALUES (\(bind: record.id), \(bind: from), \(bind: to), \(bind: message), 'pending', \(bind: now.storageMillis))
                """).run()
            return record
        }
    }

    func friendRequest(id: String) async throws(StorageError) -> FriendRequestRecord? {
        try await run("get friend request") { db in try await Self.fetchFriendRequest(id: id, on: db) }
    }

    static func fetchFriendRequest(id: String, on db: any SQLDatabase) async throws -> FriendRequestRecord? {
        try await db.raw("SELECT \(requestColumns) FROM friend_requests WHERE id = \(bind: id)").first().map(friendRequestRecord)
    }

    func incomingFriendRequests(userID: String) async throws(StorageError) -> [FriendRequestRecord] {
        try await run("list friend requests") { db in
            try await db.raw("""
                SELECT \(Self.requestColumns) FROM friend_requests
                WHERE to_user = \(bind: userID) AND status = 'pending' ORDER BY created_at, id
                """).all().map(Self.friendRequestRecord)
        }
    }

    func outgoingFriendRequests(userID: String) async throws(StorageError) -> [FriendRequestRecord] {
        try await run("list friend requests") { db in
            try await db.raw("""
                SELECT \(Self.requestColumns) FROM friend_requests
                WHERE from_user = \(bind: userID) AND status = 'pending' ORDER BY created_at, id
                """).all().map(Self.friendRequestRecord)
        }
    }

    @discardableResult
    func acceptFriendRequest(id: String, recipientID: String, now: Date) async throws(StorageError) -> FriendRequestRecord {
        try await answerFriendRequest(id: id, recipientID: recipientID, status: .accepted, now: now)
    }

    @discardableResult
    func rejectFriendRequest(id: String, recipientID: String, now: Date) async throws(StorageError) -> FriendRequestRecord {
        try await answerFriendRequest(id: id, recipientID: recipientID, status: .rejected, now: now)
    }

    private func answerFriendRequest(id: String, recipientID: String, status: FriendRequestStatus, now: Date) async throws(StorageError) -> FriendRequestRecord {
        try await transaction("answer friend request") { db in
            guard var request = try await Self.fetchFriendRequest(id: id, on: db), request.toUserID == recipientID else {
                throw StorageError.notFound("friend request \(id)")
            }
            guard request.status == .pending else { throw StorageError.conflict("friend request \(id) is already \(request.status.rawValue)") }
            try await db.raw("""
                UPDATE friend_requests SET status = \(bind: status.rawValue), responded_at = \(bind: now.storageMillis)
                WHERE id = \(bind: id)
                """).run()
            let alreadyFriends = try await Self.areFriends(request.fromUserID, request.toUserID, on: db)
            if status == .accepted, !alreadyFriends {
                let (a, b) = Self.orderedPair(request.fromUserID, request.toUserID)
                try await db.raw("""
                    INSERT INTO friends (user_a, user_b, created_at) VALUES (\(bind: a), \(bind: b), \(bind: now.storageMillis))
                    """).run()
                // A crossing request in the other direction is settled by this acceptance.
                try await db.raw("""
                    UPDATE friend_requests SET status = 'accepted', responded_at = \(bind: now.storageMillis)
                    WHERE from_user = \(bind: request.toUserID) AND to_user = \(bind: request.fromUserID) AND status = 'pending'
                    """).run()
            }
            request.status = status
            request.respondedAt = Date(storageMillis: now.storageMillis)
            return request
        }
    }

    func friends(of userID: String) async throws(StorageError) -> [UserRecord] {
        try await run("list friends") { db in
            try await db.raw("""
                SELECT u.id, u.handle, u.display_name, u.created_at FROM friends f
                JOIN users u ON u.id = CASE WHEN f.user_a = \(bind: userID) THEN f.user_b ELSE f.user_a END
                WHERE f.user_a = \(bind: userID) OR f.user_b = \(bind: userID)
                ORDER BY u.handle
                """).all().map(Self.userRecord)
        }
    }

    func areFriends(_ a: String, _ b: String) async throws(StorageError) -> Bool {
        try await run("check friends") { db in try await Self.areFriends(a, b, on: db) }
    }

    static func areFriends(_ a: String, _ b: String, on db: any SQLDatabase) async throws -> Bool {
        let (first, second) = orderedPair(a, b)
        return try await db.raw("SELECT user_a FROM friends WHERE user_a = \(bind: first) AND user_b = \(bind: second)").first() != nil
    }

    @discardableResult
    func removeFriend(_ a: String, _ b: String) async throws(StorageError) -> Bool {
        let (first, second) = Self.orderedPair(a, b)
        return try await run("remove friend") { db in
            try await db.raw("DELETE FROM friends WHERE user_a = \(bind: first) AND user_b = \(bind: second) RETURNING user_a")
                .all().count > 0
        }
    }

    static func friendRequestRecord(_ row: any SQLRow) throws -> FriendRequestRecord {
        FriendRequestRecord(id: try row.string("id"), fromUserID: try row.string("from_user"), toUserID: try row.string("to_user"),
                            message: try row.optionalString("message"),
                            status: try row.enumeration("status", as: FriendRequestStatus.self),
                            createdAt: try row.date("created_at"), respondedAt: try row.optionalDate("responded_at"))
    }
}
