import ConnectCore
import Crypto
import Foundation
import Hummingbird
import Storage

/// `POST /api/pair` and `POST /api/pair/claim` (SPEC §5).
struct PairingRoutes: Sendable {
    let service: ConnectService

    func register<Context: RequestContext & RemoteAddressRequestContext>(on router: Router<Context>) {
        let service = self.service
        router.post("/api/pair") { request, context in try await Self.createCode(request, context, service) }

        router.post("/api/pair/claim") { request, context in try await Self.claim(request, context, service) }
    }

    static func createCode<Context: RequestContext & RemoteAddressRequestContext>(_ request: Request, _ context: Context, _ service: ConnectService) async throws -> Response {
        let now = Date()
        let caller = try await BearerSession.authenticate(request, service: service, now: now)
        guard await service.allow(service.configuration.pairCreateRateLimit, scope: "pair", address: caller.user.id) else {
            throw SignallingAPIError.rateLimited("too many pairing codes", retryAfter: Int(ServerKeyring.seconds(service.configuration.pairCreateRateLimit.window)))
        }
        let code: PairingCodeRecord
        do {
            code = try await PairingCodes.create(storage: service.storage, userID: caller.user.id, ttl: service.configuration.pairingTTL, now: now)
        } catch {
            throw SignallingAPIError.storage(error)
        }
        service.ledger.record(scope: .pairing, result: "code_created", fields: ["user_id": .string(caller.user.id), "by_device": .string(caller.device.deviceID)])
        var document: [String: Any] = [:]
        document["pair_code"] = code.code
        document["ttl"] = Int(code.expiresAt.timeIntervalSince(now).rounded())
        document["expires_at"] = code.expiresAt.rfc3339
        document["max_attempts"] = service.configuration.pairingMaxAttempts
        return JSONBody.response(document, status: .created)
    }

    static func claim<Context: RequestContext & RemoteAddressRequestContext>(_ request: Request, _ context: Context, _ service: ConnectService) async throws -> Response {
        let remote = remoteAddressString(context)
        guard await service.allow(service.configuration.pairClaimRateLimit, scope: "claim", address: remote) else {
            service.ledger.record(scope: .pairing, result: "rate_limited", fields: ["remote": .string(remote)])
            throw SignallingAPIError.rateLimited(
                "too many pairing attempts from this address", retryAfter: Int(ServerKeyring.seconds(service.configuration.pairClaimRateLimit.window)))
        }
        let body = try await JSONBody.object(from: request, context: context)
        guard let rawCode = body["pair_code"] as? String, let code = PairingCodes.normalize(rawCode) else {
            throw SignallingAPIError(.notFound, code: "invalid_code", detail: "no such pairing code")
        }
        guard let publicHex = body["device_public"] as? String, let devicePublic = Hex.decode(publicHex), devicePublic.count == 32,
            (try? Curve25519.Signing.PublicKey(rawRepresentation: devicePublic)) != nil
        else { throw SignallingAPIError.badRequest("bad_device_public", "device_public must be the hex of a 32-byte Ed25519 public key") }
        let name = (body["device_name"] as? String).map { String($0.prefix(128)) }
        let deviceID: String
        if let requested = body["device_id"] as? String {
            guard !requested.isEmpty, requested.utf8.count <= 255, requested.allSatisfy({ !$0.isWhitespace && !$0.isNewline }) else {
                throw SignallingAPIError.badRequest("bad_device_id", "device_id must be 1…255 bytes without spaces")
            }
            deviceID = requested
        } else {
            deviceID = UUID().uuidString.lowercased()
        }
        let now = Date()
        let result: PairingClaimResult
        do {
            result = try await service.storage.claimPairingCode(
                code, device: NewDevice(deviceID: deviceID, publicKey: devicePublic, name: name), now: now,
                maxAttempts: service.configuration.pairingMaxAttempts)
        } catch where error.code == .conflict {
            throw SignallingAPIError(.conflict, code: "device_exists", detail: "device id or key already registered")
        } catch {
            throw SignallingAPIError.storage(error)
        }
        let failure: SignallingAPIError
        switch result {
        case .claimed(let record, let device):
            let certificate: [UInt8]
            let user: UserRecord?
            do {
                certificate = try await DeviceCertificates.issueAndStore(device: device, keyring: service.keyring, storage: service.storage, now: now)
                user = try await service.storage.user(id: record.userID)
            } catch {
                throw SignallingAPIError.storage(error)
            }
            service.ledger.record(scope: .pairing, result: "claimed", fields: ["device_id": .string(device.deviceID), "user_id": .string(record.userID), "remote": .string(remote)])
            service.ledger.record(scope: .device, result: "registered", fields: ["device_id": .string(device.deviceID), "user_id": .string(record.userID), "via": "pairing"])
            var userObject: [String: String] = ["id": record.userID, "handle": user?.handle ?? ""]
            if let display = user?.displayName { userObject["display_name"] = display }
            var document: [String: Any] = [:]
            document["device_id"] = device.deviceID
            document["certificate"] = Hex.encode(certificate)
            document["user"] = userObject
            document["device_ca_public"] = Hex.encode(service.keyring.deviceCAPublic)
            return JSONBody.response(document, status: .created)
        case .notFound:
            failure = SignallingAPIError(.notFound, code: "invalid_code", detail: "no such pairing code")
        case .expired:
            failure = SignallingAPIError(.gone, code: "code_expired", detail: "the pairing code has expired")
        case .alreadyClaimed:
            failure = SignallingAPIError(.conflict, code: "code_claimed", detail: "the pairing code was already used")
        case .tooManyAttempts:
            failure = SignallingAPIError(.forbidden, code: "too_many_attempts", detail: "the pairing code allowed \(service.configuration.pairingMaxAttempts) attempts")
        }
        service.ledger.record(scope: .pairing, result: failure.code, fields: ["remote": .string(remote)])
        throw failure
    }
}
