import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// A server the load generator measures. Each call is one signalling exchange.
protocol SFUBenchTarget: Sendable {
    var name: String { get }
    /// Publishes `sections` (sendonly, with their SSRCs); returns where to send, the publisher
    /// id subscribers name, and the resource to close.
    func publish(room: String, identity: BenchSDP.Identity, sections: [BenchSDP.Section]) async throws
        -> (remote: LoadPeer.Remote, publisherID: String, resource: String)
    /// Subscribes to `publisherID` (audio, and video when `video`).
    func subscribe(room: String, publisherID: String, identity: BenchSDP.Identity, video: Bool) async throws
        -> (remote: LoadPeer.Remote, resource: String)
    func close(resource: String) async
}

/// CommuCat over WHIP/WHEP (SPEC §3.3), anonymous on loopback or with a token.
struct CommuCatTarget: SFUBenchTarget {
    let base: String
    let token: String?
    let client: HTTPClient
    var name: String { "commucat" }

    func publish(room: String, identity: BenchSDP.Identity, sections: [BenchSDP.Section]) async throws
        -> (remote: LoadPeer.Remote, publisherID: String, resource: String)
    {
        let (answer, location) = try await post("\(base)/whip/\(room)", BenchSDP.offer(identity, sections: sections))
        let id = location.split(separator: "/").last.map(String.init) ?? ""
        return (try BenchSDP.remote(fromAnswer: answer), id, location)
    }

    func subscribe(room: String, publisherID: String, identity: BenchSDP.Identity, video: Bool) async throws
        -> (remote: LoadPeer.Remote, resource: String)
    {
        var sections: [BenchSDP.Section] = []
        if video { sections.append(.init(kind: .video, sending: false)) }
        sections.append(.init(kind: .audio, sending: false))
        let (answer, location) = try await post("\(base)/whep/\(room)/\(publisherID)", BenchSDP.offer(identity, sections: sections))
        return (try BenchSDP.remote(fromAnswer: answer), location)
    }

    func close(resource: String) async {
        var request = HTTPClientRequest(url: resource.hasPrefix("http") ? resource : base + resource)
        request.method = .DELETE
        if let token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
        _ = try? await client.execute(request, timeout: .seconds(10))
    }

    private func post(_ url: String, _ sdp: String) async throws -> (answer: String, location: String) {
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/sdp")
        if let token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
        request.body = .bytes(ByteBuffer(string: sdp))
        let response = try await client.execute(request, timeout: .seconds(20))
        let body = String(buffer: try await response.body.collect(upTo: 1 << 20))
        guard response.status == .created, let location = response.headers.first(name: "Location") else {
            throw LoadPeerError("POST \(url) answered \(response.status.code): \(body.prefix(300))")
        }
        return (body, location)
    }
}
