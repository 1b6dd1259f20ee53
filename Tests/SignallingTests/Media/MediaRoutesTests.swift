import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import ICE
import SFUWire
import Signalling
import Testing

@Suite struct MediaRoutesTests {
    static let secret = "0123456789abcdef0123456789abcdef"
    static let now = Date(timeIntervalSince1970: 1_800_000_000)
    let tokens = AccessTokens(apiKey: "key", apiSecret: Self.secret)

    struct Harness {
        let backend: FakeMediaBackend
        let app: Application<RouterResponder<BasicRequestContext>>
    }

    /// Routes over a fake backend. The test peer is loopback when `X-Test-Loopback: 1` is sent.
    func harness(allowAnonymous: Bool = false, rateLimited: Bool = false) -> Harness {
        let backend = FakeMediaBackend()
        let routes = MediaRoutes(
            backend: backend,
            configuration: .init(
                tokens: tokens, allowAnonymous: allowAnonymous,
                iceServers: MediaRoutesConfiguration.turnServers(
                    urls: ["stun:stun.example.net:3478", "turn:turn.example.net:3478?transport=udp"], secret: "turnsecret",
                    ttl: .seconds(600)
                ),
                maxBodyBytes: 16 * 1024, rateLimit: { _, _ in rateLimited ? .limited(retryAfterSeconds: 42) : .allowed }, now: { Self.now }
            )
        )
        let router = Router()
        routes.register(on: router) { request, _ in
            .init(address: "127.0.0.1", isLoopback: request.headers[HTTPField.Name("X-Test-Loopback") ?? .accept] == "1")
        }
        return Harness(backend: backend, app: Application(router: router))
    }

    func bearer(room: String = "lobby", identity: String = "alice", publish: Bool = true, subscribe: Bool = true) async throws -> String {
        "Bearer " + (try await tokens.issue(identity: identity, room: room, publish: publish, subscribe: subscribe, ttl: .seconds(600), now: Self.now))
    }

    func sdpHeaders(_ authorization: String?, type: String = "application/sdp") -> HTTPFields {
        var headers: HTTPFields = [.contentType: type]
        if let authorization { headers[.authorization] = authorization }
        return headers
    }

    func problemCode(_ body: ByteBuffer) -> String? {
        let object = try? JSONSerialization.jsonObject(with: Data(String(buffer: body).utf8)) as? [String: Any]
        return object?["code"] as? String
    }

    @Test func whipPublishPatchDelete() async throws {
        let harness = harness()
        let offer = try Fixtures.sdp("aiortc-whip-offer.sdp")
        let auth = try await bearer()
        try await harness.app.test(.router) { client in
            let location = try await client.execute(
                uri: "/whip/lobby", method: .post, headers: sdpHeaders(auth), body: ByteBuffer(string: offer)
            ) { response -> String in
                #expect(response.status == .created)
                #expect(response.headers[.contentType] == "application/sdp")
                #expect(response.headers[.eTag]?.hasPrefix("\"") == true)
                #expect(response.headers[.accessControlExposeHeaders]?.contains("Location") == true)
                let links = response.headers[values: HTTPField.Name("Link") ?? .accept]
                #expect(links.count == 2)
                #expect(links[0] == "<stun:stun.example.net:3478>; rel=\"ice-server\"")
                #expect(links[1].hasPrefix("<turn:turn.example.net:3478?transport=udp>; rel=\"ice-server\"; username=\"1800000600:alice\""))
                let answer = try SessionDescription(parsing: String(buffer: response.body))
                #expect(answer.media.map(\.direction) == [.recvonly, .recvonly])
                #expect(answer.media[0].rtpmaps.map(\.encodingName) == ["VP8", "rtx"])
                return response.headers[.location] ?? ""
            }
            #expect(location.hasPrefix("/whip/lobby/"))
            #expect(location.count == "/whip/lobby/".count + 32)

            let fragment = "a=ice-ufrag:Wxw3\r\na=ice-pwd:dPkNtMAG0GhHPGsx6yE3WW\r\nm=video 9 UDP/TLS/RTP/SAVPF 0\r\na=mid:0\r\n"
                + "a=candidate:1 1 udp 2130706431 127.0.0.1 40000 typ host\r\na=end-of-candidates\r\n"
            try await client.execute(
                uri: location, method: .patch, headers: sdpHeaders(auth, type: "application/trickle-ice-sdpfrag"),
                body: ByteBuffer(string: fragment)
            ) { response in
                #expect(response.status == .noContent)
            }
            try await client.execute(uri: location, method: .delete, headers: [.authorization: auth]) { response in
                #expect(response.status == .ok)
            }
            try await client.execute(uri: location, method: .delete, headers: [.authorization: auth]) { response in
                #expect(response.status == .notFound)
                #expect(problemCode(response.body) == "session_not_found")
            }
        }
        let calls = await harness.backend.calls
        #expect(calls.count == 3)
        guard case .publish(let session, let identity) = calls.first else { Issue.record("no publish call"); return }
        #expect(identity == "alice")
        #expect(calls[1] == .candidates(session, count: 1, end: true))
        #expect(calls[2] == .close(session))
    }

