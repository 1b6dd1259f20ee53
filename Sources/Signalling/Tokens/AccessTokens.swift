import JWTKit

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Issues and verifies room access tokens: JWT HS256 (RFC 7519, RFC 7518 §3.2) signed with the
/// server's API secret, `iss` = API key (SPEC §3.4). Wall-clock time is always passed in.
public struct AccessTokens: Sendable {
    /// What a request needs the token to allow.
    public enum Grant: String, Hashable, Sendable {
        case publish, subscribe
    }

    /// Who a request acts as after authorization.
    public struct Principal: Hashable, Sendable {
        /// The token's `sub`, or `anonymous` for tokenless loopback requests.
        public var identity: String
        /// `nil` for anonymous requests.
        public var claims: AccessTokenClaims?

        public init(identity: String, claims: AccessTokenClaims?) {
            self.identity = identity
            self.claims = claims
        }

        public var isAnonymous: Bool { claims == nil }
    }

    /// Longest token accepted, in bytes (SPEC §10: limits on every input).
    public static let maximumTokenSize = 8192

    public let apiKey: String
    private let apiSecret: String
    /// Tolerance for clock differences on `exp` and `nbf` (RFC 7519 §4.1.4 allows "some small leeway").
    public let leeway: Duration

    public init(apiKey: String, apiSecret: String, leeway: Duration = .seconds(5)) {
        self.apiKey = apiKey
        self.apiSecret = apiSecret
        self.leeway = leeway
    }

    private func keys() async -> JWTKeyCollection {
        await JWTKeyCollection().add(hmac: HMACKey(from: apiSecret), digestAlgorithm: .sha256)
    }

    /// A signed token for `identity` in `room`, valid from `now` for `ttl`, with an optional
    /// display `name` claim.
    public func issue(
        identity: String, room: String, publish: Bool, subscribe: Bool, ttl: Duration, now: Date, name: String? = nil
    ) async throws -> String {
        let seconds = Double(ttl.components.seconds) + Double(ttl.components.attoseconds) / 1e18
        let claims = AccessTokenClaims(
            issuer: apiKey, identity: identity, room: room, publish: publish, subscribe: subscribe,
            notBefore: Date(timeIntervalSince1970: now.timeIntervalSince1970.rounded(.down)),
            expires: Date(timeIntervalSince1970: (now.timeIntervalSince1970 + seconds).rounded(.down)), name: name
        )
        return try await keys().sign(claims, header: ["typ": "JWT"])
    }

    /// Verifies `token` for `room` and `need` at `now`: signature (HS256 only), issuer, `nbf`,
    /// `exp`, room and grant, in that order.
    public func verify(_ token: String, room: String, need: Grant, now: Date) async throws(AccessTokenError) -> AccessTokenClaims {
        guard token.utf8.count <= Self.maximumTokenSize else { throw AccessTokenError(.invalid, detail: "token too large") }
        // RFC 8725 §3.1: accept only the expected algorithm; "none" and others are refused before
        // any key is consulted.
        guard let algorithm = Self.headerAlgorithm(token) else {
            throw AccessTokenError(.invalid, detail: "token is not a JWS compact serialization (RFC 7515 §7.1)")
        }
        guard algorithm == "HS256" else { throw AccessTokenError(.invalid, detail: "token algorithm \(algorithm) is not HS256") }
        let claims: AccessTokenClaims
        do {
            claims = try await keys().verify(token, as: AccessTokenClaims.self)
        } catch let error as JWTError where error.errorType == .signatureVerificationFailed {
            throw AccessTokenError(.invalid, detail: "token signature does not verify")
        } catch {
            throw AccessTokenError(.invalid, detail: "token is malformed or lacks required claims")
        }
        guard claims.iss.value == apiKey else { throw AccessTokenError(.invalid, detail: "token issuer is not this server's API key") }
        let slack = Double(leeway.components.seconds)
        if let notBefore = claims.nbf?.value, notBefore.timeIntervalSince1970 > now.timeIntervalSince1970 + slack {
            throw AccessTokenError(.invalid, detail: "token is not valid before \(Int64(notBefore.timeIntervalSince1970)) (nbf)")
        }
        guard claims.exp.value.timeIntervalSince1970 + slack > now.timeIntervalSince1970 else {
            throw AccessTokenError(.expired, detail: "token expired at \(Int64(claims.exp.value.timeIntervalSince1970)) (exp)")
        }
        guard claims.room == room else { throw AccessTokenError(.wrongRoom, detail: "token is for room \"\(claims.room)\", not \"\(room)\"") }
        switch need {
        case .publish where !claims.publish: throw AccessTokenError(.missingGrant, detail: "token does not grant publish")
        case .subscribe where !claims.subscribe: throw AccessTokenError(.missingGrant, detail: "token does not grant subscribe")
        default: return claims
        }
    }

    /// Authorizes a request from its `Authorization` header (RFC 6750 §2.1 `Bearer`). Without a
    /// header, `allowAnonymous` admits loopback peers only (SPEC §3.4 `auth.allow_anonymous`).
    public func authorize(
        authorization: String?, room: String, need: Grant, allowAnonymous: Bool, isLoopback: Bool, now: Date
    ) async throws(AccessTokenError) -> Principal {
        guard let authorization, !authorization.isEmpty else {
            if allowAnonymous && isLoopback { return Principal(identity: "anonymous", claims: nil) }
            throw AccessTokenError(.missing, detail: "Authorization: Bearer <token> is required")
        }
        guard let token = Self.bearerToken(authorization) else {
            throw AccessTokenError(.invalid, detail: "Authorization must be \"Bearer <token>\" (RFC 6750 §2.1)")
        }
        let claims = try await verify(token, room: room, need: need, now: now)
        return Principal(identity: claims.identity, claims: claims)
    }

    /// The token of `Bearer <token>` (scheme case-insensitive, RFC 9110 §11.1).
    static func bearerToken(_ header: String) -> String? {
        let parts = header.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else { return nil }
        let token = parts[1].drop { $0 == " " || $0 == "\t" }.reversed().drop { $0 == " " || $0 == "\t" }.reversed()
        guard !token.isEmpty, !token.contains(" "), !token.contains("\t") else { return nil }
        return String(token)
    }

    /// The `alg` of the JOSE header, or `nil` when the token is not three base64url segments with a
    /// JSON header.
    static func headerAlgorithm(_ token: String) -> String? {
        let segments = token.split(separator: ".", omittingEmptySubsequences: false)
        guard segments.count == 3, let data = base64URLDecode(segments[0]) else { return nil }
        struct Header: Decodable { var alg: String }
        return (try? JSONDecoder().decode(Header.self, from: data))?.alg
    }

    static func base64URLDecode(_ text: Substring) -> Data? {
        guard text.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }) else { return nil }
        var base64 = String(text.map { $0 == "-" ? "+" : $0 == "_" ? "/" : $0 })
        while base64.utf8.count % 4 != 0 { base64 += "=" }
        return Data(base64Encoded: base64)
    }
}
