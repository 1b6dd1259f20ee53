import ConnectCore
import Foundation
import Hummingbird

/// `GET /api/server-info` (SPEC §5): what a client needs before its first handshake.
struct ServerInfoRoute: Sendable {
    let service: ConnectService

    func register<Context: RequestContext>(on router: Router<Context>) {
        let service = self.service
        router.get("/api/server-info") { request, context in try await Self.serverInfo(request, context, service) }
    }

    static func document(service: ConnectService, now: Date) -> [String: Any] {
        let configuration = service.configuration
        let keyring = service.keyring
        var keys: [[String: Any]] = []
        for key in keyring.allKeys.reversed() where key.expiresAt > now {
            var entry: [String: Any] = [:]
            entry["version"] = key.version
            entry["public"] = Hex.encode(key.publicKey)
            entry["valid_after"] = key.validAfter.rfc3339
            entry["rotates_at"] = key.rotatesAt.rfc3339
            entry["expires_at"] = key.expiresAt.rfc3339
            entry["ca_signature"] = Hex.encode(NoiseKeyEndorsement.sign(ca: keyring.deviceCA, version: key.version, publicKey: key.publicKey))
            keys.append(entry)
        }
        // Only servers that exist: the configured TURN URLs (credentials come with /rtc joins and
        // WHIP Link headers). The SFU is ICE-lite on a public address and needs no STUN server.
        let iceServers: [[String: Any]] = configuration.turnURLs.isEmpty ? [] : [["urls": configuration.turnURLs]]

        var session: [String: Any] = [:]
        session["keepalive_interval"] = configuration.keepaliveInterval
        session["idle_timeout"] = configuration.keepaliveInterval * 3
        session["connect_path"] = "/connect"
        session["transports"] = ["websocket", "http2", "sse", "long-poll"] as [String]
        session["rest_auth"] = "bearer"
        session["ttl"] = Int(ServerKeyring.seconds(configuration.sessionTTL))

        var presence: [String: Any] = [:]
        presence["ttl"] = configuration.keepaliveInterval * 3
        presence["states"] = ["online", "away", "offline"] as [String]
        presence["enabled"] = false  // Presence frames arrive with messaging (README)

        var pairing: [String: Any] = [:]
        pairing["code_format"] = "XXXX-XXXX"
        pairing["ttl"] = Int(ServerKeyring.seconds(configuration.pairingTTL))
        pairing["max_attempts"] = configuration.pairingMaxAttempts
        pairing["auto_approve_devices"] = configuration.autoApproveDevices
        pairing["claim_path"] = "/api/pair/claim"

        var postQuantum: [String: Any] = [:]
        postQuantum["enabled"] = false
        postQuantum["kem"] = NSNull()

        var document: [String: Any] = [:]
        document["domain"] = configuration.domain
        document["protocol"] = "CCP-1"
        document["noise_public"] = keyring.newest.map { Hex.encode($0.publicKey) } ?? ""
        document["noise_key_version"] = keyring.newest?.version ?? 0
        document["noise_keys"] = keys
        document["noise_prologue"] = configuration.prologue
        document["noise_protocols"] = ["Noise_XK_25519_ChaChaPoly_BLAKE2s", "Noise_IK_25519_ChaChaPoly_BLAKE2s"] as [String]
        document["device_ca_public"] = Hex.encode(keyring.deviceCAPublic)
        document["supported_patterns"] = ["XK", "IK"] as [String]
        document["supported_versions"] = [1] as [Int]
        document["session"] = session
        document["presence"] = presence
        document["pairing"] = pairing
        document["post_quantum"] = postQuantum
        document["ice_servers"] = iceServers
        document["media"] = configuration.mediaCapabilities
        return document
    }

    static func serverInfo<Context: RequestContext>(_ _: Request, _ _: Context, _ service: ConnectService) async throws -> Response {
        JSONBody.response(Self.document(service: service, now: Date()))
    }
}
