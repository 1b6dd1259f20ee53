import CCP
import Crypto
import Foundation
import Storage
import Synchronization

/// The server's versioned Noise static keys (storage `server_secrets`, versions 1, 2, …) and its device
/// CA (the Ed25519 key stored as the reserved `server_secrets` version 2^62, so every node of a
/// cluster shares it; storage requires versions ≥ 1).
///
/// The newest key is offered in `server-info` and tried first in handshakes; an older key stays
/// valid until its effective expiry: the earlier of its stored `expires_at` and the moment its
/// successor appeared plus the grace period.
public final class ServerKeyring: Sendable {
    /// One Noise static key with its effective validity.
    public struct NoiseKey: Sendable, Hashable {
        public var version: Int64
        public var keyPair: [UInt8]
        public var publicKey: [UInt8]
        public var validAfter: Date
        public var rotatesAt: Date
        public var expiresAt: Date
    }

    /// The reserved `server_secrets` version of the device CA.
    public static let deviceCAVersion: Int64 = 1 << 62

    /// Whether a `server_secrets` version is a Noise static key (not the device CA).
    static func isNoiseKeyVersion(_ version: Int64) -> Bool { version >= 1 && version < deviceCAVersion }

    private let storage: any Storage
    public let rotationInterval: Duration
    public let grace: Duration
    private let state: Mutex<[NoiseKey]>
    public let deviceCA: Curve25519.Signing.PrivateKey

    private init(storage: any Storage, rotationInterval: Duration, grace: Duration, keys: [NoiseKey], deviceCA: Curve25519.Signing.PrivateKey) {
        self.storage = storage
        self.rotationInterval = rotationInterval
        self.grace = grace
        self.state = Mutex(keys)
        self.deviceCA = deviceCA
    }

    /// Loads the keys, creating the device CA and the first Noise key when there are none (or when
    /// every Noise key has expired).
    public static func load(storage: any Storage, rotationInterval: Duration, grace: Duration, now: Date) async throws(StorageError) -> ServerKeyring {
        var secrets = try await storage.serverSecrets()
        let ca: Curve25519.Signing.PrivateKey
        if let stored = secrets.first(where: { $0.version == deviceCAVersion }),
            let key = try? Curve25519.Signing.PrivateKey(rawRepresentation: stored.privateKey)
        {
            ca = key
        } else {
            let key = Curve25519.Signing.PrivateKey()
            let record = ServerSecretRecord(
                version: deviceCAVersion, privateKey: [UInt8](key.rawRepresentation), publicKey: [UInt8](key.publicKey.rawRepresentation),
                validAfter: now, rotatesAt: .distantFuture, expiresAt: .distantFuture)
            do {
                try await storage.insertServerSecret(record)
                ca = key
            } catch where error.code == .conflict {
                // Another node created it first.
                secrets = try await storage.serverSecrets()
                guard let stored = secrets.first(where: { $0.version == deviceCAVersion }),
                    let raced = try? Curve25519.Signing.PrivateKey(rawRepresentation: stored.privateKey)
                else { throw StorageError(code: .internal, message: "device CA secret is unreadable") }
                ca = raced
            }
        }
        let keyring = ServerKeyring(
            storage: storage, rotationInterval: rotationInterval, grace: grace, keys: [], deviceCA: ca)
        try await keyring.reload()
        if keyring.validKeys(now: now).isEmpty { _ = try await keyring.rotate(now: now) }
        return keyring
    }

    /// Re-reads the keys from storage (another node or the `rotate-keys` command may have rotated).
    public func reload() async throws(StorageError) {
        let secrets = try await storage.serverSecrets().filter { Self.isNoiseKeyVersion($0.version) }.sorted { $0.version < $1.version }
        let graceSeconds = Self.seconds(grace)
        var keys: [NoiseKey] = []
        for (index, secret) in secrets.enumerated() {
            var expiry = secret.expiresAt
            if index + 1 < secrets.count {
                expiry = min(expiry, secrets[index + 1].validAfter.addingTimeInterval(graceSeconds))
            }
            keys.append(
                NoiseKey(
                    version: secret.version, keyPair: secret.privateKey, publicKey: secret.publicKey, validAfter: secret.validAfter,
                    rotatesAt: secret.rotatesAt, expiresAt: expiry))
        }
        state.withLock { $0 = keys }
    }

    /// Creates a new newest key now; older keys stay valid for the grace period. Returns it.
    @discardableResult
    public func rotate(now: Date) async throws(StorageError) -> NoiseKey {
        let pair = NoiseKeyPair.generate()
        for _ in 0..<3 {
            let next = (try await storage.serverSecrets().map(\.version).filter(Self.isNoiseKeyVersion).max() ?? 0) + 1
            let rotatesAt = now.addingTimeInterval(Self.seconds(rotationInterval))
            let record = ServerSecretRecord(
                version: max(next, 1), privateKey: pair.privateKeyBytes, publicKey: pair.publicKey, validAfter: now,
                rotatesAt: rotatesAt, expiresAt: rotatesAt.addingTimeInterval(Self.seconds(grace)))
            do {
                try await storage.insertServerSecret(record)
            } catch where error.code == .conflict {
                continue
            }
            try await reload()
            _ = try? await storage.purgeExpiredServerSecrets(now: now)
            return NoiseKey(
                version: record.version, keyPair: record.privateKey, publicKey: record.publicKey, validAfter: now, rotatesAt: rotatesAt,
                expiresAt: record.expiresAt)
        }
        throw StorageError(code: .conflict, message: "server key version raced three times")
    }

    /// Keys usable for a handshake at `now`, newest first.
    public func validKeys(now: Date) -> [NoiseKey] {
        state.withLock { keys in keys.filter { $0.validAfter <= now.addingTimeInterval(1) && $0.expiresAt > now }.reversed() }
    }

    /// Every known key, oldest first (server-info lists them).
    public var allKeys: [NoiseKey] { state.withLock { $0 } }

    /// The newest key, if any.
    public var newest: NoiseKey? { state.withLock { $0.last } }

    public var deviceCAPublic: [UInt8] { [UInt8](deviceCA.publicKey.rawRepresentation) }

    /// When the next automatic rotation is due.
    public func nextRotation() -> Date? { newest?.rotatesAt }

    /// Rotates whenever the newest key's `rotates_at` passes; returns when the task is cancelled.
    /// Storage failures are retried after a minute.
    public func runAutomaticRotation(now: @Sendable () -> Date = Date.init) async {
        while !Task.isCancelled {
            let due = nextRotation() ?? now()
            let wait = max(1, min(due.timeIntervalSince(now()), 3600))
            do {
                try await Task.sleep(for: .seconds(wait))
            } catch {
                return
            }
            do {
                try await reload()
                if let due = nextRotation(), due <= now() { try await rotate(now: now()) }
            } catch {
                try? await Task.sleep(for: .seconds(60))
            }
        }
    }

    static func seconds(_ duration: Duration) -> TimeInterval {
        let parts = duration.components
        return TimeInterval(parts.seconds) + TimeInterval(parts.attoseconds) / 1e18
    }
}
