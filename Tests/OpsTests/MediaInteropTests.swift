import Foundation
import Testing

@testable import Ops

/// The SFU as WebRTC clients use it: the real `commucat serve` binary, aiortc publishers and
/// subscribers (Tests/Interop), WHIP/WHEP over HTTP and media over the loopback UDP port.
///
/// Every wait is bounded: each client is a process with its own time limit and a kill deadline.
/// The suites that run real WebRTC peers (aiortc, Chromium) one after the other: on a 2-core machine
/// a browser test and an aiortc fan-out test running at once starve each other's encoders.
@Suite(.serialized) enum PeerInteropTests {}

typealias MediaInteropTests = PeerInteropTests.MediaInteropTests

extension PeerInteropTests {
@Suite(.serialized) struct MediaInteropTests {
    /// A running server with tokens for one room.
    struct Node {
        let server: ServerProcess
        let base: String
        let mediaPort: Int
        let data: URL
        let environment: [String: String]

        func token(room: String, identity: String, publish: Bool, subscribe: Bool) async throws -> String {
            var arguments = ["token", "--room", room, "--identity", identity, "--ttl", "10m"]
            if publish { arguments.append("--publish") }
            if subscribe { arguments.append("--subscribe") }
            let binary = try #require(CommucatProcessTests.binary)
            let result = try await runProcess(binary, arguments, environment: environment, timeout: .seconds(30))
            #expect(result.status == 0, "commucat token: \(result.stderr)")
            return result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        }

        func metric(_ name: String) async throws -> Double {
            let body = try await fetch("\(base)/metrics").body
            return body.split(separator: "\n").filter { $0.hasPrefix(name) }.reduce(0) { sum, line in
                sum + (line.split(separator: " ").last.flatMap { Double($0) } ?? 0)
            }
        }

        func stop() async throws {
            let status = try await server.terminate(signal: SIGTERM, timeout: .seconds(20))
            #expect(status == 0, "exit \(status); stderr: \(server.stderr.suffix(2000))")
            try? FileManager.default.removeItem(at: data)
        }
    }

    static var python: String? {
        let path = ProcessInfo.processInfo.environment["COMMUCAT_TEST_PYTHON"] ?? ".build/venv/bin/python3"
        return FileManager.default.isExecutableFile(atPath: path) ? path : nil
    }

    static let interopDirectory: String = {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Interop").path
    }()

    /// Starts a server, or returns nil (recording an issue in CI) when the binary or Python is missing.
    func startNode(extra: [String: String] = [:]) async throws -> Node? {
        guard let binary = CommucatProcessTests.binary, Self.python != nil else {
            if isCI { Issue.record("needs COMMUCAT_BIN and COMMUCAT_TEST_PYTHON (aiortc)") }
            return nil
        }
        let data = try makeTemporaryDirectory()
        let env = try CommucatProcessTests.environment(data: data, extra: extra)
        let server = try ServerProcess(binary: binary, arguments: ["serve"], environment: env)
        let port = env["COMMUCAT_HTTP_LISTEN"]?.split(separator: ":").last.map(String.init) ?? "0"
        let base = "http://127.0.0.1:\(port)"
        let healthy = try await server.waitForHTTP("\(base)/healthz", timeout: .seconds(60))
        try #require(healthy, "server never became healthy: \(server.stderr)")
        let mediaPort = Int(env["COMMUCAT_MEDIA_UDP_LISTEN"]?.split(separator: ":").last ?? "0") ?? 0
        return Node(server: server, base: base, mediaPort: mediaPort, data: data, environment: env)
    }

    /// Runs an interop script in the background; `result()` waits (bounded) and parses its JSON line.
    struct Client {
        let process: ServerProcess
        let name: String

        init(_ script: String, _ arguments: [String], name: String) throws {
            let python = try #require(MediaInteropTests.python)
            process = try ServerProcess(
                binary: python, arguments: ["\(MediaInteropTests.interopDirectory)/\(script)"] + arguments,
                environment: ProcessInfo.processInfo.environment)
            self.name = name
        }

        func result(timeout: Duration = .seconds(90)) async throws -> (status: Int32, json: [String: Any]) {
            let status = try await process.waitForExit(timeout: timeout)
            let output = try await process.collectedOutput()
            let line = output.stdout.split(separator: "\n").last.map(String.init) ?? ""
            let json = (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any]
            if json == nil { Issue.record("\(name): no JSON summary; stdout: \(output.stdout) stderr: \(output.stderr.suffix(3000))") }
            return (status, json ?? [:])
        }
    }

