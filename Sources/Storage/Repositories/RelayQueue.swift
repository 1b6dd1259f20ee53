import Foundation
import SQLKit

extension SQLStorage {
    func enqueue(deviceID: String, envelopeID: String, channelID: UInt32, frameType: UInt8, payload: [UInt8],
                 now: Date, expiresAt: Date) async throws(StorageError) -> Int64 {
        let entry = InboxAppend(deviceID: deviceID, envelopeID: envelopeID, channelID: channelID, frameType: frameType,
                                payload: payload, expiresAt: expiresAt)
        return try await enqueue(batch: [entry], now: now)[0]
    }

    func enqueue(batch: [InboxAppend], now: Date) async throws(StorageError) -> [Int64] {
        try await appendBatch(batch, quota: .unlimited, now: now, strict: true).map { $0.sequence ?? 0 }
    }

    func append(batch: [InboxAppend], quota: InboxQuota, now: Date) async throws(StorageError) -> [InboxAppendResult] {
        try await appendBatch(batch, quota: quota, now: now, strict: false)
    }

    /// `strict`: an unknown device rolls the whole batch back with `.notFound` (the `enqueue` API);
    /// otherwise it is reported per entry.
    private func appendBatch(_ batch: [InboxAppend], quota: InboxQuota, now: Date, strict: Bool) async throws(StorageError)
        -> [InboxAppendResult]
    {
        guard !batch.isEmpty else { return [] }
        guard batch.allSatisfy({ !$0.envelopeID.isEmpty }) else { throw .invalid("envelope id must not be empty") }
        return try await transaction("enqueue batch") { db -> [InboxAppendResult] in
            // Devices in a fixed order (stable, so one device's entries keep theirs): concurrent
            // batches then take the counter row locks in the same order and cannot deadlock.
            let order = batch.indices.sorted { (batch[$0].deviceID, $0) < (batch[$1].deviceID, $1) }
            var results = [InboxAppendResult](repeating: .unknownDevice, count: batch.count)
            let nowMillis = now.storageMillis
            for index in order {
                let entry = batch[index]
                // The counter row first: the upsert takes its write lock (PostgreSQL row lock;
                // SQLite database lock), which serialises appends per device, so the duplicate and
                // quota checks below see every committed entry of that device. Selecting from
                // `devices` makes an unknown device return no row instead of failing the batch.
                guard let counter = try await db.raw("""
                    INSERT INTO device_inbox_counters (device_id, next_seq)
                    SELECT device_id, 1 FROM devices WHERE device_id = \(bind: entry.deviceID)
                    ON CONFLICT (device_id) DO UPDATE SET next_seq = device_inbox_counters.next_seq
                    RETURNING next_seq, pending_entries, pending_bytes
                    """).first() else {
                    if strict { throw StorageError(code: .notFound, message: "unknown device \(entry.deviceID)") }
                    results[index] = .unknownDevice
                    continue
                }
                let sequence = try counter.int("next_seq")
                if let existing = try await db.raw("""
                    SELECT seq, acked, dedup_until FROM relay_queue
                    WHERE device_id = \(bind: entry.deviceID) AND envelope_id = \(bind: entry.envelopeID)
                    """).first() {
                    let acked = try existing.int("acked") != 0
                    let until = try existing.optionalInt("dedup_until") ?? 0
                    if !acked || until > nowMillis {
                        results[index] = .duplicate(try existing.int("seq"))
                        continue
                    }
                    // An acknowledged entry past its window: forgotten, the envelope is new again.
                    try await db.raw("""
                        DELETE FROM relay_queue WHERE device_id = \(bind: entry.deviceID) AND seq = \(bind: try existing.int("seq"))
                        """).run()
                }
                let bytes = Int64(entry.payload.count)
                guard quota.admits(entries: try counter.int("pending_entries"), bytes: try counter.int("pending_bytes"), adding: bytes) else {
                    results[index] = .inboxFull
                    continue
                }
                try await db.raw("""
                    UPDATE device_inbox_counters
                    SET next_seq = next_seq + 1, pending_entries = pending_entries + 1, pending_bytes = pending_bytes + \(bind: bytes)
                    WHERE device_id = \(bind: entry.deviceID)
                    """).run()
                try await db.raw("""
                    INSERT INTO relay_queue (device_id, seq, envelope_id, channel_id, frame_type, payload, created_at, expires_at,
                                             sender_device, dedup_until)
                    VALUES (\(bind: entry.deviceID), \(bind: sequence), \(bind: entry.envelopeID), \(bind: Int64(entry.channelID)),
                            \(bind: Int64(entry.frameType)), \(bind: entry.payload.sqlData), \(bind: nowMillis),
                            \(bind: entry.expiresAt.storageMillis), \(bind: entry.senderDeviceID), \(bind: entry.dedupUntil?.storageMillis))
                    """).run()
                results[index] = .stored(sequence)
            }
            return results
        }
    }

