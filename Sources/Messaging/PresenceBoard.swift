import Logging
import Redis
import Synchronization

/// Presence with a time to live (SPEC §4.4): in the shared store (Redis when configured) and always
/// also in this node's memory, so that presence keeps working, for this node's devices, while Redis is
/// down. Reads prefer the shared store and fall back to memory when it fails.
public final class PresenceBoard: Sendable {
    let shared: (any EphemeralStore)?
    let local: InMemoryEphemeralStore
    let logger: Logger
    private let failing = Atomic<Bool>(false)

    /// `shared == nil` (no Redis): memory only.
    public init(shared: (any EphemeralStore)?, logger: Logger) {
        self.shared = shared
        self.local = InMemoryEphemeralStore()
        self.logger = logger
    }

    /// True while the shared store refuses presence writes or reads (presence is this node's only).
    public var isDegraded: Bool { failing.load(ordering: .relaxed) }

    public func set(userID: String, deviceID: String, state: PresenceState, ttl: Duration) async {
        try? await local.setPresence(userID: userID, deviceID: deviceID, state: state, ttl: ttl)
        guard let shared else { return }
        do {
            try await shared.setPresence(userID: userID, deviceID: deviceID, state: state, ttl: ttl)
            recovered()
        } catch {
            failed(error)
        }
    }

    public func clear(deviceID: String) async {
        try? await local.clearPresence(deviceID: deviceID)
        guard let shared else { return }
        do {
            try await shared.clearPresence(deviceID: deviceID)
            recovered()
        } catch {
            failed(error)
        }
    }

    /// Every unexpired presence of the user's devices.
    public func presence(ofUser userID: String) async -> [PresenceRecord] {
        if let shared {
            do {
                let records = try await shared.presenceOfUser(userID)
                recovered()
                return records
            } catch {
                failed(error)
            }
        }
        return (try? await local.presenceOfUser(userID)) ?? []
    }

    private func failed(_ error: RedisError) {
        if !failing.exchange(true, ordering: .relaxed) {
            logger.warning("presence: the shared store failed; keeping presence in this node's memory", metadata: ["error": "\(error)"])
        }
    }

    private func recovered() {
        if failing.exchange(false, ordering: .relaxed) {
            logger.info("presence: the shared store is back")
        }
    }
}
