import Foundation
import SQLKit

extension SQLStorage {
    func enqueue(deviceID: String, envelopeID: String, channelID: UInt32, frameType: UInt8, payload: [UInt8],
                 now: Date, expiresAt: Date) async throws(StorageError) -> Int64 {
        guard !envelopeID.isEmpty else { throw .invalid("envelope id must not be empty") }
        return try await transaction("enqueue") { db -> Int64 in
            // Taking the next sequence first also takes the counter row's write lock (PostgreSQL
            // row lock; SQLite database lock), which serialises enqueues per device, so the
            // duplicate check below sees every committed envelope of that device.
            guard let counter = try await db.raw("""
                INSERT INTO device_inbox_counters (device_id, next_seq) VALUES (\(bind: deviceID), 2)
                ON CONFLICT (device_id) DO UPDATE SET next_seq = device_inbox_counters.next_seq + 1
                RETURNING next_seq
                """).first() else { throw StorageError.internal("inbox counter upsert returned no row") }
            let sequence = try counter.int("next_seq") - 1
            if let existing = try await db.raw("""
                SELECT seq FROM relay_queue WHERE device_id = \(bind: deviceID) AND envelope_id = \(bind: envelopeID)
                """).first() {
                // Idempotent repeat: undo the counter bump, answer with the original sequence.
                throw RollbackWithValue(value: try existing.int("seq"))
            }
            try await db.raw("""
                INSERT INTO relay_queue (device_id, seq, envelope_id, channel_id, frame_type, payload, created_at, expires_at)
                VALUES (\(bind: deviceID), \(bind: sequence), \(bind: envelopeID), \(bind: Int64(channelID)), \(bind: Int64(frameType)),
                        \(bind: payload.sqlData), \(bind: now.storageMillis), \(bind: expiresAt.storageMillis))
                """).run()
            return sequence
        }
    }

    func enqueue(batch: [InboxAppend], now: Date) async throws(StorageError) -> [Int64] {
        guard !batch.isEmpty else { return [] }
        guard batch.allSatisfy({ !$0.envelopeID.isEmpty }) else { throw .invalid("envelope id must not be empty") }
        return try await transaction("enqueue batch") { db -> [Int64] in
            // Devices in a fixed order (stable, so one device's entries keep theirs): concurrent
            // batches then take the counter row locks in the same order and cannot deadlock.
            let order = batch.indices.sorted { (batch[$0].deviceID, $0) < (batch[$1].deviceID, $1) }
            var sequences = [Int64](repeating: 0, count: batch.count)
            for index in order {
                let entry = batch[index]
                // Counter first, as in the single enqueue: it takes the device's counter row lock
                // before the duplicate check.
                guard let counter = try await db.raw("""
                    INSERT INTO device_inbox_counters (device_id, next_seq) VALUES (\(bind: entry.deviceID), 2)
                    ON CONFLICT (device_id) DO UPDATE SET next_seq = device_inbox_counters.next_seq + 1
                    RETURNING next_seq
                    """).first() else { throw StorageError.internal("inbox counter upsert returned no row") }
                let sequence = try counter.int("next_seq") - 1
                if let existing = try await db.raw("""
                    SELECT seq FROM relay_queue WHERE device_id = \(bind: entry.deviceID) AND envelope_id = \(bind: entry.envelopeID)
                    """).first() {
                    try await db.raw("""
                        UPDATE device_inbox_counters SET next_seq = next_seq - 1 WHERE device_id = \(bind: entry.deviceID)
                        """).run()
                    sequences[index] = try existing.int("seq")
                    continue
                }
                try await db.raw("""
                    INSERT INTO relay_queue (device_id, seq, envelope_id, channel_id, frame_type, payload, created_at, expires_at)
                    VALUES (\(bind: entry.deviceID), \(bind: sequence), \(bind: entry.envelopeID), \(bind: Int64(entry.channelID)),
                            \(bind: Int64(entry.frameType)), \(bind: entry.payload.sqlData), \(bind: now.storageMillis),
                            \(bind: entry.expiresAt.storageMillis))
                    """).run()
                sequences[index] = sequence
            }
            return sequences
        }
    }

    func pending(deviceID: String, after afterSequence: Int64, limit: Int) async throws(StorageError) -> [RelayEntry] {
        guard limit > 0 else { return [] }
        return try await run("read inbox") { db in
            try await db.raw("""
                SELECT device_id, seq, envelope_id, channel_id, frame_type, payload, created_at, expires_at
                FROM relay_queue WHERE device_id = \(bind: deviceID) AND seq > \(bind: afterSequence)
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
                                  expiresAt: try row.date("expires_at"))
            }
        }
    }

    @discardableResult
    func ack(deviceID: String, upTo sequence: Int64) async throws(StorageError) -> Int {
        try await run("ack inbox") { db in
            try await db.raw("""
                DELETE FROM relay_queue WHERE device_id = \(bind: deviceID) AND seq <= \(bind: sequence) RETURNING seq
                """).all().count
        }
    }

    @discardableResult
    func purgeExpired(now: Date) async throws(StorageError) -> Int {
        try await run("purge inbox") { db in
            try await db.raw("DELETE FROM relay_queue WHERE expires_at <= \(bind: now.storageMillis) RETURNING seq").all().count
        }
    }
}

extension Storage {
    /// The first `limit` unacknowledged entries of the device's inbox, in sequence order.
    public func pending(deviceID: String, limit: Int) async throws(StorageError) -> [RelayEntry] {
        try await pending(deviceID: deviceID, after: 0, limit: limit)
    }
}