    func pending(deviceID: String, after afterSequence: Int64, limit: Int) async throws(StorageError) -> [RelayEntry] {
        guard limit > 0 else { return [] }
        return try await run("read inbox") { db in
            try await db.raw("""
                SELECT device_id, seq, envelope_id, channel_id, frame_type, payload, created_at, expires_at, sender_device
                FROM relay_queue WHERE device_id = \(bind: deviceID) AND seq > \(bind: afterSequence) AND acked = 0
                ORDER BY seq LIMIT \(bind: Int64(limit))
                """).all().map { row in
                let channel = try row.int("channel_id")
                let type = try row.int("frame_type")
                guard let channelID = UInt32(exactly: channel), let frameType = UInt8(exactly: type) else {
                    throw StorageError.internal("relay entry holds out-of-range channel \(channel) or type \(type)")
                }
                return RelayEntry(deviceID: try row.string("device_id"), sequence: try row.int("seq"),
                                  envelopeID: try row.string("envelope_id"), channelID: channelID, frameType: frameType,
                                  payload: try row.bytes("payload"), createdAt: try row.date("created_at"),
                                  expiresAt: try row.date("expires_at"), senderDeviceID: try row.optionalString("sender_device"))
            }
        }
    }

    @discardableResult
    func ack(deviceID: String, upTo sequence: Int64) async throws(StorageError) -> Int {
        try await transaction("ack inbox") { db -> Int in
            guard let usage = try await db.raw("""
                SELECT COUNT(*) AS entries, COALESCE(SUM(length(payload)), 0) AS bytes FROM relay_queue
                WHERE device_id = \(bind: deviceID) AND seq <= \(bind: sequence) AND acked = 0
                """).first() else { return 0 }
            let entries = try usage.int("entries")
            guard entries > 0 else { return 0 }
            try await db.raw("""
                DELETE FROM relay_queue WHERE device_id = \(bind: deviceID) AND seq <= \(bind: sequence) AND acked = 0 AND dedup_until IS NULL
                """).run()
            try await db.raw("""
                UPDATE relay_queue SET acked = 1, payload = \(bind: [UInt8]().sqlData)
                WHERE device_id = \(bind: deviceID) AND seq <= \(bind: sequence) AND acked = 0
                """).run()
            try await db.raw("""
                UPDATE device_inbox_counters
                SET pending_entries = pending_entries - \(bind: entries), pending_bytes = pending_bytes - \(bind: try usage.int("bytes"))
                WHERE device_id = \(bind: deviceID)
                """).run()
            return Int(entries)
        }
    }

    func inboxUsage(deviceID: String) async throws(StorageError) -> (entries: Int64, bytes: Int64) {
        try await run("inbox usage") { db -> (entries: Int64, bytes: Int64) in
            guard let row = try await db.raw("""
                SELECT pending_entries, pending_bytes FROM device_inbox_counters WHERE device_id = \(bind: deviceID)
                """).first() else { return (0, 0) }
            return (try row.int("pending_entries"), try row.int("pending_bytes"))
        }
    }

    @discardableResult
    func purgeExpired(now: Date) async throws(StorageError) -> Int {
        try await transaction("purge inbox") { db -> Int in
            let nowMillis = now.storageMillis
            var purged: Int64 = 0
            for row in try await db.raw("""
                SELECT device_id, COUNT(*) AS entries, COALESCE(SUM(length(payload)), 0) AS bytes FROM relay_queue
                WHERE expires_at <= \(bind: nowMillis) AND acked = 0 GROUP BY device_id
                """).all() {
                let entries = try row.int("entries")
                purged += entries
                try await db.raw("""
                    UPDATE device_inbox_counters
                    SET pending_entries = pending_entries - \(bind: entries), pending_bytes = pending_bytes - \(bind: try row.int("bytes"))
                    WHERE device_id = \(bind: try row.string("device_id"))
                    """).run()
            }
            try await db.raw("DELETE FROM relay_queue WHERE expires_at <= \(bind: nowMillis)").run()
            try await db.raw("DELETE FROM relay_queue WHERE acked = 1 AND dedup_until <= \(bind: nowMillis)").run()
            return Int(purged)
        }
    }

    func reachableDevices(from userID: String, among deviceIDs: [String]) async throws(StorageError) -> Set<String> {
        let unique = Array(Set(deviceIDs))
        guard !unique.isEmpty else { return [] }
        let binds: [any Encodable & Sendable] = unique
        return try await run("reachable devices") { db -> Set<String> in
            let rows = try await db.raw("""
                SELECT d.device_id FROM devices d
                WHERE d.device_id IN (\(binds: binds)) AND d.status = 'active'
                  AND (d.user_id = \(bind: userID)
                       OR EXISTS (SELECT 1 FROM friends f WHERE f.user_a = \(bind: userID) AND f.user_b = d.user_id)
                       OR EXISTS (SELECT 1 FROM friends f WHERE f.user_b = \(bind: userID) AND f.user_a = d.user_id))
                """).all()
            return Set(try rows.map { try $0.string("device_id") })
        }
    }
}

extension Storage {
    /// The first `limit` unacknowledged entries of the device's inbox, in sequence order.
    public func pending(deviceID: String, limit: Int) async throws(StorageError) -> [RelayEntry] {
        try await pending(deviceID: deviceID, after: 0, limit: limit)
    }
}
