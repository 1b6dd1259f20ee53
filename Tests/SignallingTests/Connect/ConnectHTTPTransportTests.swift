import AsyncHTTPClient
import CCP
import Foundation
import NIOCore
import NIOHTTP1
import Testing

@testable import Ops
@testable import Signalling

@Suite(.serialized) struct ConnectHTTPTransportTests {
    static let autoApprove = ["COMMUCAT_SERVER_AUTO_APPROVE_DEVICES": "true"]

    /// `POST /connect` over HTTPS with ALPN h2: request body streamed up, response body streamed down.
    @Test(arguments: [NoisePattern.xk, .ik])
    func http2Duplex(pattern: NoisePattern) async throws {
        try await withServer(environment: Self.autoApprove) { _, endpoints in
            var connection = try await clientConnection(endpoints, identity: .generate(), pattern: pattern, handle: "h2user")
            let (upstream, up) = AsyncStream.makeStream(of: ByteBuffer.self)
            var request = HTTPClientRequest(url: endpoints.https + "/connect")
            request.method = .POST
            request.headers.add(name: "Content-Type", value: "application/octet-stream")
            request.body = .stream(upstream, length: .unknown)
            up.yield(try connection.start())
            let response = try await insecureClient.execute(request, timeout: .seconds(30))
            #expect(response.version == .http2)
            #expect(response.status == .ok)
            #expect(response.headers.first(name: "content-type") == "application/octet-stream")
            var echoed = false
            var acked = false
            for try await chunk in response.body {
                let events = try connection.receive(chunk)
                if events.outgoing.readableBytes > 0 { up.yield(events.outgoing) }
                if events.ack != nil {
                    acked = true
                    up.yield(try connection.seal([CCPFrame(type: .keepalive, channelID: 0, sequence: 5, json: "{\"nonce\":\"h2\"}")]))
                }
                if events.frames.contains(where: { $0.type == .keepalive && String(buffer: $0.payload) == "{\"nonce\":\"h2\"}" }) {
                    echoed = true
                    up.finish()
                }
            }
            #expect(acked)
            #expect(echoed)
        }
    }

    /// `mode=long-poll`: upstream by `POST /connect/{id}`, downstream NDJSON by `GET /connect/{id}`.
    @Test func longPoll() async throws {
        try await withServer(environment: Self.autoApprove) { _, endpoints in
            var connection = try await clientConnection(endpoints, identity: .generate(), pattern: .xk, handle: "poller")
            let created = try await fetch(endpoints.http + "/connect?mode=long-poll", method: .POST)
            #expect(created.status == 201)
            let id = try #require(created.json["stream_id"] as? String)
            #expect(try await fetch(endpoints.http + "/connect/\(id)", method: .POST, body: try connection.start()).status == 204)
            var echoed = false
            for _ in 0..<10 where !echoed {
                let poll = try await fetch(endpoints.http + "/connect/\(id)")
                #expect(poll.status == 200)
                #expect(poll.headers.first(name: "content-type") == "application/x-ndjson")
                for line in poll.body.split(separator: "\n") {
                    let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
                    let data = try #require(Data(base64Encoded: object["data"] as? String ?? ""))
                    let bytes: ByteBuffer
                    if let type = object["type"] as? Int {
                        // A plaintext frame: rebuild its encoding.
                        let frame = CCPFrame(
                            type: try #require(CCPFrameType(rawValue: UInt8(type))), channelID: UInt32(object["channel"] as? Int ?? 0),
                            sequence: UInt32(object["sequence"] as? Int ?? 0), payload: ByteBuffer(bytes: data))
                        bytes = ConnectConnection.encode([frame])
                    } else {
                        #expect(object["type"] as? String == "units")
                        bytes = ByteBuffer(bytes: data)
                    }
                    let events = try connection.receive(bytes)
                    if events.outgoing.readableBytes > 0 {
                        #expect(try await fetch(endpoints.http + "/connect/\(id)", method: .POST, body: events.outgoing).status == 204)
                    }
                    if events.ack != nil {
                        let units = try connection.seal([CCPFrame(type: .keepalive, channelID: 0, sequence: 2, json: "{\"nonce\":\"lp\"}")])
                        #expect(try await fetch(endpoints.http + "/connect/\(id)", method: .POST, body: units).status == 204)
                    }
                    if events.frames.contains(where: { $0.type == .keepalive }) { echoed = true }
                }
            }
            #expect(echoed)
            #expect(try await fetch(endpoints.http + "/connect/unknown-stream").status == 404)
        }
    }

    /// `mode=sse`: `event: stream` names the id, frames arrive as `event: frame` with base64 data.
    @Test func serverSentEvents() async throws {
        try await withServer(environment: Self.autoApprove) { _, endpoints in
            var connection = try await clientConnection(endpoints, identity: .generate(), pattern: .ik, handle: "sse")
            var request = HTTPClientRequest(url: endpoints.http + "/connect?mode=sse")
            request.method = .POST
            let response = try await insecureClient.execute(request, timeout: .seconds(30))
            #expect(response.headers.first(name: "content-type") == "text/event-stream")
            var text = ""
            var id: String?
            var echoed = false
            bodyLoop: for try await chunk in response.body {
                text += String(buffer: chunk)
                while let end = text.range(of: "\n\n") {
                    let event = String(text[..<end.lowerBound])
                    text = String(text[end.upperBound...])
                    let fields = Dictionary(event.split(separator: "\n").compactMap { line -> (String, String)? in
                        guard let colon = line.firstIndex(of: ":") else { return nil }
                        return (String(line[..<colon]), String(line[line.index(after: colon)...]).trimmingCharacters(in: .whitespaces))
                    }, uniquingKeysWith: { $1 })
                    if fields["event"] == "stream" {
                        let object = try JSONSerialization.jsonObject(with: Data((fields["data"] ?? "").utf8)) as? [String: Any]
                        id = object?["stream_id"] as? String
                        _ = try await fetch(endpoints.http + "/connect/\(try #require(id))", method: .POST, body: try connection.start())
                    } else if fields["event"] == "frame", let id {
                        let events = try connection.receive(ByteBuffer(bytes: try #require(Data(base64Encoded: fields["data"] ?? ""))))
                        if events.outgoing.readableBytes > 0 {
                            // The encrypted confirmation (handshake revision 2).
                            _ = try await fetch(endpoints.http + "/connect/\(id)", method: .POST, body: events.outgoing)
                        }
                        if events.ack != nil {
                            let units = try connection.seal([CCPFrame(type: .keepalive, channelID: 0, sequence: 2, json: "{\"nonce\":\"sse\"}")])
                            _ = try await fetch(endpoints.http + "/connect/\(id)", method: .POST, body: units)
                        }
                        if events.frames.contains(where: { $0.type == .keepalive }) {
                            echoed = true
                            break bodyLoop
                        }
                    }
                }
            }
            #expect(id != nil)
            #expect(echoed)
        }
    }
}
