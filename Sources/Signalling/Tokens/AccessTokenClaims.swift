import JWTKit

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The claims of a room access token (SPEC §3.4): `iss` (API key), `sub` (identity), `exp`, `nbf`,
/// `room`, `publish`, `subscribe`. Time claims are checked by ``AccessTokens`` against an injected
/// clock, not here, so `verify(using:)` only runs after the signature check and does nothing more.
public struct AccessTokenClaims: JWTPayload, Hashable {
    public var iss: IssuerClaim
    public var sub: SubjectClaim
    public var exp: ExpirationClaim
    /// Optional on input (tokens minted elsewhere may omit it); always written by ``AccessTokens``.
    public var nbf: NotBeforeClaim?
    public var room: String
    public var publish: Bool
    public var subscribe: Bool
    /// Optional display name for `/rtc` (`participant_joined.name`); without it the client's
    /// `?name=` is used, then the identity (docs/ROOMS.md).
    public var name: String?

    public init(
        issuer: String, identity: String, room: String, publish: Bool, subscribe: Bool, notBefore: Date, expires: Date,
        name: String? = nil
    ) {
        iss = IssuerClaim(value: issuer)
        sub = SubjectClaim(value: identity)
        exp = ExpirationClaim(value: expires)
        nbf = NotBeforeClaim(value: notBefore)
        self.room = room
        self.publish = publish
        self.subscribe = subscribe
        self.name = name
    }

    public func verify(using algorithm: some JWTAlgorithm) async throws {}

    public var identity: String { sub.value }

    public static func == (lhs: Self, rhs: Self) -> Bool {
        lhs.iss.value == rhs.iss.value && lhs.sub.value == rhs.sub.value && lhs.exp.value == rhs.exp.value
            && lhs.nbf?.value == rhs.nbf?.value && lhs.room == rhs.room && lhs.publish == rhs.publish
            && lhs.subscribe == rhs.subscribe && lhs.name == rhs.name
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(iss.value)
        hasher.combine(sub.value)
        hasher.combine(room)
    }
}
