import AsyncHTTPClient
import CCP
import ConnectCore
import Foundation
import NIOCore
import Signalling
import Synchronization

/// `commucat-bench messaging`: N paired clients over real `/connect` WebSocket sessions, each sending
/// M messages to the next client in a ring (mutual friends, one channel each), every message
/// acknowledged by its receiver. Measures delivered messages per second and the latency from the
/// sender's `send` to the receiver's decryption, against a server on SQLite or PostgreSQL.
public struct MessagingBenchConfig: Sendable {
    public var clients = 8
    public var messages = 200
    /// Messages a client may have sent without the server's Ack.
    public var window = 16
    public var payloadBytes = 256
    /// `sqlite` or `postgres` (then `postgresURL`).
    public var storage = "sqlite"
    public var postgresURL: String?
    /// A running server (base URL, with `server.auto_approve_devices` on); default: start one.
    public var serverURL: String?
    public var commucatBinary: String?
    public var timeout: Duration = .seconds(300)
    public init() {}
}

public struct MessagingBenchResult: Sendable, Codable {
    public var storage: String
    public var clients: Int
    public var messagesPerClient: Int
    public var payloadBytes: Int
    public var window: Int
    public var delivered: Int
    public var seconds: Double
    public var messagesPerSecond: Double
    public var latencyP50Milliseconds: Double
    public var latencyP99Milliseconds: Double
    public var latencyMaxMilliseconds: Double
    public var duplicates: Int
}

public struct MessagingBenchError: Error, CustomStringConvertible {
    public var description: String
    init(_ description: String) { self.description = description }
}

public final class MessagingBenchmark: Sendable {
    let config: MessagingBenchConfig
    let progress: @Sendable (String) -> Void

    public init(config: MessagingBenchConfig, progress: @escaping @Sendable (String) -> Void = { _ in }) {
        self.config = config
        self.progress = progress
    }

    public func run() async throws -> MessagingBenchResult {
        let server = try await BenchServer.start(config: config)
        defer { server.stop() }
        let base = server.base
        let info = try await ClientHTTP.serverInfo(base: base)
        let tag = String(UInt32.random(in: 0...UInt32.max), radix: 36)
        progress("connecting \(config.clients) clients")
        var peers: [BenchPeer] = []
        for index in 0..<config.clients {
            let identity = DeviceIdentity.generate()
            let connection = CCPClientConnection(
                identity: identity,
                options: .init(
                    pattern: .xk, domain: info.domain, prologue: info.prologue, serverStatic: info.noisePublic,
                    user: .init(handle: "bench-\(tag)-\(index)", displayName: nil)))
            let client = try await CCPLiveClient.connect(url: ClientCommands.webSocketURL(base: base), connection: connection)
            peers.append(BenchPeer(client: client, deviceID: identity.deviceID, expected: config.messages, window: config.window))
        }
        defer { for peer in peers { peer.stop() } }
        progress("making friends")
        for index in 0..<config.clients {
            let next = (index + 1) % config.clients
            guard next != index else { break }
            try await befriend(base: base, from: peers[index], to: peers[next], handle: "bench-\(tag)-\(next)")
        }
        for index in 0..<config.clients {
            let next = peers[(index + 1) % config.clients]
            // Each route gets its own channel id: the id names the route for both ends.
            let joined = try await peers[index].join(channel: UInt32(index + 1), members: [next.deviceID])
            guard joined else { throw MessagingBenchError("client \(index) could not join its channel") }
        }

        progress("sending \(config.clients * config.messages) messages")
        let origin = ContinuousClock.now
        let payloadBytes = max(16, config.payloadBytes)
        await withTaskGroup(of: Void.self) { group in
            for peer in peers {
                group.addTask { await peer.send(count: self.config.messages, payloadBytes: payloadBytes, origin: origin) }
            }
        }
        let total = config.clients * config.messages
        let deadline = ContinuousClock.now + config.timeout
        while peers.reduce(0, { $0 + $1.receivedCount }) < total {
            guard ContinuousClock.now < deadline else {
                throw MessagingBenchError("only \(peers.reduce(0) { $0 + $1.receivedCount }) of \(total) messages arrived in \(config.timeout)")
            }
            progress("delivered \(peers.reduce(0) { $0 + $1.receivedCount }) / \(total)")
            try await Task.sleep(for: .milliseconds(50))
        }
        let last = peers.map(\.lastArrival).max() ?? origin
        let elapsed = Self.seconds(last - origin)
        var latencies = peers.flatMap(\.latencies).sorted()
        if latencies.isEmpty { latencies = [0] }
        func percentile(_ p: Double) -> Double { latencies[min(latencies.count - 1, Int(Double(latencies.count - 1) * p))] * 1000 }
        return MessagingBenchResult(
            storage: config.serverURL == nil ? config.storage : "external", clients: config.clients, messagesPerClient: config.messages,
            payloadBytes: payloadBytes, window: config.window, delivered: total, seconds: elapsed, messagesPerSecond: Double(total) / max(elapsed, 1e-9),
            latencyP50Milliseconds: percentile(0.5), latencyP99Milliseconds: percentile(0.99), latencyMaxMilliseconds: (latencies.last ?? 0) * 1000,
            duplicates: peers.reduce(0) { $0 + $1.duplicates })
    }

