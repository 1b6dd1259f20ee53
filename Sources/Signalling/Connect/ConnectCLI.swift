import Foundation
import Storage

/// Server-side CLI bodies the `commucat` executable wires: `rotate-keys` (autopair is
/// ``PairingCodes/autopair(storage:handle:displayName:ttl:now:)``).
public enum ConnectCLI {
    /// Rotates the Noise static key now; older keys stay valid for `grace`. Returns the new key.
    public static func rotateKeys(storage: any Storage, rotationInterval: Duration, grace: Duration, now: Date = Date()) async throws(StorageError)
        -> ServerKeyring.NoiseKey
    {
        let keyring = try await ServerKeyring.load(storage: storage, rotationInterval: rotationInterval, grace: grace, now: now)
        return try await keyring.rotate(now: now)
    }
}
