import ConnectCore
import Crypto
import Foundation
import Hummingbird
import Storage

/// `GET /api/devices`, `POST /api/devices/revoke`, `POST /api/devices/rotate` (SPEC §5).
struct DeviceRoutes: Sendable {
    let service: ConnectService

    func register<Context: RequestContext & RemoteAddressRequestContext>(on router: Router<Context>) {
        let service = self.service
        router.get("/api/devices") { request, context in try await Self.list(request, context, service) }

        router.post("/api/devices/revoke") { request, context in try await Self.revoke(request, context, service) }

        router.post("/api/devices/rotate") { request, context in try await Self.rotate(request, context, service) }
    }

    static func list<Context: RequestContext & RemoteAddressRequestContext>(_ request: Request, _ _: Context, _ service: ConnectService) async throws -> Response {
        let caller = try await BearerSession.authenticate(request, service: service, now: Date())
        let devices: [DeviceRecord]
        do {
            devices = try await service.storage.devices(userID: caller.user.id)
        } catch {
            throw SignallingAPIError.storage(error)
        }
        let list: [[String: Any]] = devices.map { device in
            var object: [String: Any] = [:]
            object["device_id"] = device.deviceID
            object["public_key"] = Hex.encode(device.publicKey)
            object["status"] = device.status.rawValue
            object["created_at"] = device.createdAt.rfc3339
            let current: Bool = device.deviceID == caller.device.deviceID
            object["current"] = current
            let online: Bool = !service.registry.sessions(deviceID: device.deviceID).isEmpty
            object["online"] = online
            if let name = device.name { object["name"] = name }
            if let revoked = device.revokedAt { object["revoked_at"] = revoked.rfc3339 }
            if let certificate = device.certificate { object["certificate"] = Hex.encode(certificate) }
            return object
        }
        let document: [String: Any] = ["user_id": caller.user.id, "devices": list]
        return JSONBody.response(document)
    }

    static func revoke<Context: RequestContext & RemoteAddressRequestContext>(_ request: Request, _ context: Context, _ service: ConnectService) async throws -> Response {
        let now = Date()
        let caller = try await BearerSession.authenticate(request, service: service, now: now)
        let body = try await JSONBody.object(from: request, context: context)
        guard let deviceID = body["device_id"] as? String else { throw SignallingAPIError.badRequest("bad_request", "device_id required") }
        do {
            guard let device = try await service.storage.device(id: deviceID), device.userID == caller.user.id else {
                throw SignallingAPIError(.notFound, code: "unknown_device", detail: "no such device of yours")
            }
            let revoked = try await service.storage.revokeDevice(id: deviceID, now: now)
            let dropped = service.registry.drop(deviceID: deviceID, error: ConnectError(.deviceRevoked, "device \(deviceID) was revoked"))
            service.ledger.record(
                scope: .device, result: "revoked",
                fields: ["device_id": .string(deviceID), "user_id": .string(caller.user.id), "by_device": .string(caller.device.deviceID), "sessions_dropped": .int(Int64(dropped))])
            var document: [String: Any] = [:]
            document["device_id"] = revoked.deviceID
            document["status"] = revoked.status.rawValue
            document["sessions_dropped"] = dropped
            return JSONBody.response(document)
        } catch let error as StorageError {
            throw SignallingAPIError.storage(error)
        }
    }

    static func rotate<Context: RequestContext & RemoteAddressRequestContext>(_ request: Request, _ context: Context, _ service: ConnectService) async throws -> Response {
        let body = try await JSONBody.object(from: request, context: context)
        guard let deviceID = body["device_id"] as? String, let newHex = body["new_public"] as? String, let proofHex = body["proof"] as? String,
            let newPublic = Hex.decode(newHex), newPublic.count == 32, let proof = Hex.decode(proofHex),
            (try? Curve25519.Signing.PublicKey(rawRepresentation: newPublic)) != nil
        else { throw SignallingAPIError.badRequest("bad_request", "device_id, new_public (hex Ed25519) and proof (hex) required") }
        let now = Date()
        do {
            guard let device = try await service.storage.device(id: deviceID) else {
                throw SignallingAPIError(.notFound, code: "unknown_device", detail: "no such device")
            }
            guard device.status == .active else { throw SignallingAPIError(.forbidden, code: "device_revoked", detail: "device was revoked") }
            guard DeviceKeyRotation.verify(proof: proof, oldPublic: device.publicKey, deviceID: deviceID, newPublic: newPublic) else {
                service.ledger.record(scope: .device, result: "rotate_refused", fields: ["device_id": .string(deviceID), "code": "proof"])
                throw SignallingAPIError(.forbidden, code: "proof", detail: "proof does not verify with the current device key")
            }
            try await service.storage.rotateDeviceKey(id: deviceID, newPublicKey: newPublic, proof: proof, now: now)
            guard let rotated = try await service.storage.device(id: deviceID) else { throw SignallingAPIError(.notFound, code: "unknown_device", detail: "device vanished") }
            let certificate = try await DeviceCertificates.issueAndStore(device: rotated, keyring: service.keyring, storage: service.storage, now: now)
            service.registry.drop(deviceID: deviceID, error: ConnectError(.deviceRevoked, "device key rotated; reconnect with the new key"))
            service.ledger.record(scope: .device, result: "rotated", fields: ["device_id": .string(deviceID), "user_id": .string(device.userID)])
            let document: [String: String] = ["device_id": deviceID, "public_key": Hex.encode(newPublic), "certificate": Hex.encode(certificate)]
            return JSONBody.response(document)
        } catch let error as StorageError {
            if error.code == .conflict { throw SignallingAPIError(.conflict, code: "key_in_use", detail: "the new key belongs to a device") }
            throw SignallingAPIError.storage(error)
        }
    }
}

/// The proof of a device key rotation: Ed25519 by the **old** key over
/// `"commucat:device-rotate:v1" || u32be(len(device_id)) || device_id || new_public`.
public enum DeviceKeyRotation {
    public static let label = "commucat:device-rotate:v1"

    public static func message(deviceID: String, newPublic: [UInt8]) -> [UInt8] {
        var out = Array(label.utf8)
        DeviceProof.appendLengthPrefixed(Array(deviceID.utf8), to: &out)
        return out + newPublic
    }

    public static func sign(oldKey: Curve25519.Signing.PrivateKey, deviceID: String, newPublic: [UInt8]) throws -> [UInt8] {
        [UInt8](try oldKey.signature(for: message(deviceID: deviceID, newPublic: newPublic)))
    }

    public static func verify(proof: [UInt8], oldPublic: [UInt8], deviceID: String, newPublic: [UInt8]) -> Bool {
        guard let key = try? Curve25519.Signing.PublicKey(rawRepresentation: oldPublic) else { return false }
        return key.isValidSignature(proof, for: message(deviceID: deviceID, newPublic: newPublic))
    }
}