    private func befriend(base: String, from: BenchPeer, to: BenchPeer, handle: String) async throws {
        let created = try await ClientHTTP.json("POST", base + "/api/friends/requests/\(handle)", body: [:], bearer: from.client.ack.session)
        guard let id = (created["request"] as? [String: Any])?["id"] as? String else {
            throw MessagingBenchError("friend request to \(handle) failed: \(created)")
        }
        _ = try await ClientHTTP.json("POST", base + "/api/friends/requests/\(id)/accept", body: [:], bearer: to.client.ack.session)
    }

    static func seconds(_ duration: Duration) -> Double {
        let (seconds, attoseconds) = duration.components
        return Double(seconds) + Double(attoseconds) / 1e18
    }
}

/// One benchmark client: sends with a window of unacknowledged messages, acknowledges what it
/// receives, records latencies from the timestamp in each payload.
final class BenchPeer: Sendable {
    struct State {
        var outstanding = 0
        var waiters: [CheckedContinuation<Void, Never>] = []
        var joinWaiter: CheckedContinuation<Bool, Never>?
        var latencies: [Double] = []
        var seen: Set<UInt32> = []
        var duplicates = 0
        var lastArrival: ContinuousClock.Instant?
        /// Set when sending starts; payload timestamps are nanoseconds since it.
        var origin: ContinuousClock.Instant?
    }

    final class Shared: Sendable {
        let state = Mutex(State())
    }

    let client: CCPLiveClient
    let deviceID: String
    let window: Int
    private let shared = Shared()
    private let reader: Task<Void, Never>

    init(client: CCPLiveClient, deviceID: String, expected: Int, window: Int) {
        self.client = client
        self.deviceID = deviceID
        self.window = max(1, window)
        let shared = self.shared
        shared.state.withLock { $0.latencies.reserveCapacity(expected) }
        self.reader = Task {
            for await frame in client.frames {
                switch frame.type {
                case .msg where frame.sequence > 0:
                    let now = ContinuousClock.now
                    var payload = frame.payload
                    let stamp = payload.readInteger(as: UInt64.self) ?? 0
                    // Acks are cumulative: one for every 8 messages, and for the last one.
                    let count = shared.state.withLock { state -> Int in
                        guard state.seen.insert(frame.sequence).inserted else {
                            state.duplicates += 1
                            return 0
                        }
                        if let start = state.origin {
                            state.latencies.append(MessagingBenchmark.seconds(now - start) - Double(stamp) / 1e9)
                        }
                        state.lastArrival = now
                        return state.seen.count
                    }
                    if count > 0 && (count % 8 == 0 || count == expected) {
                        client.send(.ack, channel: frame.channelID, json: "{\"ack\":\(frame.sequence)}")
                    }
                case .ack where frame.sequence == 0:
                    let waiter = shared.state.withLock { state -> CheckedContinuation<Void, Never>? in
                        state.outstanding -= 1
                        return state.waiters.isEmpty ? nil : state.waiters.removeFirst()
                    }
                    waiter?.resume()
                    let join = shared.state.withLock { state -> CheckedContinuation<Bool, Never>? in
                        defer { state.joinWaiter = nil }
                        return state.joinWaiter
                    }
                    join?.resume(returning: true)
                case .error:
                    FileHandle.standardError.write(Data("commucat-bench: server error on channel \(frame.channelID): \(String(buffer: frame.payload))\n".utf8))
                    let (waiter, join) = shared.state.withLock { state -> (CheckedContinuation<Void, Never>?, CheckedContinuation<Bool, Never>?) in
                        state.outstanding -= 1
                        defer { state.joinWaiter = nil }
                        return (state.waiters.isEmpty ? nil : state.waiters.removeFirst(), state.joinWaiter)
                    }
                    waiter?.resume()
                    join?.resume(returning: false)
                case .groupEvent where frame.sequence > 0:
                    client.send(.ack, channel: frame.channelID, json: "{\"ack\":\(frame.sequence)}")
                default:
                    break
                }
            }
        }
    }