    static func number(_ json: [String: Any], _ key: String) -> Double {
        (json[key] as? NSNumber)?.doubleValue ?? -1
    }

    /// Waits until the publisher's session exists (its transport counted), bounded.
    func waitForPublisher(_ node: Node, transports: Double = 1) async throws {
        for _ in 0..<100 {
            if try await node.metric("commucat_sfu_active_transports") >= transports { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        Issue.record("the publisher's transport never appeared")
    }

    /// Tokens for `room` and a WHIP publisher sending `codec` for `seconds`, once its transport exists.
    func startPublisher(_ node: Node, room: String, codec: String, seconds: Int) async throws
        -> (publisher: Client, subscribeToken: String)
    {
        let publishToken = try await node.token(room: room, identity: "alice", publish: true, subscribe: false)
        let subscribeToken = try await node.token(room: room, identity: "bob", publish: false, subscribe: true)
        let publisher = try Client(
            "whip_publish.py", ["\(node.base)/whip/\(room)", publishToken, "--seconds", "\(seconds)", "--codec", codec],
            name: "publisher")
        try await waitForPublisher(node)
        return (publisher, subscribeToken)
    }

    // MARK: Fan-out

    @Test(arguments: ["vp8", "h264"])
    func onePublisherFansOutToThreeLateSubscribersAndDeleteEndsTheirTracks(codec: String) async throws {
        guard let node = try await startNode() else { return }
        let room = "fanout-\(codec)"
        let (publisher, subscribeToken) = try await startPublisher(node, room: room, codec: codec, seconds: 10)
        // Join after aiortc's first (and, for 3000 frames, only) keyframe: the SFU must ask for one.
        try await Task.sleep(for: .seconds(2))
        var subscribers: [Client] = []
        for index in 0..<3 {
            subscribers.append(
                try Client(
                    "whep_subscribe.py",
                    ["\(node.base)/whep/\(room)", subscribeToken, "--until-ended", "25", "--expect-codec", codec],
                    name: "subscriber \(index)"))
        }
        let published = try await publisher.result()
        #expect(published.status == 0, "publisher: \(published.json)")
        #expect(published.json["delete_status"] as? Int == 200)
        let lastPublished = Self.number(published.json, "last_counter")
        for subscriber in subscribers {
            let (status, json) = try await subscriber.result()
            let summary = "\(subscriber.name): \(json)"
            #expect(status == 0, "\(summary)")
            #expect((json["video_codec"] as? String)?.lowercased() == codec, "\(summary)")
            // ≥ 90 % of the frames published while subscribed, each with the right counter.
            #expect(Self.number(json, "received_ratio") >= 0.9, "\(summary)")
            #expect(Self.number(json, "distinct_counters") >= 100, "\(summary)")
            #expect(Self.number(json, "unreadable_frames") <= 2, "\(summary)")
            #expect(Self.number(json, "out_of_order") == 0, "\(summary)")
            #expect(Self.number(json, "last_counter") >= lastPublished - 45, "\(summary)")
            // Late joiner: a keyframe came quickly because the SFU asked the publisher (PLI).
            #expect(Self.number(json, "first_frame_seconds") >= 0, "\(summary)")
            #expect(Self.number(json, "first_frame_seconds") < 4, "\(summary)")
            #expect(Self.number(json, "audio_frames") > 100, "\(summary)")
            #expect(Self.number(json, "audio_rms") > 500, "\(summary)")
            // The publisher's DELETE ended both tracks (RTCP BYE).
            #expect(Self.number(json, "tracks") == 2, "\(summary)")
            #expect(Self.number(json, "tracks_ended") == 2, "\(summary)")
        }
        #expect(try await node.metric("commucat_sfu_plis_total{direction=\"to_producer\"}") >= 1)
        #expect(try await node.metric("commucat_sfu_packets_out_total") > 0)
        try await node.stop()
    }

    // MARK: Loss

    @Test func fivePercentLossTowardOneSubscriberIsRepairedByNACKAndRTX() async throws {
        guard let node = try await startNode() else { return }
        let room = "lossy"
        let (publisher, subscribeToken) = try await startPublisher(node, room: room, codec: "vp8", seconds: 10)
        let lossy = try Client(
            "whep_subscribe.py",
            ["\(node.base)/whep/\(room)", subscribeToken, "--until-ended", "25", "--drop-rtp", "0.05", "--expect-codec", "vp8"],
            name: "lossy subscriber")
        let clean = try Client(
            "whep_subscribe.py", ["\(node.base)/whep/\(room)", subscribeToken, "--until-ended", "25"], name: "clean subscriber")
        let published = try await publisher.result()
        #expect(published.status == 0, "publisher: \(published.json)")
        let (status, json) = try await lossy.result()
        #expect(status == 0, "lossy: \(json)")
        #expect(Self.number(json, "relay_dropped") >= 10, "lossy: \(json)")
        #expect(Self.number(json, "received_ratio") >= 0.9, "lossy: \(json)")
        #expect(Self.number(json, "distinct_counters") >= 100, "lossy: \(json)")
        #expect(Self.number(json, "unreadable_frames") <= 3, "lossy: \(json)")
        let cleanResult = try await clean.result()
        #expect(cleanResult.status == 0, "clean: \(cleanResult.json)")
        #expect(Self.number(cleanResult.json, "received_ratio") >= 0.9, "clean: \(cleanResult.json)")
        // The repairs came from the SFU's retransmission ring.
        #expect(try await node.metric("commucat_sfu_nacks_received_total") >= 1)
        #expect(try await node.metric("commucat_sfu_retransmissions_total{result=\"sent\"}") >= 5)
        try await node.stop()
    }

    // MARK: Refusals

    @Test func aWrongOrMissingTokenIs401AndNoMediaFlows() async throws {
        guard let node = try await startNode(extra: ["COMMUCAT_AUTH_ALLOW_ANONYMOUS": "false"]) else { return }
        let otherRoomToken = try await node.token(room: "elsewhere", identity: "mallory", publish: true, subscribe: true)
        for (token, label) in [("", "missing"), ("not.a.jwt", "garbage"), (otherRoomToken, "other room")] {
            let publisher = try Client(
                "whip_publish.py", ["\(node.base)/whip/guarded", token, "--seconds", "1"], name: "publisher (\(label) token)")
            let (status, json) = try await publisher.result()
            #expect(status == 1, "\(label): \(json)")
            let error = json["error"] as? String ?? ""
            #expect(error.contains(label == "other room" ? "403" : "401") || error.contains("401"), "\(label): \(error)")
        }
        let subscriber = try Client("whep_subscribe.py", ["\(node.base)/whep/guarded", "", "--seconds", "1"], name: "subscriber")
        let refused = try await subscriber.result()
        #expect(refused.status == 1)
        #expect((refused.json["error"] as? String ?? "").contains("401"), "\(refused.json)")
        #expect(try await node.metric("commucat_sfu_active_transports") == 0)
        #expect(try await node.metric("commucat_sfu_packets_in_total") == 0)
        try await node.stop()
    }

    @Test func malformedSDPGets400WithAReason() async throws {
        guard let node = try await startNode() else { return }
        let token = try await node.token(room: "sdp", identity: "alice", publish: true, subscribe: true)
        let cases: [(String, String)] = [
            ("this is not SDP", "sdp"),
            ("v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\na=rtpmap:96 VP8/90000\r\n", "bundle"),
        ]
        for (body, hint) in cases {
            let response = try await fetch(
                "\(node.base)/whip/sdp", method: .POST,
                headers: [("Authorization", "Bearer \(token)"), ("Content-Type", "application/sdp")], body: body)
            #expect(response.status == 400, "\(body): \(response.status) \(response.body)")
            #expect(response.headers.first(name: "Content-Type")?.hasPrefix("application/problem+json") == true)
            let problem = (try? JSONSerialization.jsonObject(with: Data(response.body.utf8))) as? [String: Any] ?? [:]
            #expect((problem["code"] as? String)?.isEmpty == false, "\(response.body)")
            #expect((problem["detail"] as? String ?? "").lowercased().contains(hint), "\(response.body)")
        }
        try await node.stop()
    }

    // MARK: Garbage

    @Test func aGarbageUDPFloodLeavesTheOtherSessionsServing() async throws {
        guard let node = try await startNode() else { return }
        let room = "flooded"
        let (publisher, subscribeToken) = try await startPublisher(node, room: room, codec: "vp8", seconds: 9)
        let subscriber = try Client(
            "whep_subscribe.py", ["\(node.base)/whep/\(room)", subscribeToken, "--until-ended", "25"], name: "subscriber")
        try await Task.sleep(for: .seconds(1))
        let sent = try await flood(port: node.mediaPort, bursts: 20, perBurst: 1000, pause: .milliseconds(150))
        #expect(sent > 15_000)
        let (status, json) = try await subscriber.result()
        #expect(status == 0, "subscriber: \(json)")
        #expect(Self.number(json, "received_ratio") >= 0.9, "subscriber: \(json)")
        #expect(Self.number(json, "tracks_ended") == 2, "subscriber: \(json)")
        let published = try await publisher.result()
        #expect(published.status == 0, "publisher: \(published.json)")
        #expect(try await fetch("\(node.base)/healthz").status == 200)
        #expect(try await node.metric("commucat_sfu_ice_dropped_total") >= 10_000)
        try await node.stop()
    }

    /// Random bytes, truncated STUN, DTLS and RTP, and well-formed binding requests for unknown
    /// sessions, from one socket on loopback. Returns how many datagrams were sent.
    func flood(port: Int, bursts: Int, perBurst: Int, pause: Duration) async throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        try #require(fd >= 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var generator = SystemRandomNumberGenerator()
        var sent = 0
        for _ in 0..<bursts {
            for index in 0..<perBurst {
                var bytes = (0..<Int.random(in: 1...300, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) }
                switch index % 5 {
                case 0: break  // random
                case 1: bytes = [0x00, 0x01, 0x00, 0x50, 0x21, 0x12, 0xA4, 0x42] + bytes.prefix(12)  // truncated STUN
                case 2: bytes = [0x16, 0xFE, 0xFD, 0x00, 0x00] + bytes.prefix(7)  // truncated DTLS record
                case 3: bytes = [0x80, 0x60] + bytes.prefix(6)  // truncated RTP
                default:  // a binding request with a USERNAME for no session
                    bytes = [0x00, 0x01, 0x00, 0x0C, 0x21, 0x12, 0xA4, 0x42] + (0..<12).map { _ in UInt8.random(in: 0...255) }
                        + [0x00, 0x06, 0x00, 0x08] + Array("abcd:efg".utf8)
                }
                let result = bytes.withUnsafeBytes { buffer in
                    withUnsafePointer(to: &address) {
                        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                            sendto(fd, buffer.baseAddress, buffer.count, 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                        }
                    }
                }
                if result > 0 { sent += 1 }
            }
            try await Task.sleep(for: pause)
        }
        return sent
    }

    // MARK: Load generator

    /// The smoke version of `commucat-bench sfu`: packets flow and validate (no timing asserted).
    @Test func theLoadGeneratorForwardsAndValidatesPackets() async throws {
        guard let binary = CommucatProcessTests.binary else {
            if isCI { Issue.record("needs COMMUCAT_BIN") }
            return
        }
        let bench = URL(fileURLWithPath: binary).deletingLastPathComponent().appendingPathComponent("commucat-bench").path
        guard FileManager.default.isExecutableFile(atPath: bench) else {
            if isCI { Issue.record("commucat-bench is not built next to \(binary)") }
            return
        }
        guard let node = try await startNode(extra: ["COMMUCAT_AUTH_ALLOW_ANONYMOUS": "true"]) else { return }
        let result = try await runProcess(
            bench,
            [
                "sfu", "--scenario", "livestream", "--subscribers", "2", "--seconds", "2", "--server-url", node.base,
                "--server-pid", "\(node.server.process.processIdentifier)", "--json",
            ], timeout: .seconds(120))
        #expect(result.status == 0, "\(result.stderr)")
        let document = (try? JSONSerialization.jsonObject(with: Data(result.stdout.utf8))) as? [String: Any]
        let row = try #require((document?["results"] as? [[String: Any]])?.first, "\(result.stdout)")
        #expect(row["subscriberStreams"] as? Int == 2, "\(row)")
        #expect(Self.number(row, "packetsForwardedPerSecond") > 50, "\(row)")
        #expect(Self.number(row, "srtpFailures") == 0, "\(row)")
        #expect(Self.number(row, "serverCPUCores") >= 0, "\(row)")
        try await node.stop()
    }
}
}
