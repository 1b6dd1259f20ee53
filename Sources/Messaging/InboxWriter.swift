import Foundation
import Logging
import Storage
import Synchronization

/// Group commit for inbox appends: every append that arrives while a transaction is in flight goes
/// into the next transaction, so N concurrent senders cost about one commit (one fsync on SQLite)
/// instead of N. Each caller still returns only after its entries are committed, which is what the
/// sender's Ack promises (SPEC §4.4, §10).
final class InboxWriter: Sendable {
    typealias Outcome = Result<[Int64?], StorageError>

    private struct Request: Sendable {
        var entries: [InboxAppend]
        var continuation: CheckedContinuation<Outcome, Never>
    }

    private struct State {
        var queue: [Request] = []
        var writers = 0
    }

    let storage: any Storage
    let maxEntries: Int
    /// Transactions in flight at once: 1 for SQLite (one writer at a time anyway), a few for
    /// PostgreSQL, whose concurrent commits share WAL flushes and overlap round trips.
    let maxWriters: Int
    private let state = Mutex(State())

    init(storage: any Storage, maxEntries: Int = 512, maxWriters: Int? = nil) {
        self.storage = storage
        self.maxEntries = max(1, maxEntries)
        self.maxWriters = max(1, maxWriters ?? (storage.backend == .sqlite ? 1 : 4))
    }

    /// Appends `entries` and returns each one's inbox sequence once committed; nil for an entry whose
    /// device no longer exists (skipped, as a deleted device has no inbox).
    func append(_ entries: [InboxAppend]) async throws(StorageError) -> [Int64?] {
        guard !entries.isEmpty else { return [] }
        let outcome = await withCheckedContinuation { (continuation: CheckedContinuation<Outcome, Never>) in
            let start = state.withLock { state -> Bool in
                state.queue.append(Request(entries: entries, continuation: continuation))
                guard state.writers < maxWriters else { return false }
                state.writers += 1
                return true
            }
            if start { Task { await self.drain() } }
        }
        return try outcome.get()
    }

    private func drain() async {
        while true {
            let batch = state.withLock { state -> [Request] in
                var taken: [Request] = []
                var count = 0
                while let next = state.queue.first, taken.isEmpty || count + next.entries.count <= maxEntries {
                    taken.append(state.queue.removeFirst())
                    count += next.entries.count
                }
                if taken.isEmpty { state.writers -= 1 }
                return taken
            }
            guard !batch.isEmpty else { return }
            let now = Date()
            do {
                let entries = batch.flatMap(\.entries)
                let sequences = try await storage.enqueue(batch: entries, now: now)
                guard sequences.count == entries.count else {
                    throw StorageError(code: .internal, message: "batch enqueue returned \(sequences.count) sequences for \(entries.count) entries")
                }
                var offset = 0
                for request in batch {
                    let mine = sequences[offset..<offset + request.entries.count].map { Optional($0) }
                    offset += request.entries.count
                    request.continuation.resume(returning: .success(mine))
                }
            } catch {
                // One bad entry rolled the whole batch back: retry each request alone, then each
                // entry alone, so that only the entries that really fail report it.
                for request in batch {
                    request.continuation.resume(returning: await appendAlone(request.entries, now: now))
                }
            }
        }
    }

    private func appendAlone(_ entries: [InboxAppend], now: Date) async -> Outcome {
        do {
            return .success(try await storage.enqueue(batch: entries, now: now).map { Optional($0) })
        } catch {
            guard entries.count > 1 || error.code == .notFound else { return .failure(error) }
        }
        var sequences: [Int64?] = []
        for entry in entries {
            do {
                sequences.append(try await storage.enqueue(batch: [entry], now: now).first)
            } catch where error.code == .notFound {
                sequences.append(nil)
            } catch {
                return .failure(error)
            }
        }
        return .success(sequences)
    }
}
