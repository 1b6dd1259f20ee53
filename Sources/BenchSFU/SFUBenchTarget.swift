import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// A server the load generator measures. Each call is one signalling exchange.
protocol SFUBenchTarget: Sendable {
    var name: String { get }
    /// Publishes with `offer`; returns the answer, the publisher id subscribers name, and the
    /// resource to delete.
    func publish(room: String, offer: String) async throws -> (answer: String, publisherID: String, resource: String)
    /// Subscribes to `publisherID` with a recvonly `offer`; returns the answer and the resource.
    func subscribe(room: String, publisherID: String, offer: String) async throws -> (answer: String, resource: String)
    func close(resource: String) async
}

/// CommuCat over WHIP/WHEP (SPEC §3.3), anonymous on loopback or with a token.
struct CommuCatTarget: SFUBenchTarget {
    let base: String
    let token: String?
    let client: HTTPClient
    var name: String { "commucat" }

    func publish(room: String, offer: String) async throws -> (answer: String, publisherID: String, resource: String) {
        let (answer, location) = try await post("\(base)/whip/\(room)", offer)
        let id = location.split(separator: "/").last.map(String.init) ?? ""
        return (answer, id, location)
    }

    func subscribe(room: String, publisherID: String, offer: String) async throws -> (answer: String, resource: String) {
        let (answer, location) = try await post("\(base)/whep/\(room)/\(publisherID)", offer)
        return (answer, location)
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
