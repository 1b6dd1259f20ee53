import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import Storage

/// A REST error of the Signalling routes: `application/problem+json` with a stable `code`, the same
/// shape as Ops's `APIError` (SPEC §5). Ops's `ProblemMiddleware` renders and counts it.
public struct SignallingAPIError: Error, Sendable, HTTPResponseError {
    public var status: HTTPResponse.Status
    public var code: String
    public var detail: String
    public var retryAfterSeconds: Int?

    public init(_ status: HTTPResponse.Status, code: String, detail: String, retryAfterSeconds: Int? = nil) {
        self.status = status
        self.code = code
        self.detail = detail
        self.retryAfterSeconds = retryAfterSeconds
    }

    public var headers: HTTPFields {
        var fields = HTTPFields()
        fields[.contentType] = "application/problem+json"
        if status == .unauthorized { fields[.wwwAuthenticate] = "Bearer realm=\"commucat\"" }
        if let retryAfterSeconds { fields[.retryAfter] = "\(retryAfterSeconds)" }
        return fields
    }

    /// The RFC 9457 problem document.
    public var problemJSON: String {
        var object: [String: Any] = [:]
        object["type"] = "about:blank"
        object["title"] = status.reasonPhrase
        object["status"] = status.code
        object["code"] = code
        object["detail"] = detail
        return JSONBody.string(object)
    }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: problemJSON)))
    }

    static func badRequest(_ code: String = "bad_request", _ detail: String) -> Self { .init(.badRequest, code: code, detail: detail) }
    static func unauthorized(_ detail: String) -> Self { .init(.unauthorized, code: "unauthorized", detail: detail) }
    static func rateLimited(_ detail: String, retryAfter: Int) -> Self {
        .init(.tooManyRequests, code: "rate_limited", detail: detail, retryAfterSeconds: retryAfter)
    }
    static func storage(_ error: any Error) -> Self { .init(.internalServerError, code: "internal", detail: "storage failure") }
}

/// JSON bodies built from plain dictionaries (keys sorted, so responses are stable).
enum JSONBody {
    static func string(_ object: Any) -> String {
        guard JSONSerialization.isValidJSONObject(object),
            let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
        else { return "{}" }
        return String(decoding: data, as: UTF8.self)
    }

    static func response(_ object: Any, status: HTTPResponse.Status = .ok) -> Response {
        response(text: string(object), status: status)
    }

    /// A response whose body is already JSON text.
    static func response(text: String, status: HTTPResponse.Status = .ok) -> Response {
        Response(
            status: status, headers: [.contentType: "application/json", .cacheControl: "no-store"],
            body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    /// The request body as a JSON object, or a `bad_json` problem.
    static func object(from request: Request, context: some RequestContext, limit: Int = 64 * 1024) async throws -> [String: Any] {
        var request = request
        let buffer: ByteBuffer
        do {
            buffer = try await request.collectBody(upTo: limit)
        } catch {
            throw SignallingAPIError(.contentTooLarge, code: "body_too_large", detail: "request body exceeds \(limit) bytes")
        }
        guard let object = try? JSONSerialization.jsonObject(with: Data(buffer.readableBytesView)) as? [String: Any] else {
            throw SignallingAPIError.badRequest("bad_json", "body must be a JSON object")
        }
        return object
    }
}

extension Date {
    /// RFC 3339 with seconds, UTC.
    var rfc3339: String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.string(from: self)
    }
}

func remoteAddressString(_ context: some RemoteAddressRequestContext) -> String {
    context.remoteAddress?.ipAddress ?? "unknown"
}
