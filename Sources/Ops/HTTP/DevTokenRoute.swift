import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import Signalling

/// `POST /api/dev/token` `{room, name}` → `{token, room, identity, expires_in}`: a room token
/// (publish + subscribe, 1 h) for the demo page. Served only where `auth.dev_tokens` is on (the
/// embedded defaults) and only to loopback peers: it hands out tokens to anybody who asks.
struct DevTokenRoute: Sendable {
    let tokens: AccessTokens

    private struct Body: Decodable {
        var room: String
        var name: String?
    }

    func register(on router: Router<CommuCatRequestContext>) {
        router.post("/api/dev/token") { request, context -> Response in
            try context.requireTrustedLoopback("development tokens are handed out to loopback clients only")
            let buffer = try await request.body.collect(upTo: 4096)
            guard let body = try? JSONDecoder().decode(Body.self, from: Data(buffer: buffer)) else {
                throw APIError.badRequest(code: "bad_json", "the body must be {\"room\": \"…\", \"name\": \"…\"}")
            }
            guard RoomNames.isValid(body.room) else {
                throw APIError.badRequest(code: "bad_room", "room names are 1-128 characters of A-Z a-z 0-9 - _ .")
            }
            let name = String((body.name ?? "guest").prefix(64))
            let identity = "\(name)-\(UInt32.random(in: 0...UInt32.max))"
            let token = try await tokens.issue(
                identity: identity, room: body.room, publish: true, subscribe: true, ttl: .seconds(3600), now: Date())
            var json = "{\"token\":"
            appendJSONString(token, to: &json)
            json += ",\"room\":"
            appendJSONString(body.room, to: &json)
            json += ",\"identity\":"
            appendJSONString(identity, to: &json)
            json += ",\"expires_in\":3600}"
            var headers = HTTPFields()
            headers[.contentType] = "application/json"
            headers[.cacheControl] = "no-store"
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: json)))
        }
    }
}
