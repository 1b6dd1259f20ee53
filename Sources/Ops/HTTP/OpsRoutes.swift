import Foundation
import HTTPTypes
import Hummingbird
import Metrics
import NIOCore

/// The state of one dependency, as `/readyz` reports it.
public struct ComponentHealth: Sendable, Equatable {
    public enum Status: String, Sendable { case up, down, disabled }
    public var status: Status
    public var backend: String
    public var detail: String?

    public init(status: Status, backend: String, detail: String? = nil) {
        self.status = status
        self.backend = backend
        self.detail = detail
    }
}

/// What `/readyz` asks: storage must be up; Redis being down degrades (presence falls back to local
/// memory) but does not make the server unready.
public struct ReadinessChecks: Sendable {
    public var storage: @Sendable () async -> ComponentHealth
    public var redis: @Sendable () async -> ComponentHealth

    public init(storage: @escaping @Sendable () async -> ComponentHealth, redis: @escaping @Sendable () async -> ComponentHealth) {
        self.storage = storage
        self.redis = redis
    }
}

/// `/healthz`, `/readyz`, `/metrics`, `/openapi.json` (SPEC §5).
struct OpsRoutes {
    let readiness: ReadinessChecks
    let adminToken: String?
    let openAPIJSON: ByteBuffer?
    let version: String

    func register(on router: Router<CommuCatRequestContext>) {
        router.get("/healthz") { _, _ in
            Self.json(.ok, "{\"status\":\"ok\",\"version\":\"\(version)\"}")
        }
        router.get("/readyz") { _, _ in
            await ready()
        }
        router.get("/metrics") { request, context in
            try authorizeAdmin(request, context)
            var headers = HTTPFields()
            headers[.contentType] = "text/plain; version=0.0.4; charset=utf-8"
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: CommuCatMetrics.exposition())))
        }
        router.get("/openapi.json") { _, _ in
            guard let openAPIJSON else {
                throw APIError(.internalServerError, code: "openapi_missing", detail: "the OpenAPI document is not installed beside the binary")
            }
            var headers = HTTPFields()
            headers[.contentType] = "application/json"
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: openAPIJSON))
        }
    }

    private func ready() async -> Response {
        async let storage = readiness.storage()
        async let redis = readiness.redis()
        let (s, r) = await (storage, redis)
        Gauge(label: "commucat_storage_up").record(s.status == .up ? 1 : 0)
        if r.status != .disabled { Gauge(label: "commucat_redis_up").record(r.status == .up ? 1 : 0) }
        let overall: String
        let status: HTTPResponse.Status
        if s.status != .up {
            overall = "unready"
            status = .serviceUnavailable
        } else if r.status == .down {
            overall = "degraded"
            status = .ok
        } else {
            overall = "ready"
            status = .ok
        }
        var body = "{\"status\":\"\(overall)\",\"checks\":{"
        body += "\"storage\":" + Self.render(s) + ",\"redis\":" + Self.render(r) + "}}"
        return Self.json(status, body)
    }

    /// `admin.token` set: a matching bearer token is required. Not set: trusted loopback requests only (``LoopbackTrust``).
    func authorizeAdmin(_ request: Request, _ context: CommuCatRequestContext) throws {
        try Self.authorizeAdmin(request, context, adminToken: adminToken)
    }

    static func authorizeAdmin(_ request: Request, _ context: CommuCatRequestContext, adminToken: String?) throws {
        if let adminToken {
            guard let header = request.headers[.authorization], header.hasPrefix("Bearer "),
                constantTimeEquals(String(header.dropFirst(7)), adminToken)
            else {
                throw APIError.unauthorized("an admin bearer token is required (admin.token)")
            }
        } else {
            try context.requireTrustedLoopback("admin endpoints answer only on loopback when admin.token is not set")
        }
    }

    static func render(_ h: ComponentHealth) -> String {
        var out = "{\"status\":\"\(h.status.rawValue)\",\"backend\":"
        appendJSONString(h.backend, to: &out)
        if let detail = h.detail {
            out += ",\"detail\":"
            appendJSONString(detail, to: &out)
        }
        return out + "}"
    }

    static func json(_ status: HTTPResponse.Status, _ body: String) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: body)))
    }
}

/// Compares secrets without an early exit, so timing does not reveal a matching prefix.
func constantTimeEquals(_ a: String, _ b: String) -> Bool {
    let x = Array(a.utf8)
    let y = Array(b.utf8)
    var diff = UInt8(x.count == y.count ? 0 : 1)
    for i in 0..<max(x.count, y.count) {
        diff |= (i < x.count ? x[i] : 0) ^ (i < y.count ? y[i] : 0)
    }
    return diff == 0
}
