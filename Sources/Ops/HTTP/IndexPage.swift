import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// `GET /`: the demo call page (`Resources/demo.html`, the `/rtc` room client), or a plain page
/// that links the endpoints if the resource bundle lacks it.
struct IndexPage {
    let config: CommuCatConfig

    static func demoPage() -> String? {
        let url = Bundle.module.url(forResource: "demo", withExtension: "html", subdirectory: "Resources")
            ?? Bundle.module.url(forResource: "demo", withExtension: "html")
            ?? [Bundle.module.bundleURL, Bundle.module.resourceURL].compactMap { $0?.appendingPathComponent("Resources/demo.html") }
            .first { FileManager.default.fileExists(atPath: $0.path) }
        return url.flatMap { try? String(contentsOf: $0, encoding: .utf8) }
    }

    func register(on router: Router<CommuCatRequestContext>) {
        let html = """
            <!doctype html>
            <html lang="en"><head><meta charset="utf-8"><title>CommuCat</title>
            <style>body{font-family:system-ui,sans-serif;max-width:40rem;margin:3rem auto;line-height:1.5}code{background:#eee;padding:0 .2em}</style>
            </head><body>
            <h1>CommuCat \(CommuCatServer.version)</h1>
            <p>Self-hosted SFU appliance with Noise-secured signalling, serving <code>\(config.domain)</code>.</p>
            <ul>
            <li><a href="/healthz">/healthz</a> — liveness</li>
            <li><a href="/readyz">/readyz</a> — storage and Redis readiness</li>
            <li><a href="/metrics">/metrics</a> — Prometheus metrics (loopback or admin token)</li>
            <li><a href="/openapi.json">/openapi.json</a> — the HTTP API</li>
            </ul>
            <p>The demo call page is not part of this build yet; see the feature table in README.md.</p>
            </body></html>
            """
        let page = Self.demoPage() ?? html
        router.get("/") { _, _ in
            var headers = HTTPFields()
            headers[.contentType] = "text/html; charset=utf-8"
            headers[.cacheControl] = "no-cache"
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: page)))
        }
    }
}
