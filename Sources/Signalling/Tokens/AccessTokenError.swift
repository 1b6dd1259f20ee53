/// Why a request's access token was refused (SPEC §3.4). The `code` is the problem+json `code`;
/// `status` is 401 for a missing or unusable token and 403 for a valid token that does not allow
/// the request.
public struct AccessTokenError: Error, Hashable, Sendable, CustomStringConvertible {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        public let description: String
        /// 401 or 403.
        public let status: Int
        private init(_ text: String, _ status: Int) {
            description = text
            self.status = status
        }

        /// 401: no `Authorization: Bearer` and anonymous access not allowed here.
        public static let missing = Code("token_missing", 401)
        /// 401: malformed, wrong signature, wrong algorithm, wrong issuer, or not yet valid.
        public static let invalid = Code("token_invalid", 401)
        /// 401: `exp` has passed.
        public static let expired = Code("token_expired", 401)
        /// 403: the token is for another room.
        public static let wrongRoom = Code("token_room", 403)
        /// 403: the token lacks the `publish`/`subscribe` grant, or the session belongs to someone else.
        public static let missingGrant = Code("token_grant", 403)
    }

    public var code: Code
    public var detail: String

    public init(_ code: Code, detail: String) {
        self.code = code
        self.detail = detail
    }

    public var status: Int { code.status }
    public var description: String { "AccessTokenError(\(code): \(detail))" }
}
