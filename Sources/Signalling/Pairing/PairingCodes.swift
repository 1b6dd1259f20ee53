import Crypto
import Foundation
import Storage

/// Pairing codes `XXXX-XXXX` over an alphabet without look-alikes (no 0/O, 1/I/L).
public enum PairingCodes {
    static let alphabet = Array("ABCDEFGHJKMNPQRSTUVWXYZ23456789")

    public static func generate() -> String {
        var generator = SystemRandomNumberGenerator()
        let chars = (0..<8).map { _ in alphabet[Int(generator.next(upperBound: UInt32(alphabet.count)))] }
        return String(chars[0..<4]) + "-" + String(chars[4..<8])
    }

    /// Upper-cases and inserts the dash (`abcd2345` → `ABCD-2345`); `nil` if it cannot be a code.
    public static func normalize(_ input: String) -> String? {
        let raw = input.uppercased().filter { $0 != "-" && $0 != " " }
        guard raw.count == 8, raw.allSatisfy({ alphabet.contains($0) }) else { return nil }
        return String(raw.prefix(4)) + "-" + String(raw.suffix(4))
    }

    /// Creates a code for `userID`, retrying on the (unlikely) collision.
    public static func create(storage: any Storage, userID: String, ttl: Duration, now: Date) async throws(StorageError) -> PairingCodeRecord {
        var lastError = StorageError(code: .conflict, message: "pairing code collision")
        for _ in 0..<5 {
            do {
                return try await storage.createPairingCode(
                    generate(), userID: userID, now: now, expiresAt: now.addingTimeInterval(ServerKeyring.seconds(ttl)))
            } catch where error.code == .conflict {
                lastError = error
            }
        }
        throw lastError
    }

    /// `commucat autopair --handle H`: creates the user if needed and returns a fresh pairing code
    /// for its first device.
    public static func autopair(
        storage: any Storage, handle: String, displayName: String? = nil, ttl: Duration = .seconds(600), now: Date = Date()
    ) async throws(StorageError) -> (user: UserRecord, code: PairingCodeRecord) {
        let handle = handle.lowercased()
        guard UserHandle.isValid(handle) else {
            throw StorageError(code: .invalidArgument, message: "handle must be 1…64 of a-z 0-9 . _ -")
        }
        var user = try await storage.user(handle: handle)
        if user == nil {
            do {
                user = try await storage.createUser(handle: handle, displayName: displayName, now: now)
            } catch where error.code == .conflict {
                user = try await storage.user(handle: handle)
            }
        }
        guard let user else { throw StorageError(code: .internal, message: "user \(handle) vanished") }
        return (user, try await create(storage: storage, userID: user.id, ttl: ttl, now: now))
    }
}
