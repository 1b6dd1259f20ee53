import AsyncHTTPClient
import Foundation
import NIOCore

/// Janus VideoRoom over its HTTP API (long-poll events), the peer SFU of the benchmark
/// (/work/shared/PEERS.md): one Janus session, a plugin handle per peer connection; publishers
/// `joinandconfigure` with our offer, subscribers `join` and get Janus's offer, then `start` with
/// our answer. The room is created on first use.
actor JanusTarget: SFUBenchTarget {
    nonisolated let name = "janus"
    let base: String
    let client: HTTPClient
    private var session: Int?
    private var rooms: Set<Int> = []
    private var transaction = 0

    init(base: String, client: HTTPClient) {
        self.base = base
        self.client = client
    }

    func publish(room: String, identity: BenchSDP.Identity, sections: [BenchSDP.Section]) async throws
        -> (remote: LoadPeer.Remote, publisherID: String, resource: String)
    {
        let session = try await ensureSession()
        let roomID = try await ensureRoom(room, session: session)
        let handle = try await attach(session: session)
        let offer = BenchSDP.offer(identity, sections: sections)
        let event = try await request(
            session: session, handle: handle,
            body: ["request": "joinandconfigure", "ptype": "publisher", "room": roomID, "display": "bench"],
            jsep: ["type": "offer", "sdp": offer])
        guard let jsep = event["jsep"] as? [String: Any], let answer = jsep["sdp"] as? String else {
            throw LoadPeerError("janus: publisher join without an answer: \(event)")
        }
        let data = (event["plugindata"] as? [String: Any])?["data"] as? [String: Any]
        guard let id = (data?["id"] as? NSNumber)?.intValue else { throw LoadPeerError("janus: no publisher id in \(event)") }
        try await trickleCompleted(session: session, handle: handle)
        Self.debug("publisher offer:\n\(offer)\njanus answer:\n\(answer)")
        return (try BenchSDP.remote(fromAnswer: answer), String(id), "\(handle)")
    }

    func subscribe(room: String, publisherID: String, identity: BenchSDP.Identity, video: Bool) async throws
        -> (remote: LoadPeer.Remote, resource: String)
    {
        let session = try await ensureSession()
        let roomID = try await ensureRoom(room, session: session)
        let handle = try await attach(session: session)
        let feed = Int(publisherID) ?? 0
        let event = try await request(
            session: session, handle: handle,
            body: ["request": "join", "ptype": "subscriber", "room": roomID, "streams": [["feed": feed]]], jsep: nil)
        guard let jsep = event["jsep"] as? [String: Any], let offer = jsep["sdp"] as? String else {
            throw LoadPeerError("janus: subscriber join without an offer: \(event)")
        }
        let (answer, remote) = try BenchSDP.answer(to: offer, identity)
        _ = try await request(
            session: session, handle: handle, body: ["request": "start"], jsep: ["type": "answer", "sdp": answer])
        try await trickleCompleted(session: session, handle: handle)
        return (remote, "\(handle)")
    }

    func close(resource: String) async {
        guard let session, let handle = Int(resource) else { return }
        _ = try? await post("\(base)/\(session)/\(handle)", ["janus": "detach"])
    }

    /// `COMMUCAT_BENCH_DEBUG=1` prints the SDP exchanged with Janus.
    static func debug(_ text: String) {
        guard ProcessInfo.processInfo.environment["COMMUCAT_BENCH_DEBUG"] == "1" else { return }
        FileHandle.standardError.write(Data((text + "\n").utf8))
    }

    // MARK: Janus API

    private func ensureSession() async throws -> Int {
        if let session { return session }
        let reply = try await post(base, ["janus": "create"])
        guard let id = ((reply["data"] as? [String: Any])?["id"] as? NSNumber)?.intValue else {
            throw LoadPeerError("janus: create answered \(reply)")
        }
        session = id
        return id
    }

    private func attach(session: Int) async throws -> Int {
        let reply = try await post("\(base)/\(session)", ["janus": "attach", "plugin": "janus.plugin.videoroom"])
        guard let id = ((reply["data"] as? [String: Any])?["id"] as? NSNumber)?.intValue else {
            throw LoadPeerError("janus: attach answered \(reply)")
        }
        return id
    }

    /// Janus room ids are numbers: a stable hash of the name.
    private func ensureRoom(_ room: String, session: Int) async throws -> Int {
        let id = Int(room.utf8.reduce(UInt32(2_166_136_261)) { ($0 ^ UInt32($1)) &* 16_777_619 } & 0x3FFF_FFFF) + 1
        if rooms.contains(id) { return id }
        let handle = try await attach(session: session)
        let reply = try await post(
            "\(base)/\(session)/\(handle)",
            [
                "janus": "message",
                "body": ["request": "create", "room": id, "publishers": 100, "bitrate": 0, "audiolevel_event": false] as [String: Any],
            ])
        let data = (reply["plugindata"] as? [String: Any])?["data"] as? [String: Any]
        guard data?["videoroom"] as? String == "created" || (data?["error_code"] as? NSNumber)?.intValue == 427 else {
            throw LoadPeerError("janus: room create answered \(reply)")
        }
        rooms.insert(id)
        return id
    }

    /// An asynchronous plugin request: `ack`, then the handle's event from the long poll.
    private func request(session: Int, handle: Int, body: [String: Any], jsep: [String: Any]?) async throws -> [String: Any] {
        var message: [String: Any] = ["janus": "message", "body": body]
        if let jsep { message["jsep"] = jsep }
        let reply = try await post("\(base)/\(session)/\(handle)", message)
        if reply["janus"] as? String == "success" { return reply }
        guard reply["janus"] as? String == "ack" else { throw LoadPeerError("janus: \(body["request"] ?? "") answered \(reply)") }
        for _ in 0..<40 {
            for event in try await poll(session: session) {
                guard (event["sender"] as? NSNumber)?.intValue == handle, event["janus"] as? String == "event" else { continue }
                let data = (event["plugindata"] as? [String: Any])?["data"] as? [String: Any]
                if let error = data?["error"] as? String { throw LoadPeerError("janus: \(error)") }
                return event
            }
        }
        throw LoadPeerError("janus: no event for \(body["request"] ?? "") within 40 polls")
    }

    private func trickleCompleted(session: Int, handle: Int) async throws {
        _ = try await post("\(base)/\(session)/\(handle)", ["janus": "trickle", "candidate": ["completed": true]])
    }

    private func poll(session: Int) async throws -> [[String: Any]] {
        var request = HTTPClientRequest(url: "\(base)/\(session)?maxev=10")
        request.method = .GET
        let response = try await client.execute(request, timeout: .seconds(40))
        let body = try await response.body.collect(upTo: 4 << 20)
        let parsed = try JSONSerialization.jsonObject(with: Data(body.readableBytesView))
        if let list = parsed as? [[String: Any]] { return list }
        if let single = parsed as? [String: Any] { return single["janus"] as? String == "keepalive" ? [] : [single] }
        return []
    }

    private func post(_ url: String, _ object: [String: Any]) async throws -> [String: Any] {
        transaction += 1
        var message = object
        message["transaction"] = "t\(transaction)"
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.body = .bytes(ByteBuffer(bytes: try JSONSerialization.data(withJSONObject: message)))
        let response = try await client.execute(request, timeout: .seconds(20))
        let body = try await response.body.collect(upTo: 4 << 20)
        guard let reply = try JSONSerialization.jsonObject(with: Data(body.readableBytesView)) as? [String: Any] else {
            throw LoadPeerError("janus: \(url) answered \(String(buffer: body).prefix(200))")
        }
        if reply["janus"] as? String == "error" { throw LoadPeerError("janus: \(reply)") }
        return reply
    }
}
