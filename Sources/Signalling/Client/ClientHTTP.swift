import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// The REST calls the reference client makes (server-info, pairing claim), over Foundation's URLSession.
public enum ClientHTTP {
    public struct Failure: Error, CustomStringConvertible {
        public var status: Int
        public var code: String
        public var detail: String
        public var description: String { "HTTP \(status) \(code): \(detail)" }
    }

    /// Sends a request and decodes a JSON object; problem documents become ``Failure``.
    public static func json(_ method: String, _ url: String, body: [String: Any]? = nil, bearer: String? = nil) async throws -> [String: Any] {
        guard let target = URL(string: url) else { throw Failure(status: 0, code: "bad_url", detail: url) }
        var request = URLRequest(url: target, timeoutInterval: 20)
        request.httpMethod = method
        if let bearer { request.setValue("Bearer \(bearer)", forHTTPHeaderField: "Authorization") }
        if let body {
            request.httpBody = try JSONSerialization.data(withJSONObject: body)
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        }
        let (data, response) = try await URLSession.shared.data(for: request)
        let status = (response as? HTTPURLResponse)?.statusCode ?? 0
        let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] ?? [:]
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
    }

    public static func serverInfo(base: String) async throws -> ServerInfo {
        let object = try await json("GET", base + "/api/server-info")
        guard let domain = object["domain"] as? String, let noise = (object["noise_public"] as? String).flatMap(Hex.decode),
            let prologue = object["noise_prologue"] as? String, let ca = (object["device_ca_public"] as? String).flatMap(Hex.decode)
        else { throw Failure(status: 200, code: "bad_server_info", detail: "server-info lacks domain, noise_public, noise_prologue or device_ca_public") }
        return ServerInfo(domain: domain, noisePublic: noise, prologue: prologue, deviceCAPublic: ca)
    }
}
