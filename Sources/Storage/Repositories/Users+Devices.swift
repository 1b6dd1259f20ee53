import Foundation
import SQLKit

extension SQLStorage {
    // MARK: Users

    func createUser(handle: String, displayName: String?, now: Date) async throws(StorageError) -> UserRecord {
        guard !handle.isEmpty, handle.utf8.count <= 255 else { throw .invalid("handle must be 1 to 255 bytes") }
        let user = UserRecord(id: UUID().uuidString.lowercased(), handle: handle, displayName: displayName,
                              createdAt: Date(storageMillis: now.storageMillis))
        do {
            try await run("create user") { db in
                try await db.raw("""
                    INSERT INTO users (id, handle, display_name, created_at)
                    VALUES (\(bind: user.id), \(bind: handle), \(bind: displayName), \(bind: now.storageMillis))
                    """).run()
            }
        } catch where error.code == .conflict {
            throw .conflict("handle \(handle) is taken")
        }
        return user
    }

    func user(id: String) async throws(StorageError) -> UserRecord? {
        try await run("get user") { db in
            try await db.raw("SELECT id, handle, display_name, created_at FROM users WHERE id = \(bind: id)")
                .first().map(Self.userRecord)
        }
    }

    func user(handle: String) async throws(StorageError) -> UserRecord? {
        try await run("get user") { db in
            try await db.raw("SELECT id, handle, display_name, created_at FROM users WHERE handle = \(bind: handle)")
                .first().map(Self.userRecord)
        }
    }

    static func userRecord(_ row: any SQLRow) throws -> UserRecord {
        UserRecord(id: try row.string("id"), handle: try row.string("handle"),
                   displayName: try row.optionalString("display_name"), createdAt: try row.date("created_at"))
    }

    // MARK: Devices

    static let deviceColumns: SQLQueryString = "device_id, user_id, public_key, name, status, created_at, revoked_at, certificate"

    func registerDevice(_ device: NewDevice, userID: String, now: Date) async throws(StorageError) -> DeviceRecord {
        try await transaction("register device") { db in
            try await Self.insertDevice(device, userID: userID, now: now, on: db)
        }
    }

    /// Inserts an active device; also used by pairing claims inside their transaction.
    static func insertDevice(_ device: NewDevice, userID: String, now: Date, on db: any SQLDatabase) async throws -> DeviceRecord {
        guard !device.deviceID.isEmpty else { throw StorageError.invalid("device id must not be empty") }
        guard try await db.raw("SELECT id FROM users WHERE id = \(bind: userID)").first() != nil else {
            throw StorageError.notFound("user \(userID)")
        }
        if try await db.raw("SELECT device_id FROM devices WHERE device_id = \(bind: device.deviceID)").first() != nil {
            throw StorageError.conflict("device \(device.deviceID) is already registered")
        }
        if try await db.raw("SELECT device_id FROM devices WHERE public_key = \(bind: device.publicKey.sqlData)").first() != nil {
            throw StorageError.conflict("public key is already registered to another device")
        }
        try await db.raw("""
            INSERT INTO devices (device_id, user_id, public_key, name, status, created_at, certificate)
            VALUES (\(bind: device.deviceID), \(bind: userID), \(bind: device.publicKey.sqlData), \(bind: device.name),
                    'active', \(bind: now.storageMillis), \(bind: device.certificate.sqlData))
            """).run()
        return DeviceRecord(deviceID: device.deviceID, userID: userID, publicKey: device.publicKey, name: device.name,
                            status: .active, createdAt: Date(storageMillis: now.storageMillis), certificate: device.certificate)
    }

    func device(id: String) async throws(StorageError) -> DeviceRecord? {
        try await run("get device") { db in
            try await Self.fetchDevice(id: id, on: db)
        }
    }

    static func fetchDevice(id: String, on db: any SQLDatabase) async throws -> DeviceRecord? {
        try await db.raw("SELECT \(deviceColumns) FROM devices WHERE device_id = \(bind: id)").first().map(deviceRecord)
    }

    func device(publicKey: [UInt8]) async throws(StorageError) -> DeviceRecord? {
        try await run("get device") { db in
            try await db.raw("SELECT \(Self.deviceColumns) FROM devices WHERE public_key = \(bind: publicKey.sqlData)")
                .first().map(Self.deviceRecord)
        }
    }

    func devices(userID: String) async throws(StorageError) -> [DeviceRecord] {
        try await run("list devices") { db in
            try await db.raw("""
                SELECT \(Self.deviceColumns) FROM devices WHERE user_id = \(bind: userID) ORDER BY created_at, device_id
                """).all().map(Self.deviceRecord)
        }
    }

    @discardableResult
    func revokeDevice(id: String, now: Date) async throws(StorageError) -> DeviceRecord {
        try await transaction("revoke device") { db in
            guard let device = try await Self.fetchDevice(id: id, on: db) else { throw StorageError.notFound("device \(id)") }
            if device.status == .revoked { return device }
            try await db.raw("""
                UPDATE devices SET status = 'revoked', revoked_at = \(bind: now.storageMillis) WHERE device_id = \(bind: id)
                """).run()
            try await db.raw("""
                UPDATE sessions SET closed_at = \(bind: now.storageMillis) WHERE device_id = \(bind: id) AND closed_at IS NULL
                """).run()
            var revoked = device
            revoked.status = .revoked
            revoked.revokedAt = Date(storageMillis: now.storageMillis)
            return revoked
        }
    }

