import CCP
import HTTPTypes
import Hummingbird
import Metrics

/// HTTP plumbing of the WHIP/WHEP routes: problem documents (RFC 9457, SPEC §5), CORS (Fetch
/// standard), and content types.
enum MediaHTTP {
    static let sdpType = "application/sdp"
    static let sdpFragmentType = "application/trickle-ice-sdpfrag"

    /// A problem+json response with a stable `code`, counted in `commucat_http_rejections_total`.
    static func problem(
        _ status: HTTPResponse.Status, code: String, detail: String, cors: MediaCORS, retryAfterSeconds: Int? = nil
    ) -> Response {
        Counter(label: "commucat_http_rejections_total", dimensions: [("code", code)]).increment()
        var json = "{\"type\":\"about:blank\",\"title\":"
        appendJSONString(status.reasonPhrase, to: &json)
        json += ",\"status\":\(status.code),\"code\":"
        appendJSONString(code, to: &json)
        json += ",\"detail\":"
        appendJSONString(detail, to: &json)
        json += "}"
        var headers = HTTPFields()
        headers[.contentType] = "application/problem+json"
        if status == .unauthorized {
            // RFC 6750 §3: the challenge for bearer tokens.
            headers[.wwwAuthenticate] = "Bearer realm=\"commucat\", error=\"invalid_token\""
        }
        // RFC 9110 §10.2.3: when a refused request may be tried again.
        if let retryAfterSeconds { headers[.retryAfter] = String(retryAfterSeconds) }
        cors.apply(to: &headers)
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: json)))
    }

    static func problem(_ error: AccessTokenError, cors: MediaCORS) -> Response {
        problem(error.status == 403 ? .forbidden : .unauthorized, code: error.code.description, detail: error.detail, cors: cors)
    }

    static func problem(_ error: SDPNegotiationError, cors: MediaCORS) -> Response {
        problem(error.code == .limitExceeded ? .forbidden : .badRequest, code: error.code.description, detail: error.detail, cors: cors)
    }

    static func problem(_ error: MediaBackendError, cors: MediaCORS) -> Response {
        if error.code == .redirect, let location = error.location {
            // RFC 9725 §4.5: WHIP endpoints may redirect with 307, which keeps method and body.
            var headers = HTTPFields()
            headers[.location] = location
            cors.apply(to: &headers)
            return Response(status: .temporaryRedirect, headers: headers)
        }
        let status: HTTPResponse.Status
        switch error.code {
        case .roomNotFound, .publisherNotFound, .sessionNotFound: status = .notFound
        case .capacity: status = .serviceUnavailable
        case .rejected: status = .badRequest
        case .limitExceeded: status = .forbidden
        default: status = .internalServerError
        }
        return problem(status, code: error.code.description, detail: error.detail, cors: cors)
    }

    /// `true` when the request's media type (parameters ignored, case-insensitive, RFC 9110 §8.3.1)
    /// is `expected`.
    static func hasContentType(_ request: Request, _ expected: String) -> Bool {
        guard let value = request.headers[.contentType] else { return false }
        let mediaType = value.split(separator: ";", maxSplits: 1).first.map { $0.filter { $0 != " " } } ?? ""
        return mediaType.lowercased() == expected
    }

    static func add(_ headers: inout HTTPFields, _ rawName: String, _ value: String) {
        if let name = HTTPField.Name(rawName) { headers.append(HTTPField(name: name, value: value)) }
    }

    /// RFC 8259 §7 string escaping.
    static func appendJSONString(_ text: String, to json: inout String) {
        JSONText.appendQuoted(text, to: &json)
    }
}

/// Cross-origin access for browser WHIP/WHEP clients (Fetch standard, CORS protocol).
public struct MediaCORS: Sendable, Hashable {
    /// `Access-Control-Allow-Origin`; `*` lets any page publish with a token it holds.
    public var allowOrigin: String
    public var maxAge: Int

    public init(allowOrigin: String = "*", maxAge: Int = 86400) {
        self.allowOrigin = allowOrigin
        self.maxAge = maxAge
    }

    /// Headers on every response so browsers can read Location, Link and ETag (RFC 9725 §4.2).
    func apply(to headers: inout HTTPFields) {
        headers[.accessControlAllowOrigin] = allowOrigin
        headers[.accessControlExposeHeaders] = "Location, Link, ETag, Accept-Patch, Accept-Post"
    }

    /// The preflight answer (RFC 9725 §4.2: OPTIONS must be answered for CORS).
    func preflight(methods: String, acceptPost: Bool, acceptPatch: Bool) -> Response {
        var headers = HTTPFields()
        apply(to: &headers)
        headers[.accessControlAllowMethods] = methods
        headers[.accessControlAllowHeaders] = "Authorization, Content-Type, If-Match"
        headers[.accessControlMaxAge] = String(maxAge)
        headers[.allow] = methods
        if acceptPost { MediaHTTP.add(&headers, "Accept-Post", MediaHTTP.sdpType) }
        if acceptPatch { MediaHTTP.add(&headers, "Accept-Patch", MediaHTTP.sdpFragmentType) }
        return Response(status: .noContent, headers: headers)
    }
}
