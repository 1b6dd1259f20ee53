import AsyncHTTPClient
import ConnectCore
import Foundation
import NIOCore
import NIOHTTP1

/// The REST calls the reference client makes (server-info, pairing claim), over AsyncHTTPClient.
/// HTTPS servers with the embedded self-signed certificate are accepted (`insecure`), as a
/// development convenience; pin `device_ca_public` instead for trust.
public enum ClientHTTP {
    public struct Failure: Error, CustomStringConvertible {
        public var status: Int
        public var code: String
        public var detail: String
        public var description: String { "HTTP \(status) \(code): \(detail)" }
    }

    static let client: HTTPClient = {
        var configuration = HTTPClient.Configuration(certificateVerification: .none)
        configuration.timeout = .init(connect: .seconds(10), read: .seconds(30))
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }()

    /// Sends a request and decodes a JSON object; problem documents become ``Failure``.
    public static func json(_ method: String, _ url: String, body: [String: Any]? = nil, bearer: String? = nil) async throws -> [String: Any] {
        var request = HTTPClientRequest(url: url)
        request.method = HTTPMethod(rawValue: method)
        if let bearer { request.headers.add(name: "Authorization", value: "Bearer \(bearer)") }
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: try JSONSerialization.data(withJSONObject: body)))
        }
        let response = try await client.execute(request, timeout: .seconds(30))
        let data = try await response.body.collect(upTo: 4 * 1024 * 1024)
        let status = Int(response.status.code)
        let object = (try? JSONSerialization.jsonObject(with: Data(data.readableBytesView))) as? [String: Any] ?? [:]
        guard (200..<300).contains(status) else {
            throw Failure(status: status, code: object["code"] as? String ?? "http_\(status)", detail: object["detail"] as? String ?? "")
        }
        return object
    }

    /// What a client needs from `GET /api/server-info` for a handshake.
    public struct ServerInfo: Sendable {
        public var domain: String
        public var noisePublic: [UInt8]
        public var prologue: String
        public var deviceCAPublic: [UInt8]
        /// `noise_keys[]` with their CA signatures: (version, public, ca_signature).
        public var noiseKeys: [(version: Int64, publicKey: [UInt8], signature: [UInt8])] = []

        /// Issue 14 item 11: the Noise key to use, checked against what the client pinned at pairing.
        /// The pinned CA must equal `device_ca_public`; the newest key must be the pinned one or
        /// carry a valid CA signature (a rotation). Anything else is a substituted key: refused.
        public func trustedNoiseKey(pinnedCA: [UInt8]?, pinnedNoise: [UInt8]?) throws(Failure) -> [UInt8] {
            guard let pinnedCA else { return noisePublic }
            guard pinnedCA == deviceCAPublic else {
                throw Failure(status: 200, code: "server_key_changed", detail: "the server's device CA differs from the one pinned at pairing; refusing to connect")
            }
            if noisePublic == pinnedNoise { return noisePublic }
            guard let entry = noiseKeys.first(where: { $0.publicKey == noisePublic }),
                NoiseKeyEndorsement.verify(signature: entry.signature, caPublic: pinnedCA, version: entry.version, publicKey: entry.publicKey)
            else {
                throw Failure(status: 200, code: "server_key_changed", detail: "noise_public changed and is not signed by the pinned device CA; refusing to connect")
            }
            return noisePublic
        }
    }

    public static func serverInfo(base: String) async throws -> ServerInfo {
        let object = try await json("GET", base + "/api/server-info")
        guard let domain = object["domain"] as? String, let noise = (object["noise_public"] as? String).flatMap(Hex.decode),
            let prologue = object["noise_prologue"] as? String, let ca = (object["device_ca_public"] as? String).flatMap(Hex.decode)
        else { throw Failure(status: 200, code: "bad_server_info", detail: "server-info lacks domain, noise_public, noise_prologue or device_ca_public") }
        var info = ServerInfo(domain: domain, noisePublic: noise, prologue: prologue, deviceCAPublic: ca)
        for entry in object["noise_keys"] as? [[String: Any]] ?? [] {
            guard let version = (entry["version"] as? NSNumber)?.int64Value, let key = (entry["public"] as? String).flatMap(Hex.decode) else { continue }
            info.noiseKeys.append((version, key, (entry["ca_signature"] as? String).flatMap(Hex.decode) ?? []))
        }
        return info
    }
}