    private let channel = Mutex<UInt32>(1)

    func join(channel: UInt32, members: [String]) async -> Bool {
        self.channel.withLock { $0 = channel }
        return await withCheckedContinuation { continuation in
            shared.state.withLock {
                $0.joinWaiter = continuation
                $0.outstanding += 1
            }
            let list = members.map { "\"\($0)\"" }.joined(separator: ",")
            client.send(.join, channel: channel, json: "{\"members\":[\(list)]}")
        }
    }

    func send(count: Int, payloadBytes: Int, origin start: ContinuousClock.Instant) async {
        shared.state.withLock { $0.origin = start }
        var payload = ByteBuffer(repeating: 0x61, count: payloadBytes)
        for _ in 0..<count {
            await acquire()
            let stamp = UInt64(max(0, MessagingBenchmark.seconds(ContinuousClock.now - start) * 1e9))
            payload.setInteger(stamp, at: payload.readerIndex)
            client.send(CCPFrame(type: .msg, channelID: channel.withLock { $0 }, sequence: client.nextSequence(), payload: payload))
        }
    }

    private func acquire() async {
        await withCheckedContinuation { continuation in
            let resumeNow = shared.state.withLock { state -> Bool in
                if state.outstanding < window { return true }
                state.waiters.append(continuation)
                return false
            }
            if resumeNow { continuation.resume() }
        }
        // One sender task per peer, so the slot seen free is still free here.
        shared.state.withLock { $0.outstanding += 1 }
    }

    var receivedCount: Int { shared.state.withLock { $0.seen.count } }
    var latencies: [Double] { shared.state.withLock { $0.latencies } }
    var duplicates: Int { shared.state.withLock { $0.duplicates } }
    var lastArrival: ContinuousClock.Instant { shared.state.withLock { $0.lastArrival } ?? ContinuousClock.now }

    func stop() {
        reader.cancel()
        let client = self.client
        Task { await client.close() }
    }
}

/// `commucat serve` started for the benchmark (auto-approval on) or a given URL.
struct BenchServer: Sendable {
    let base: String
    let process: Process?

