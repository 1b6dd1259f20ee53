import CCP
import Foundation
import Logging
import Metrics
import NIOCore
import Storage
import Synchronization

/// Pushes one session's inbox to it, in sequence order, each entry once per session (SPEC §4.4
/// durable inbox). Storage is the only source: `wake()` after an append makes the pump read the
/// entries after the last one it delivered, so live delivery and delivery after a reconnect are the
/// same path, and concurrent senders cannot reorder a device's frames. Entries stay in storage until
/// the device Acks them; a new session starts again from the first unacknowledged entry.
final class InboxPump: Sendable {
    private struct State {
        var cursor: Int64 = 0
        var running = false
        var dirty = false
        var stopped = false
    }

    let session: any MessagingSession
    let storage: any Storage
    let batch: Int
    let logger: Logger
    private let state = Mutex(State())
    private let delivered = Counter(label: "commucat_messaging_delivered_total")

    init(session: any MessagingSession, storage: any Storage, batch: Int, logger: Logger) {
        self.session = session
        self.storage = storage
        self.batch = max(1, batch)
        self.logger = logger
    }

    /// New entries may be waiting: deliver them (now, or right after the read in progress).
    func wake() {
        let start = state.withLock { state -> Bool in
            guard !state.stopped else { return false }
            if state.running {
                state.dirty = true
                return false
            }
            state.running = true
            state.dirty = false
            return true
        }
        if start { Task { await self.drain() } }
    }

    func stop() {
        state.withLock { $0.stopped = true }
    }

    /// The inbox sequence of the last entry pushed to this session.
    var deliveredSequence: Int64 { state.withLock { $0.cursor } }

    private func drain() async {
        var failures = 0
        while true {
            let cursor = state.withLock { $0.cursor }
            do {
                let entries = try await storage.pending(deviceID: session.deviceID, after: cursor, limit: batch)
                failures = 0
                if let last = entries.last {
                    let stopped = state.withLock { state -> Bool in
                        if !state.stopped { state.cursor = last.sequence }
                        return state.stopped
                    }
                    if stopped { break }
                    session.deliver(entries.map(Self.frame))
                    delivered.increment(by: Int64(entries.count))
                    if entries.count == batch { continue }
                }
            } catch {
                failures += 1
                logger.warning("inbox: cannot read pending entries", metadata: ["device": "\(session.deviceID)", "error": "\(error)"])
                // Back off, then try again while the session lives; a reconnect also retries.
                try? await Task.sleep(for: .milliseconds(min(5000, 200 * failures)))
                if state.withLock({ $0.stopped }) { break }
                continue
            }
            let again = state.withLock { state -> Bool in
                if state.dirty && !state.stopped {
                    state.dirty = false
                    return true
                }
                state.running = false
                return false
            }
            if !again { return }
        }
        state.withLock { $0.running = false }
    }

    static func frame(_ entry: RelayEntry) -> CCPFrame {
        CCPFrame(
            type: CCPFrameType(rawValue: entry.frameType) ?? .msg, channelID: entry.channelID,
            sequence: UInt32(clamping: entry.sequence), payload: ByteBuffer(bytes: entry.payload))
    }
}