    func setDeviceCertificate(id: String, certificate: [UInt8]) async throws(StorageError) {
        try await transaction("set device certificate") { db in
            guard try await Self.fetchDevice(id: id, on: db) != nil else { throw StorageError.notFound("device \(id)") }
            try await db.raw("UPDATE devices SET certificate = \(bind: certificate.sqlData) WHERE device_id = \(bind: id)").run()
        }
    }

    @discardableResult
    func rotateDeviceKey(id: String, newPublicKey: [UInt8], proof: [UInt8], now: Date) async throws(StorageError) -> DeviceKeyEvent {
        try await transaction("rotate device key") { db in
            guard let device = try await Self.fetchDevice(id: id, on: db) else { throw StorageError.notFound("device \(id)") }
            guard device.status == .active else { throw StorageError.invalid("device \(id) is revoked") }
            if try await db.raw("SELECT device_id FROM devices WHERE public_key = \(bind: newPublicKey.sqlData)").first() != nil {
                throw StorageError.conflict("public key is already registered to a device")
            }
            try await db.raw("UPDATE devices SET public_key = \(bind: newPublicKey.sqlData) WHERE device_id = \(bind: id)").run()
            guard let row = try await db.raw("""
                INSERT INTO device_key_events (device_id, old_public_key, new_public_key, proof, rotated_at)
                VALUES (\(bind: id), \(bind: device.publicKey.sqlData), \(bind: newPublicKey.sqlData), \(bind: proof.sqlData),
                        \(bind: now.storageMillis))
                RETURNING id
                """).first() else { throw StorageError.internal("key event insert returned no id") }
            return DeviceKeyEvent(id: try row.int("id"), deviceID: id, oldPublicKey: device.publicKey, newPublicKey: newPublicKey,
                                  proof: proof, at: Date(storageMillis: now.storageMillis))
        }
    }

    func deviceKeyEvents(deviceID: String) async throws(StorageError) -> [DeviceKeyEvent] {
        try await run("list device key events") { db in
            try await db.raw("""
                SELECT id, device_id, old_public_key, new_public_key, proof, rotated_at
                FROM device_key_events WHERE device_id = \(bind: deviceID) ORDER BY id
                """).all().map { row in
                DeviceKeyEvent(id: try row.int("id"), deviceID: try row.string("device_id"),
                               oldPublicKey: try row.bytes("old_public_key"), newPublicKey: try row.bytes("new_public_key"),
                               proof: try row.bytes("proof"), at: try row.date("rotated_at"))
            }
        }
    }

    static func deviceRecord(_ row: any SQLRow) throws -> DeviceRecord {
        DeviceRecord(deviceID: try row.string("device_id"), userID: try row.string("user_id"),
                     publicKey: try row.bytes("public_key"), name: try row.optionalString("name"),
                     status: try row.enumeration("status", as: DeviceStatus.self), createdAt: try row.date("created_at"),
                     revokedAt: try row.optionalDate("revoked_at"), certificate: try row.optionalBytes("certificate"))
    }

    // MARK: Sessions

    @discardableResult
    func openSession(id: String, deviceID: String, now: Date) async throws(StorageError) -> SessionRecord {
        try await transaction("open session") { db in
            guard let device = try await Self.fetchDevice(id: deviceID, on: db) else { throw StorageError.notFound("device \(deviceID)") }
            guard device.status == .active else { throw StorageError.invalid("device \(deviceID) is revoked") }
            try await db.raw("""
                INSERT INTO sessions (id, device_id, created_at, last_seen)
                VALUES (\(bind: id), \(bind: deviceID), \(bind: now.storageMillis), \(bind: now.storageMillis))
                """).run()
            let at = Date(storageMillis: now.storageMillis)
            return SessionRecord(id: id, deviceID: deviceID, createdAt: at, lastSeen: at, closedAt: nil)
        }
    }

    func session(id: String) async throws(StorageError) -> SessionRecord? {
        try await run("get session") { db in
            try await Self.fetchSession(id: id, on: db)
        }
    }

    static func fetchSession(id: String, on db: any SQLDatabase) async throws -> SessionRecord? {
        try await db.raw("SELECT id, device_id, created_at, last_seen, closed_at FROM sessions WHERE id = \(bind: id)")
            .first().map { row in
                SessionRecord(id: try row.string("id"), deviceID: try row.string("device_id"), createdAt: try row.date("created_at"),
                              lastSeen: try row.date("last_seen"), closedAt: try row.optionalDate("closed_at"))
            }
    }

    func touchSession(id: String, now: Date) async throws(StorageError) {
        try await transaction("touch session") { db in
            guard let session = try await Self.fetchSession(id: id, on: db), session.closedAt == nil else {
                throw StorageError.notFound("open session \(id)")
            }
            try await db.raw("UPDATE sessions SET last_seen = \(bind: now.storageMillis) WHERE id = \(bind: id)").run()
        }
    }

    func closeSession(id: String, now: Date) async throws(StorageError) {
        try await transaction("close session") { db in
            guard let session = try await Self.fetchSession(id: id, on: db) else { throw StorageError.notFound("session \(id)") }
            if session.closedAt != nil { return }
            try await db.raw("UPDATE sessions SET closed_at = \(bind: now.storageMillis) WHERE id = \(bind: id)").run()
        }
    }
}