    @Test func wrongTokenIs401AndNeverReachesTheBackend() async throws {
        let harness = harness()
        let offer = try Fixtures.sdp("aiortc-whip-offer.sdp")
        let forged = "Bearer " + (try await AccessTokens(apiKey: "key", apiSecret: "not-the-secret-not-the-secret-xx")
            .issue(identity: "m", room: "lobby", publish: true, subscribe: true, ttl: .seconds(60), now: Self.now))
        let otherRoom = try await bearer(room: "other")
        let subscribeOnly = try await bearer(publish: false)
        let cases: [(String?, HTTPResponse.Status, String)] = [
            (nil, .unauthorized, "token_missing"),
            (forged, .unauthorized, "token_invalid"),
            ("Bearer not.a.jwt", .unauthorized, "token_invalid"),
            (otherRoom, .forbidden, "token_room"),
            (subscribeOnly, .forbidden, "token_grant"),
        ]
        try await harness.app.test(.router) { client in
            for (authorization, status, code) in cases {
                try await client.execute(
                    uri: "/whip/lobby", method: .post, headers: sdpHeaders(authorization), body: ByteBuffer(string: offer)
                ) { response in
                    #expect(response.status == status, "\(code)")
                    #expect(response.headers[.contentType] == "application/problem+json")
                    #expect(problemCode(response.body) == code)
                    if status == .unauthorized { #expect(response.headers[.wwwAuthenticate]?.hasPrefix("Bearer") == true) }
                }
            }
        }
        #expect(await harness.backend.calls.isEmpty)
    }

    @Test func anonymousOnlyFromLoopbackWhenAllowed() async throws {
        let harness = harness(allowAnonymous: true)
        let offer = try Fixtures.sdp("aiortc-whip-offer.sdp")
        try await harness.app.test(.router) { client in
            try await client.execute(uri: "/whip/lobby", method: .post, headers: sdpHeaders(nil), body: ByteBuffer(string: offer)) { response in
                #expect(response.status == .unauthorized)
            }
            var headers = sdpHeaders(nil)
            headers[HTTPField.Name("X-Test-Loopback") ?? .accept] = "1"
            try await client.execute(uri: "/whip/lobby", method: .post, headers: headers, body: ByteBuffer(string: offer)) { response in
                #expect(response.status == .created)
            }
        }
    }

    @Test func malformedSDPIs400WithTheReason() async throws {
        let harness = harness()
        let auth = try await bearer()
        try await harness.app.test(.router) { client in
            try await client.execute(
                uri: "/whip/lobby", method: .post, headers: sdpHeaders(auth), body: ByteBuffer(string: "v=0\r\no=broken\r\n")
            ) { response in
                #expect(response.status == .badRequest)
                #expect(problemCode(response.body) == "bad_sdp")
                #expect(String(buffer: response.body).contains("line 2"))
            }
            let noBundle = Fixtures.minimalOffer { $0.removeAll { $0.hasPrefix("a=group") } }
            try await client.execute(uri: "/whip/lobby", method: .post, headers: sdpHeaders(auth), body: ByteBuffer(string: noBundle)) { response in
                #expect(response.status == .badRequest)
                #expect(problemCode(response.body) == "sdp_unsupported")
            }
        }
        #expect(await harness.backend.calls.isEmpty)
    }

    @Test func wrongContentTypeIs415AndBigBodyIs413() async throws {
        let harness = harness()
        let auth = try await bearer()
        try await harness.app.test(.router) { client in
            try await client.execute(
                uri: "/whip/lobby", method: .post, headers: sdpHeaders(auth, type: "application/json"), body: ByteBuffer(string: "{}")
            ) { response in
                #expect(response.status == .unsupportedMediaType)
                #expect(problemCode(response.body) == "unsupported_media_type")
            }
            let huge = ByteBuffer(string: String(repeating: "a=x\r\n", count: 8000))
            try await client.execute(uri: "/whip/lobby", method: .post, headers: sdpHeaders(auth), body: huge) { response in
                #expect(response.status == .contentTooLarge)
                #expect(problemCode(response.body) == "body_too_large")
            }
            try await client.execute(
                uri: "/whip/lobby", method: .post, headers: sdpHeaders(auth, type: "Application/SDP; charset=utf-8"),
                body: ByteBuffer(string: try Fixtures.sdp("aiortc-whip-offer.sdp"))
            ) { response in
                #expect(response.status == .created)
            }
        }
    }

    @Test func optionsAnswersCORSPreflight() async throws {
        let harness = harness()
        try await harness.app.test(.router) { client in
            try await client.execute(uri: "/whip/lobby", method: .options) { response in
                #expect(response.status == .noContent)
                #expect(response.headers[.accessControlAllowOrigin] == "*")
                #expect(response.headers[.accessControlAllowMethods]?.contains("POST") == true)
                #expect(response.headers[.accessControlAllowHeaders]?.contains("Authorization") == true)
                let exposed = response.headers[.accessControlExposeHeaders] ?? ""
                #expect(exposed.contains("Location") && exposed.contains("Link") && exposed.contains("ETag"))
                #expect(response.headers[HTTPField.Name("Accept-Post") ?? .accept] == "application/sdp")
            }
            try await client.execute(uri: "/whep/lobby/abc", method: .options) { response in
                #expect(response.status == .noContent)
                #expect(response.headers[.accessControlAllowMethods]?.contains("PATCH") == true)
                #expect(response.headers[HTTPField.Name("Accept-Patch") ?? .accept] == "application/trickle-ice-sdpfrag")
            }
        }
    }

    @Test func whepSubscribesToTheLatestOrNamedPublisher() async throws {
        let harness = harness()
        let auth = try await bearer()
        let subscriberOffer = try Fixtures.sdp("aiortc-whep-offer.sdp")
        try await harness.app.test(.router) { client in
            try await client.execute(uri: "/whep/lobby", method: .post, headers: sdpHeaders(auth), body: ByteBuffer(string: subscriberOffer)) { response in
                #expect(response.status == .notFound)
                #expect(problemCode(response.body) == "publisher_not_found")
            }
            let publisherLocation = try await client.execute(
                uri: "/whip/lobby", method: .post, headers: sdpHeaders(auth), body: ByteBuffer(string: try Fixtures.sdp("aiortc-whip-offer.sdp"))
            ) { $0.headers[.location] ?? "" }
            let publisherID = String(publisherLocation.split(separator: "/").last ?? "")
            for uri in ["/whep/lobby", "/whep/lobby/\(publisherID)"] {
                try await client.execute(uri: uri, method: .post, headers: sdpHeaders(auth), body: ByteBuffer(string: subscriberOffer)) { response in
                    #expect(response.status == .created)
                    #expect(response.headers[.location]?.hasPrefix("/whep/lobby/") == true)
                    let answer = try SessionDescription(parsing: String(buffer: response.body))
                    #expect(answer.media.map(\.direction) == [.sendonly, .sendonly])
                    #expect(answer.media[0].rtpmaps.map(\.payloadType) == [97, 98])
                    #expect(answer.media[0].ssrcs.map(\.ssrc) == [1000, 1000, 2000, 2000])
                    #expect(answer.media[0].msid?.streamID == publisherID)
                }
            }
            try await client.execute(uri: "/whep/lobby/unknown", method: .post, headers: sdpHeaders(auth), body: ByteBuffer(string: subscriberOffer)) { response in
                #expect(response.status == .notFound)
            }
        }
    }

    @Test func patchChecksETagUfragAndFragmentSyntax() async throws {
        let harness = harness()
        let auth = try await bearer()
        let other = try await bearer(identity: "bob")
        try await harness.app.test(.router) { client in
            let (location, etag) = try await client.execute(
                uri: "/whip/lobby", method: .post, headers: sdpHeaders(auth), body: ByteBuffer(string: try Fixtures.sdp("aiortc-whip-offer.sdp"))
            ) { ($0.headers[.location] ?? "", $0.headers[.eTag] ?? "") }
            func patch(_ body: String, ifMatch: String? = nil, authorization: String? = nil) async throws -> (HTTPResponse.Status, String?) {
                var headers = sdpHeaders(authorization ?? auth, type: "application/trickle-ice-sdpfrag")
                if let ifMatch { headers[.ifMatch] = ifMatch }
                return try await client.execute(uri: location, method: .patch, headers: headers, body: ByteBuffer(string: body)) {
                    ($0.status, problemCode($0.body))
                }
            }
            let good = "a=ice-ufrag:Wxw3\r\nm=audio 9 UDP/TLS/RTP/SAVPF 0\r\na=mid:1\r\na=end-of-candidates\r\n"
            #expect(try await patch(good, ifMatch: etag).0 == .noContent)
            #expect(try await patch(good, ifMatch: "\"stale\"") == (.preconditionFailed, "etag_mismatch"))
            #expect(try await patch(good, ifMatch: "*") == (.unprocessableContent, "ice_restart_unsupported"))
            #expect(try await patch("a=ice-ufrag:NEWU\r\na=ice-pwd:0123456789012345678901\r\n") == (.unprocessableContent, "ice_restart_unsupported"))
            #expect(try await patch("v=0\r\n") == (.badRequest, "bad_sdp"))
            #expect(try await patch("m=audio 9 UDP/TLS/RTP/SAVPF 0\r\na=candidate:garbage\r\n") == (.badRequest, "bad_sdp"))
            #expect(try await patch(good, authorization: other) == (.forbidden, "token_grant"))
        }
    }

    @Test func rateLimitAnswers429BeforeTheTokenCheck() async throws {
        let harness = harness(rateLimited: true)
        try await harness.app.test(.router) { client in
            try await client.execute(uri: "/whip/lobby", method: .post, headers: sdpHeaders(nil), body: ByteBuffer(string: "")) { response in
                #expect(response.status == .tooManyRequests)
                #expect(problemCode(response.body) == "rate_limited")
                #expect(response.headers[.retryAfter] == "42")
            }
        }
    }

    @Test func backendErrorsMapToStatuses() async throws {
        let harness = harness()
        await harness.backend.setFailPublish(MediaBackendError(.capacity, detail: "full"))
        let auth = try await bearer()
        try await harness.app.test(.router) { client in
            try await client.execute(
                uri: "/whip/lobby", method: .post, headers: sdpHeaders(auth), body: ByteBuffer(string: try Fixtures.sdp("aiortc-whip-offer.sdp"))
            ) { response in
                #expect(response.status == .serviceUnavailable)
                #expect(problemCode(response.body) == "capacity")
            }
            await harness.backend.setFailPublish(.redirect(to: "https://node2.example.net/whip/lobby"))
            try await client.execute(
                uri: "/whip/lobby", method: .post, headers: sdpHeaders(auth), body: ByteBuffer(string: try Fixtures.sdp("aiortc-whip-offer.sdp"))
            ) { response in
                #expect(response.status == .temporaryRedirect)
                #expect(response.headers[.location] == "https://node2.example.net/whip/lobby")
            }
            try await client.execute(uri: "/whip/bad%20room", method: .post, headers: sdpHeaders(auth), body: ByteBuffer(string: "")) { response in
                #expect(response.status == .badRequest)
                #expect(problemCode(response.body) == "bad_room")
            }
        }
    }
}
