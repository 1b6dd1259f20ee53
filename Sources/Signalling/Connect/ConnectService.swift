import CCP
import ConnectCore
import Foundation
import Ledger
import Logging
import Redis
import Storage
import Synchronization

/// Everything `/connect`, pairing and the device endpoints share: storage, the ephemeral store
/// (rate limits), the ledger, the server keyring, live sessions and the frame delegate.
public final class ConnectService: Sendable {
    public let configuration: ConnectConfiguration
    public let storage: any Storage
    public let ephemeral: any EphemeralStore
    public let ledger: Ledger
    public let keyring: ServerKeyring
    public let registry: ConnectSessionRegistry
    public let delegate: any ConnectSessionDelegate
    public let relays: RelayStreamTable
    /// Streams per address still in their handshake (``ConnectConfiguration/handshakesPerAddress``).
    let handshakeGate: AddressGate
    let logger: Logger
    let authorizer: ConnectAuthorizer

    private init(
        configuration: ConnectConfiguration, storage: any Storage, ephemeral: any EphemeralStore, ledger: Ledger, keyring: ServerKeyring,
        delegate: any ConnectSessionDelegate, logger: Logger
    ) {
        self.configuration = configuration
        self.storage = storage
        self.ephemeral = ephemeral
        self.ledger = ledger
        self.keyring = keyring
        self.registry = ConnectSessionRegistry()
        self.delegate = delegate
        self.relays = RelayStreamTable()
        self.handshakeGate = AddressGate(limit: configuration.handshakesPerAddress)
        self.logger = logger
        self.authorizer = ConnectAuthorizer(storage: storage, ledger: ledger, keyring: keyring, autoApprove: configuration.autoApproveDevices)
    }

    /// Loads (or creates) the server keys and device CA.
    public static func start(
        configuration: ConnectConfiguration, storage: any Storage, ephemeral: any EphemeralStore, ledger: Ledger,
        delegate: any ConnectSessionDelegate = UnsupportedFramesDelegate(), logger: Logger, now: Date = Date()
    ) async throws(StorageError) -> ConnectService {
        let keyring = try await ServerKeyring.load(
            storage: storage, rotationInterval: configuration.noiseRotationInterval, grace: configuration.noiseGrace, now: now)
        return ConnectService(
            configuration: configuration, storage: storage, ephemeral: ephemeral, ledger: ledger, keyring: keyring, delegate: delegate,
            logger: logger)
    }

    /// A handshake machine over the keys valid at `now`.
    func makeHandshake(now: Date) -> ConnectHandshake {
        let keys = keyring.validKeys(now: now).compactMap { key -> (version: Int64, keyPair: NoiseKeyPair)? in
            guard let pair = try? NoiseKeyPair(privateKeyBytes: key.keyPair) else { return nil }
            return (key.version, pair)
        }
        return ConnectHandshake(
            configuration: .init(
                domain: configuration.domain, prologue: Array(configuration.prologue.utf8), keepaliveInterval: configuration.keepaliveInterval,
                deviceCAPublic: keyring.deviceCAPublic, serverKeys: keys))
    }

    /// Counts one hit for `scope` from `address`; true when within the limit. A failing store allows.
    func allow(_ limit: ConnectConfiguration.RateLimit, scope: String, address: String) async -> Bool {
        do {
            return try await ephemeral.hit(key: "rl:\(scope):\(address)", limit: limit.limit, window: limit.window).allowed
        } catch {
            logger.warning("rate limiter unavailable", metadata: ["error": "\(error)"])
            return true
        }
    }

    /// Runs one `/connect` stream to its end.
    public func serve<Inbound: AsyncSequence & Sendable>(
        inbound: Inbound, outbound: some ConnectOutbound, transport: String, remoteAddress: String
    ) async where Inbound.Element == ByteBuffer {
        let connection = ConnectConnection(service: self, transportName: transport, remoteAddress: remoteAddress)
        guard await allow(configuration.connectRateLimit, scope: "connect", address: remoteAddress) else {
            await connection.run(inbound: inbound, outbound: outbound, refusal: ConnectError(.rateLimited, "too many /connect attempts from this address"))
            return
        }
        guard handshakeGate.enter(remoteAddress) else {
            await connection.run(
                inbound: inbound, outbound: outbound,
                refusal: ConnectError(.rateLimited, "more than \(configuration.handshakesPerAddress) unfinished /connect handshakes from this address"))
            return
        }
        await connection.run(inbound: inbound, outbound: outbound, refusal: nil) { [handshakeGate] in handshakeGate.leave(remoteAddress) }
    }

    /// Graceful shutdown: ends every live session (WebSocket, HTTP/2, SSE, long-poll) so that the
    /// HTTP listeners can drain; sessions are closed in storage as their loops end.
    public func drain() async {
        let dropped = registry.dropAll(error: ConnectError(.shuttingDown, "the server is shutting down"))
        await relays.closeAll()
        logger.info("connect: drained live sessions", metadata: ["sessions": "\(dropped)"])
    }

    /// Rotates automatically until cancelled (Ops runs this as a service).
    public func runKeyRotation() async {
        await keyring.runAutomaticRotation()
    }
}

import NIOCore

/// Counts something per client address under a cap (streams in their handshake); thread-safe.
final class AddressGate: Sendable {
    private let limit: Int
    private let counts = Mutex<[String: Int]>([:])

    init(limit: Int) { self.limit = limit }

    /// Takes one slot for `address`; false when it already holds `limit`.
    func enter(_ address: String) -> Bool {
        counts.withLock { counts in
            let current = counts[address, default: 0]
            guard current < limit else { return false }
            counts[address] = current + 1
            return true
        }
    }

    /// Gives one slot of `address` back.
    func leave(_ address: String) {
        counts.withLock { counts in
            let remaining = counts[address, default: 0] - 1
            counts[address] = remaining > 0 ? remaining : nil
        }
    }

    func count(_ address: String) -> Int { counts.withLock { $0[address, default: 0] } }
}
