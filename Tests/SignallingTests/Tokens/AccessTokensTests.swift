import Foundation
import JWTKit
import Signalling
import Testing

@Suite struct AccessTokensTests {
    static let secret = "0123456789abcdef0123456789abcdef"
    let tokens = AccessTokens(apiKey: "APIkey1", apiSecret: Self.secret)
    let now = Date(timeIntervalSince1970: 1_800_000_000)

    func token(
        room: String = "lobby", publish: Bool = true, subscribe: Bool = false, ttl: Duration = .seconds(3600), at time: Date? = nil
    ) async throws -> String {
        try await tokens.issue(identity: "alice", room: room, publish: publish, subscribe: subscribe, ttl: ttl, now: time ?? now)
    }

    @Test func validTokenVerifies() async throws {
        let claims = try await tokens.verify(try await token(), room: "lobby", need: .publish, now: now.addingTimeInterval(60))
        #expect(claims.identity == "alice")
        #expect(claims.iss.value == "APIkey1")
        #expect(claims.room == "lobby")
        #expect(claims.publish && !claims.subscribe)
        #expect(claims.exp.value == now.addingTimeInterval(3600))
        #expect(claims.nbf?.value == now)
    }

    @Test func tokenCarriesTheSpecClaims() async throws {
        let parts = try await token().split(separator: ".")
        #expect(parts.count == 3)
        var base64 = parts[1].replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while base64.count % 4 != 0 { base64 += "=" }
        let json = try #require(Data(base64Encoded: base64))
        let object = try #require(try JSONSerialization.jsonObject(with: json) as? [String: Any])
        #expect(Set(object.keys) == ["iss", "sub", "exp", "nbf", "room", "publish", "subscribe"])
        #expect(object["exp"] as? Int == 1_800_003_600)
        #expect(object["publish"] as? Bool == true)
    }

    func expectFailure(_ code: AccessTokenError.Code, _ body: () async throws(AccessTokenError) -> Void) async {
        do {
            try await body()
            Issue.record("expected \(code)")
        } catch {
            #expect(error.code == code)
        }
    }

    @Test func expiredTokenIs401Expired() async throws {
        let token = try await token(ttl: .seconds(60))
        await expectFailure(.expired) { () async throws(AccessTokenError) in
            _ = try await tokens.verify(token, room: "lobby", need: .publish, now: now.addingTimeInterval(120))
        }
        #expect(AccessTokenError.Code.expired.status == 401)
    }

    @Test func notYetValidTokenIsInvalid() async throws {
        let token = try await token(at: now.addingTimeInterval(600))
        await expectFailure(.invalid) { () async throws(AccessTokenError) in
            _ = try await tokens.verify(token, room: "lobby", need: .publish, now: now)
        }
    }

    @Test func wrongRoomIs403() async throws {
        let token = try await token(room: "other")
        await expectFailure(.wrongRoom) { () async throws(AccessTokenError) in
            _ = try await tokens.verify(token, room: "lobby", need: .publish, now: now)
        }
        #expect(AccessTokenError.Code.wrongRoom.status == 403)
    }

    @Test func missingGrantIs403() async throws {
        let token = try await token(publish: false, subscribe: true)
        await expectFailure(.missingGrant) { () async throws(AccessTokenError) in
            _ = try await tokens.verify(token, room: "lobby", need: .publish, now: now)
        }
        _ = try await tokens.verify(token, room: "lobby", need: .subscribe, now: now)
    }

    @Test func wrongSecretOrIssuerIsInvalid() async throws {
        let forged = try await AccessTokens(apiKey: "APIkey1", apiSecret: "another-secret-another-secret-xx").issue(
            identity: "mallory", room: "lobby", publish: true, subscribe: true, ttl: .seconds(60), now: now
        )
        await expectFailure(.invalid) { () async throws(AccessTokenError) in
            _ = try await tokens.verify(forged, room: "lobby", need: .publish, now: now)
        }
        let otherIssuer = try await AccessTokens(apiKey: "someone-else", apiSecret: Self.secret).issue(
            identity: "mallory", room: "lobby", publish: true, subscribe: true, ttl: .seconds(60), now: now
        )
        await expectFailure(.invalid) { () async throws(AccessTokenError) in
            _ = try await tokens.verify(otherIssuer, room: "lobby", need: .publish, now: now)
        }
    }

    @Test func algNoneIsRefused() async throws {
        func segment(_ json: String) -> String {
            Data(json.utf8).base64EncodedString().replacingOccurrences(of: "=", with: "")
                .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
        }
        let claims = "{\"iss\":\"APIkey1\",\"sub\":\"m\",\"exp\":1900000000,\"room\":\"lobby\",\"publish\":true,\"subscribe\":true}"
        for header in ["{\"alg\":\"none\",\"typ\":\"JWT\"}", "{\"alg\":\"HS512\"}", "{\"alg\":\"NONE\"}"] {
            let token = segment(header) + "." + segment(claims) + "."
            await expectFailure(.invalid) { () async throws(AccessTokenError) in
                _ = try await tokens.verify(token, room: "lobby", need: .publish, now: now)
            }
        }
        // A real signature under the right key but a header claiming "none" is still refused.
        let genuine = try await token().split(separator: ".")
        let relabelled = segment("{\"alg\":\"none\"}") + "." + genuine[1] + "." + genuine[2]
        await expectFailure(.invalid) { () async throws(AccessTokenError) in
            _ = try await tokens.verify(relabelled, room: "lobby", need: .publish, now: now)
        }
    }

    @Test func garbageIsInvalidNeverACrash() async {
        for garbage in ["", ".", "..", "a.b.c", "eyJ.eyJ.sig", String(repeating: "A", count: 10_000), "€.€.€"] {
            await expectFailure(.invalid) { () async throws(AccessTokenError) in
                _ = try await tokens.verify(garbage, room: "lobby", need: .publish, now: now)
            }
        }
    }

    @Test func authorizeHandlesBearerAndAnonymous() async throws {
        let token = try await token()
        let principal = try await tokens.authorize(
            authorization: "Bearer \(token)", room: "lobby", need: .publish, allowAnonymous: false, isLoopback: false, now: now
        )
        #expect(principal.identity == "alice")
        #expect(!principal.isAnonymous)
        let lower = try await tokens.authorize(
            authorization: "bearer  \(token) ", room: "lobby", need: .publish, allowAnonymous: false, isLoopback: false, now: now
        )
        #expect(lower.identity == "alice")
        await expectFailure(.missing) { () async throws(AccessTokenError) in
            _ = try await tokens.authorize(authorization: nil, room: "lobby", need: .publish, allowAnonymous: false, isLoopback: true, now: now)
        }
        await expectFailure(.missing) { () async throws(AccessTokenError) in
            _ = try await tokens.authorize(authorization: nil, room: "lobby", need: .publish, allowAnonymous: true, isLoopback: false, now: now)
        }
        let anonymous = try await tokens.authorize(
            authorization: nil, room: "lobby", need: .publish, allowAnonymous: true, isLoopback: true, now: now
        )
        #expect(anonymous.isAnonymous)
        await expectFailure(.invalid) { () async throws(AccessTokenError) in
            _ = try await tokens.authorize(
                authorization: "Basic dXNlcjpwYXNz", room: "lobby", need: .publish, allowAnonymous: true, isLoopback: true, now: now
            )
        }
    }
}
