import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// Which loopback requests are trusted as the operator's (docs/SECURITY.md, "Loopback trust").
/// Without `admin.token`, `/metrics` and `/api/rooms` answer loopback peers, and `/api/dev/token`
/// only ever answers them. A TCP peer of 127.0.0.1 is not enough: with DNS rebinding a web page at
/// `http://attacker.example:8080` reaches the loopback listener from the victim's browser, and a
/// reverse proxy on the same host makes every request loopback. So a loopback request is trusted
/// only when its `Host` (`:authority`) and its `Origin` (when present) name this server —
/// `localhost` (and `*.localhost`), a loopback IP literal, `server.domain` or a listen host — and
/// it carries no proxy header (`Forwarded`, `X-Forwarded-For`, `X-Forwarded-Host`, `X-Real-IP`).
/// A request without `Host` (not a browser) is judged by its peer address alone.
public struct LoopbackTrust: Sendable {
    public enum Verdict: Equatable, Sendable {
        case trusted
        /// `Host` or `Origin` names another site (the header value, for the error detail).
        case hostNotAllowed(String)
        /// Forwarded by a proxy: the loopback peer is the proxy, not the operator.
        case proxied
    }

    /// Lower-case host names (IPv6 without brackets).
    let names: Set<String>

    init(config: CommuCatConfig) {
        var names: [String] = [config.domain]
        if config.httpEnabled { names.append(config.httpListen.host) }
        if config.httpsEnabled { names.append(config.httpsListen.host) }
        self.init(names: names)
    }

    init(names: [String]) {
        var set: Set<String> = ["localhost", "127.0.0.1", "::1"]
        for name in names {
            let host = name.lowercased()
            // A wildcard bind address is not a name a browser would use for this server.
            if host == "0.0.0.0" || host == "::" || host.isEmpty { continue }
            set.insert(host)
        }
        self.names = set
    }

    private static let proxyHeaders: [HTTPField.Name] = [
        .init("Forwarded"), .init("X-Forwarded-For"), .init("X-Forwarded-Host"), .init("X-Real-IP"),
    ].compactMap { $0 }

    /// The verdict for a request from a loopback peer.
    public func verdict(for request: HTTPRequest) -> Verdict {
        if Self.proxyHeaders.contains(where: { request.headerFields[$0] != nil }) { return .proxied }
        if let authority = request.authority {
            guard let host = Self.hostName(ofAuthority: authority), allows(host) else { return .hostNotAllowed(authority) }
        }
        if let origin = request.headerFields[.origin] {
            guard let host = Self.hostName(ofOrigin: origin), allows(host) else { return .hostNotAllowed(origin) }
        }
        return .trusted
    }

    func allows(_ host: String) -> Bool {
        names.contains(host) || host.hasSuffix(".localhost") || CommuCatConfig.isLoopbackHost(host)
    }

    /// `Example.COM.:8080` → `example.com`, `[::1]:8443` → `::1`; nil when malformed.
    static func hostName(ofAuthority authority: String) -> String? {
        var text = Substring(authority.lowercased())
        if let at = text.lastIndex(of: "@") { text = text[text.index(after: at)...] }
        let host: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { return nil }
            host = text[text.index(after: text.startIndex)..<close]
            let rest = text[text.index(after: close)...]
            guard rest.isEmpty || (rest.hasPrefix(":") && rest.dropFirst().allSatisfy(\.isNumber)) else { return nil }
        } else if let colon = text.firstIndex(of: ":") {
            guard text[text.index(after: colon)...].allSatisfy(\.isNumber) else { return nil }
            host = text[..<colon]
        } else {
            host = text
        }
        var name = String(host)
        while name.hasSuffix(".") { name.removeLast() }
        guard !name.isEmpty, !name.contains(where: { $0.isWhitespace || $0 == "/" }) else { return nil }
        return name
    }

    /// `http://127.0.0.1:8080` → `127.0.0.1`; nil for `null` or a malformed origin.
    static func hostName(ofOrigin origin: String) -> String? {
        guard let schemeEnd = origin.range(of: "://") else { return nil }
        let rest = origin[schemeEnd.upperBound...]
        let authority = rest.prefix { $0 != "/" && $0 != "?" && $0 != "#" }
        return hostName(ofAuthority: String(authority))
    }
}

/// Records the ``LoopbackTrust`` verdict of every request from a loopback peer in its context
/// (``CommuCatRequestContext/isLoopback`` is true only for a trusted one).
struct LoopbackTrustMiddleware: RouterMiddleware {
    typealias Context = CommuCatRequestContext
    let trust: LoopbackTrust

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        if context.peerIsLoopback { context.loopbackVerdict = trust.verdict(for: request.head) }
        return try await next(request, context)
    }
}
