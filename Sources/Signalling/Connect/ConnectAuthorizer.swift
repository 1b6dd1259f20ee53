import ConnectCore
import Crypto
import Foundation
import Ledger
import Storage

/// The storage side of a handshake: certificate check, device lookup or registration, certificate
/// issuance and the session record.
struct ConnectAuthorizer: Sendable {
    let storage: any Storage
    let ledger: Ledger
    let keyring: ServerKeyring
    let autoApprove: Bool

    /// Certificates with less than this left are renewed at the next handshake.
    static let renewalWindow: TimeInterval = 7 * 86_400

    func authorize(_ request: HelloRequest, now: Date) async throws(ConnectError) -> AuthorizedDevice {
        if let bytes = request.certificate { try checkCertificate(bytes, request: request, now: now) }
        do {
            return try await authorizeStored(request, now: now)
        } catch let error as ConnectError {
            throw error
        } catch {
            throw ConnectError(.internal, "storage: \(error)")
        }
    }

    /// Opens the REST bearer session of a device whose client confirmed the handshake (never
    /// before: the id is a credential) and returns its id.
    func openSession(for device: AuthorizedDevice, now: Date) async throws(ConnectError) -> String {
        let sessionID = SessionToken.generate()
        do {
            try await storage.openSession(id: sessionID, deviceID: device.deviceID, now: now)
        } catch {
            throw ConnectError(.internal, "storage: \(error)")
        }
        return sessionID
    }

    /// A presented certificate must parse, be signed by the device CA, be current and name this device and key.
    private func checkCertificate(_ bytes: [UInt8], request: HelloRequest, now: Date) throws(ConnectError) {
        let certificate: DeviceCertificate
        do {
            certificate = try DeviceCertificate(parsing: bytes)
            try certificate.verify(caPublic: keyring.deviceCA.publicKey, now: now)
        } catch {
            throw ConnectError(.certificate, error.detail)
        }
        guard certificate.deviceID == request.deviceID, certificate.devicePublic == request.devicePublic else {
            throw ConnectError(.certificate, "certificate names another device or key")
        }
    }

    // Kept as small untyped-throwing steps: one large typed-throws async function with nested
    // do/catch made Swift 6.3's mandatory AllocBoxToStack pass loop (StackNesting::fixNesting).
    private func authorizeStored(_ request: HelloRequest, now: Date) async throws -> AuthorizedDevice {
        let (device, registered) = try await lookUpOrRegister(request, now: now)
        guard let user = try await storage.user(id: device.userID) else { throw ConnectError(.internal, "device without user") }
        let certificate = try await certificateFor(device, now: now)
        return AuthorizedDevice(
            deviceID: device.deviceID, userID: user.id, handle: user.handle, displayName: user.displayName,
            certificate: certificate, registered: registered)
    }

    /// The registered device (active, same key), or a new one by auto-approval.
    private func lookUpOrRegister(_ request: HelloRequest, now: Date) async throws -> (DeviceRecord, Bool) {
        if let existing = try await storage.device(id: request.deviceID) {
            guard existing.status == .active else { throw ConnectError(.deviceRevoked, "device \(request.deviceID) was revoked") }
            guard existing.publicKey == request.devicePublic else { throw ConnectError(.proof, "device key differs from the registered key") }
            return (existing, false)
        }
        guard autoApprove else {
            throw ConnectError(.pairingRequired, "unknown device; pair it with a code from an existing device or `commucat autopair`")
        }
        // Auto-approval registers under `user.handle`; say what is wrong with it instead of a bare refusal.
        guard let handle = request.user?.handle else {
            throw ConnectError(.pairingRequired, "unknown device; auto-approval needs user.handle in the Hello")
        }
        guard UserHandle.isValid(handle) else {
            throw ConnectError(.pairingRequired, "unknown device; user.handle must be 1-64 characters of a-z 0-9 . _ -")
        }
        let user = try await findOrCreateUser(handle: handle, displayName: request.user?.displayName, now: now)
        let device = try await register(request, userID: user.id, now: now)
        ledger.record(scope: .device, result: "registered", fields: ["device_id": .string(device.deviceID), "user_id": .string(user.id), "via": "auto_approve"])
        return (device, true)
    }

    private func register(_ request: HelloRequest, userID: String, now: Date) async throws -> DeviceRecord {
        let result: Result<DeviceRecord, StorageError>
        do {
            result = .success(
                try await storage.registerDevice(NewDevice(deviceID: request.deviceID, publicKey: request.devicePublic, name: nil), userID: userID, now: now))
        } catch {
            result = .failure(error)
        }
        switch result {
        case .success(let device): return device
        case .failure(let error) where error.code == .conflict: throw ConnectError(.pairingRequired, "device key or id already registered")
        case .failure(let error): throw error
        }
    }

    func findOrCreateUser(handle: String, displayName: String?, now: Date) async throws(StorageError) -> UserRecord {
        if let user = try await storage.user(handle: handle) { return user }
        do {
            return try await storage.createUser(handle: handle, displayName: displayName, now: now)
        } catch where error.code == .conflict {
            guard let user = try await storage.user(handle: handle) else { throw error }
            return user
        }
    }

    /// The device's stored certificate while it has more than ``renewalWindow`` left, else a new one.
    func certificateFor(_ device: DeviceRecord, now: Date) async throws(StorageError) -> [UInt8] {
        if let stored = device.certificate, let parsed = try? DeviceCertificate(parsing: stored), parsed.devicePublic == device.publicKey,
            (try? parsed.verify(caPublic: keyring.deviceCA.publicKey, now: now.addingTimeInterval(Self.renewalWindow))) != nil
        {
            return stored
        }
        return try await DeviceCertificates.issueAndStore(device: device, keyring: keyring, storage: storage, now: now)
    }
}

/// Issues and stores device certificates.
enum DeviceCertificates {
    static func issueAndStore(device: DeviceRecord, keyring: ServerKeyring, storage: any Storage, now: Date) async throws(StorageError) -> [UInt8] {
        let certificate: DeviceCertificate
        do {
            certificate = try DeviceCertificate.issue(
                deviceID: device.deviceID, userID: device.userID, devicePublic: device.publicKey, now: now, ca: keyring.deviceCA)
        } catch {
            throw StorageError(code: .internal, message: "cannot sign certificate: \(error)")
        }
        try await storage.setDeviceCertificate(id: device.deviceID, certificate: certificate.encoded)
        return certificate.encoded
    }
}

/// Session ids (the REST bearer): 32 random bytes, base64url without padding.
enum SessionToken {
    /// What the ledger and logs carry instead of a session id (a bearer credential): the first 16
    /// hex digits of its SHA-256, enough to correlate records, useless as a credential.
    static func ledgerHash(_ sessionID: String) -> String {
        String(Hex.encode(Array(SHA256.hash(data: Data(sessionID.utf8)))).prefix(16))
    }

    static func generate() -> String {
        let key = SymmetricKey(size: .bits256)
        let data = key.withUnsafeBytes { Data($0) }
        return data.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }
}

/// User handles: 1…64 of `[a-z0-9._-]`, case-insensitive input folded by the caller.
public enum UserHandle {
    public static func isValid(_ handle: String) -> Bool {
        guard (1...64).contains(handle.utf8.count) else { return false }
        return handle.utf8.allSatisfy { c in
            (c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39) || c == 0x2e || c == 0x5f || c == 0x2d
        }
    }
}
