import Foundation
import HTTPTypes
import Hummingbird
import Metrics
import Signalling

/// An HTTP API error with a stable `code` (SPEC §5: `application/problem+json` with a `code` field).
/// Thrown by routes; rendered once, here, at the edge.
public struct APIError: Error, Sendable {
    public var status: HTTPResponse.Status
    public var code: String
    public var detail: String

    public init(_ status: HTTPResponse.Status, code: String, detail: String) {
        self.status = status
        self.code = code
        self.detail = detail
    }

    public static func unauthorized(_ detail: String) -> APIError { .init(.unauthorized, code: "unauthorized", detail: detail) }
    public static func forbidden(_ detail: String) -> APIError { .init(.forbidden, code: "forbidden", detail: detail) }
    public static func notFound(_ detail: String) -> APIError { .init(.notFound, code: "not_found", detail: detail) }
    public static func badRequest(code: String = "bad_request", _ detail: String) -> APIError {
        .init(.badRequest, code: code, detail: detail)
    }

    /// The RFC 9457 problem document.
    func problemBody() -> ByteBuffer {
        var json = "{\"type\":\"about:blank\",\"title\":"
        appendJSONString(status.reasonPhrase, to: &json)
        json += ",\"status\":\(status.code),\"code\":"
        appendJSONString(code, to: &json)
        json += ",\"detail\":"
        appendJSONString(detail, to: &json)
        json += "}"
        return ByteBuffer(string: json)
    }

    func response() -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "application/problem+json"
        if status == .unauthorized { headers[.wwwAuthenticate] = "Bearer realm=\"commucat\"" }
        return Response(status: status, headers: headers, body: .init(byteBuffer: problemBody()))
    }
}

/// Turns every error a route throws into a problem document with a stable code, counts it in
/// `commucat_http_rejections_total{code}`, and counts every answered request by status.
struct ProblemMiddleware: RouterMiddleware {
    typealias Context = CommuCatRequestContext

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let response: Response
        do {
            response = try await next(request, context)
        } catch let error as APIError {
            response = Self.reject(error, request: request)
        } catch let error as SignallingAPIError {
            var translated = Self.reject(APIError(error.status, code: error.code, detail: error.detail), request: request)
            if let retry = error.retryAfterSeconds { translated.headers[.retryAfter] = "\(retry)" }
            response = translated
        } catch let error as HTTPError {
            response = Self.reject(Self.translate(error), request: request)
        } catch {
            context.logger.error("unhandled error", metadata: ["error": "\(error)", "path": "\(request.uri.path)"])
            response = Self.reject(APIError(.internalServerError, code: "internal", detail: "internal error"), request: request)
        }
        Counter(label: "commucat_http_requests_total", dimensions: [("method", request.method.rawValue), ("status", "\(response.status.code)")])
            .increment()
        return response
    }

    static func reject(_ error: APIError, request: Request) -> Response {
        Counter(label: "commucat_http_rejections_total", dimensions: [("code", error.code)]).increment()
        return error.response()
    }

    /// Hummingbird's own errors (no route, body too large, bad JSON) get stable codes too.
    static func translate(_ error: HTTPError) -> APIError {
        let detail = error.body ?? error.status.reasonPhrase
        switch error.status {
        case .notFound: return .init(.notFound, code: "not_found", detail: "no such endpoint")
        case .methodNotAllowed: return .init(.methodNotAllowed, code: "method_not_allowed", detail: detail)
        case .contentTooLarge: return .init(.contentTooLarge, code: "body_too_large", detail: "request body exceeds limits.max_body_bytes")
        case .badRequest: return .init(.badRequest, code: "bad_request", detail: detail)
        case .unauthorized: return .init(.unauthorized, code: "unauthorized", detail: detail)
        default: return .init(error.status, code: "http_\(error.status.code)", detail: detail)
        }
    }
}