    static func start(config: MessagingBenchConfig) async throws -> BenchServer {
        if let url = config.serverURL { return BenchServer(base: url, process: nil) }
        let binary = config.commucatBinary ?? siblingBinary("commucat")
        guard FileManager.default.isExecutableFile(atPath: binary) else {
            throw MessagingBenchError("no commucat binary at \(binary) (build it, or pass --server-url)")
        }
        let data = FileManager.default.temporaryDirectory.appendingPathComponent("commucat-bench-msg-\(UUID().uuidString)")
        var environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("COMMUCAT_") }
        let http = try freePort()
        environment["COMMUCAT_SERVER_DATA_DIR"] = data.path
        environment["COMMUCAT_HTTP_LISTEN"] = "127.0.0.1:\(http)"
        environment["COMMUCAT_HTTPS_LISTEN"] = "127.0.0.1:\(try freePort())"
        environment["COMMUCAT_MEDIA_UDP_LISTEN"] = "127.0.0.1:\(try freePort())"
        environment["COMMUCAT_SERVER_AUTO_APPROVE_DEVICES"] = "true"
        environment["COMMUCAT_LEDGER_MODE"] = "file"
        environment["COMMUCAT_LOG_LEVEL"] = "warning"
        switch config.storage {
        case "sqlite": break
        case "postgres":
            guard let url = config.postgresURL else { throw MessagingBenchError("--storage postgres needs --postgres-url") }
            environment["COMMUCAT_STORAGE_URL"] = url
        default: throw MessagingBenchError("--storage must be sqlite or postgres")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = ["serve"]
        process.environment = environment
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        let base = "http://127.0.0.1:\(http)"
        for _ in 0..<300 {
            if (try? await ClientHTTP.serverInfo(base: base)) != nil { return BenchServer(base: base, process: process) }
            guard process.isRunning else { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        process.terminate()
        throw MessagingBenchError("commucat serve did not start at \(base)")
    }

    func stop() {
        guard let process, process.isRunning else { return }
        process.terminate()
        process.waitUntilExit()
    }

    static func siblingBinary(_ name: String) -> String {
        URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent(name).path
    }

    static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        _ = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}

/// Table, JSON and CSV output.
public enum MessagingBenchReport {
    public static func table(_ results: [MessagingBenchResult]) -> String {
        var lines = ["storage   clients  messages  payload  delivered    seconds   msg/s     p50 ms   p99 ms   max ms  dup"]
        for r in results {
            lines.append(
                String(
                    format: "%-9@ %7d  %8d  %7d  %9d  %9.2f  %8.0f  %7.2f  %7.2f  %7.2f  %3d", r.storage as NSString, r.clients, r.messagesPerClient,
                    r.payloadBytes, r.delivered, r.seconds, r.messagesPerSecond, r.latencyP50Milliseconds, r.latencyP99Milliseconds,
                    r.latencyMaxMilliseconds, r.duplicates))
        }
        return lines.joined(separator: "\n")
    }

    public static func json(_ results: [MessagingBenchResult]) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return String(decoding: try encoder.encode(["results": results]), as: UTF8.self)
    }

    public static func csv(_ results: [MessagingBenchResult]) -> String {
        var lines = ["storage,clients,messages_per_client,payload_bytes,window,delivered,seconds,messages_per_second,p50_ms,p99_ms,max_ms,duplicates"]
        for r in results {
            lines.append(
                "\(r.storage),\(r.clients),\(r.messagesPerClient),\(r.payloadBytes),\(r.window),\(r.delivered),\(r.seconds),\(r.messagesPerSecond),\(r.latencyP50Milliseconds),\(r.latencyP99Milliseconds),\(r.latencyMaxMilliseconds),\(r.duplicates)"
            )
        }
        return lines.joined(separator: "\n")
    }
}

extension MessagingBenchReport {
    /// Two bars per driver (messages/s; p50 and p99 latency) with matplotlib, like the other benchmarks.
    public static func plot(_ results: [MessagingBenchResult], to path: String) throws {
        let python = ProcessInfo.processInfo.environment["COMMUCAT_BENCH_PYTHON"] ?? "python3"
        let data = FileManager.default.temporaryDirectory.appendingPathComponent("commucat-bench-messaging-\(getpid()).json")
        try Data(try json(results).utf8).write(to: data)
        defer { try? FileManager.default.removeItem(at: data) }
        let script = """
            import json, sys
            import matplotlib
            matplotlib.use("Agg")
            import matplotlib.pyplot as plt
            rows = json.load(open(sys.argv[1]))["results"]
            names = [r["storage"] for r in rows]
            fig, (a, b) = plt.subplots(1, 2, figsize=(10, 4))
            a.bar(names, [r["messagesPerSecond"] for r in rows]); a.set_ylabel("delivered messages/s")
            xs = range(len(rows))
            b.bar([x - 0.2 for x in xs], [r["latencyP50Milliseconds"] for r in rows], width=0.4, label="p50")
            b.bar([x + 0.2 for x in xs], [r["latencyP99Milliseconds"] for r in rows], width=0.4, label="p99")
            b.set_xticks(list(xs)); b.set_xticklabels(names); b.set_ylabel("latency (ms)"); b.legend()
            fig.suptitle("commucat-bench messaging"); fig.tight_layout(); fig.savefig(sys.argv[2], dpi=100)
            """
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [python, "-c", script, data.path, path]
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw MessagingBenchError("plotting needs \(python) with matplotlib (set COMMUCAT_BENCH_PYTHON)") }
    }
}
