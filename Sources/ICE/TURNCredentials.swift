import Crypto

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Time-limited TURN credentials for coturn's `use-auth-secret` mode (SPEC §3.1, the "TURN REST
/// API" of draft-uberti-behave-turn-rest-00 §2.2): username `"<expiry unix time>:<identity>"`,
/// credential `base64(HMAC-SHA1(secret, username))`.
public struct TURNCredentials: Hashable, Sendable {
    public var username: String
    public var credential: String
    /// Unix time (seconds) after which the TURN server refuses the username.
    public var expiresAt: Int64

    public init(username: String, credential: String, expiresAt: Int64) {
        self.username = username
        self.credential = credential
        self.expiresAt = expiresAt
    }

    /// Credentials for `identity` valid for `ttl` from `now` (wall clock, injected).
    ///
    /// - Parameters:
    ///   - secret: the shared secret (coturn `static-auth-secret`), used as UTF-8 bytes.
    ///   - identity: who the credentials are for (a participant id); `:` is allowed after the
    ///     expiry since only the first `:` separates it.
    public static func make(secret: String, identity: String, ttl: Duration, now: Date) -> TURNCredentials {
        let seconds = ttl.components.seconds + (ttl.components.attoseconds > 0 ? 1 : 0)
        let expiry = Int64(now.timeIntervalSince1970.rounded(.down)) + seconds
        let username = "\(expiry):\(identity)"
        let mac = HMAC<Insecure.SHA1>.authenticationCode(
            for: Array(username.utf8), using: SymmetricKey(data: Array(secret.utf8))
        )
        return TURNCredentials(username: username, credential: Data(mac).base64EncodedString(), expiresAt: expiry)
    }
}

/// One ICE server entry as WebRTC's `RTCIceServer` expects it (`urls`, `username`, `credential`),
/// for the `/rtc` `joined` message (JSON) and WHIP/WHEP `Link` headers.
public struct ICEServerEntry: Hashable, Sendable, Codable {
    /// `stun:`/`turn:`/`turns:` URIs (RFC 7064, RFC 7065), e.g. `turn:turn.example.net:3478?transport=udp`.
    public var urls: [String]
    public var username: String?
    public var credential: String?

    public init(urls: [String], username: String? = nil, credential: String? = nil) {
        self.urls = urls
        self.username = username
        self.credential = credential
    }

    /// A TURN entry carrying `credentials`.
    public init(urls: [String], credentials: TURNCredentials) {
        self.init(urls: urls, username: credentials.username, credential: credentials.credential)
    }

    /// `Link` header values, one per URL (RFC 9725 §4.6, link syntax RFC 8288 §3):
    /// `<turn:host:3478?transport=udp>; rel="ice-server"; username="…"; credential="…";
    /// credential-type="password"`. STUN entries carry only `rel`.
    public var linkHeaderValues: [String] {
        urls.map { url in
            var value = "<\(url)>; rel=\"ice-server\""
            if let username, let credential {
                value += "; username=\(ICEServerEntry.quoted(username))"
                value += "; credential=\(ICEServerEntry.quoted(credential))"
                value += "; credential-type=\"password\""
            }
            return value
        }
    }

    /// RFC 9110 §5.6.4 quoted-string: backslash-escape `"` and `\`.
    static func quoted(_ text: String) -> String {
        var result = "\""
        for character in text {
            if character == "\"" || character == "\\" { result.append("\\") }
            result.append(character)
        }
        return result + "\""
    }
}
