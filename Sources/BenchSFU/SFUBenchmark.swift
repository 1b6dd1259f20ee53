import AsyncHTTPClient
import Foundation
import NIOCore
import NIOPosix
import SFUCore

/// `commucat-bench sfu`: what to run.
public struct SFUBenchConfig: Sendable {
    public enum Scenario: String, Sendable, CaseIterable {
        /// 1 publisher (720p VP8 at 1.5 Mbit/s + Opus) → `subscribers` subscribers.
        case livestream
        /// 10 audio-only publishers; each of `subscribers` listeners receives all of them.
        case audioRoom = "audio-room"
        /// `publishers` participants, each sending 720p-like video + audio and receiving all others.
        case meeting
    }

    public var scenario: Scenario = .livestream
    public var subscribers = 10
    public var publishers = 4
    public var seconds = 10.0
    public var warmupSeconds = 2.0
    /// Raise subscribers step by step until loss > 1 % or the server's CPU saturates.
    public var ramp = false
    public var rampLimit = 2_000
    /// A running server: base URL and PID (for CPU). Without them a `commucat serve` is started.
    public var serverURL: String?
    public var serverPID: Int32?
    public var commucatBinary: String?
    /// Pin the server to CPU 0 and the generator to CPU 1.
    public var pin = false
    public var token: String?
    /// `commucat` or `janus` (Janus VideoRoom at ``janusURL``; needs ``serverPID`` for its CPU).
    public var target = "commucat"
    public var janusURL = "http://127.0.0.1:8088/janus"
    /// The loopback address the simulated peers bind (Janus in its namespace wants 127.0.1.1).
    public var localAddress = "127.0.0.1"

    public init() {}
}

/// One measurement window.
public struct SFUBenchResult: Sendable, Codable {
    public var target: String
    public var scenario: String
    public var publishers: Int
    /// Receiving peer connections (a subscriber of k publishers counts k).
    public var subscriberStreams: Int
    public var seconds: Double
    public var packetsSentPerSecond: Double
    public var packetsForwardedPerSecond: Double
    public var mbitForwardedPerSecond: Double
    public var lossPercent: Double
    public var delayP50Milliseconds: Double?
    public var delayP99Milliseconds: Double?
    public var srtpFailures: UInt64
    /// User + system CPU of the server process over the window, in cores.
    public var serverCPUCores: Double?
    /// Server CPU milliseconds per 1,000 forwarded packets.
    public var serverCPUMillisecondsPer1000Packets: Double?
    /// Subscriber streams one core of server CPU sustains at this load.
    public var subscriberStreamsPerCore: Double?
    public var generatorCPUCores: Double
}

/// Runs the scenarios against a target and measures them.
public final class SFUBenchmark: @unchecked Sendable {
    let config: SFUBenchConfig
    let progress: (String) -> Void
    private let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    private let stats = LoadStats()
    private var peers: [LoadPeer] = []
    private var resources: [String] = []
    private var server: Process?
    private var serverPID: Int32?
    private let http = HTTPClient(eventLoopGroupProvider: .singleton)

    public init(config: SFUBenchConfig, progress: @escaping (String) -> Void = { _ in }) {
        self.config = config
        self.progress = progress
    }

    /// Runs the configured measurement (or the ramp) and returns one result per window.
    public func run() async throws -> [SFUBenchResult] {
        defer { shutdownSync() }
        let target = try await prepareTarget()
        if config.pin { pinCPUs() }
        let certificate = try DTLSCertificate()
        let loop = group.next()
        let (video, audio) = try makeClips()
        var results: [SFUBenchResult] = []
        let room = "bench-\(UInt32.random(in: 0...UInt32.max))"

        // Publishers.
        let publisherCount = config.scenario == .audioRoom ? 10 : config.scenario == .meeting ? config.publishers : 1
        var publisherIDs: [String] = []
        for index in 0..<publisherCount {
            progress("publisher \(index + 1)/\(publisherCount)")
            let peer = try await LoadPeer.make(on: loop, certificate: certificate, stats: stats, host: config.localAddress)
            var sections: [BenchSDP.Section] = []
            if let video, config.scenario != .audioRoom {
                sections.append(.init(kind: .video, sending: true, ssrc: peer.addOutgoing(clip: video, payloadType: 96)))
            }
            sections.append(.init(kind: .audio, sending: true, ssrc: peer.addOutgoing(clip: audio, payloadType: 111)))
            let published = try await target.publish(room: room, identity: peer.identity, sections: sections)
            resources.append(published.resource)
            peers.append(peer)
            try await peer.start(remote: published.remote).get()
            publisherIDs.append(published.publisherID)
        }

        // Subscribers, raised step by step when ramping.
        // A meeting has one receiving participant per publisher (each receives all the others).
        var steps = [config.scenario == .meeting ? publisherCount : config.subscribers]
        if config.ramp, config.scenario != .meeting {
            steps = []
            var count = max(1, config.subscribers)
            while count <= config.rampLimit {
                steps.append(count)
                count = max(count + 1, count * 3 / 2)
            }
        }
        var current = 0
        for step in steps {
            try await addSubscribers(
                upTo: step, from: current, publisherIDs: publisherIDs, room: room, target: target, loop: loop,
                certificate: certificate, video: video != nil && config.scenario != .audioRoom)
            current = step
            let result = try await measure(target: target, publishers: publisherCount, loop: loop)
            results.append(result)
            progress(
                "\(result.subscriberStreams) streams: \(Int(result.packetsForwardedPerSecond)) pkt/s, loss \(String(format: "%.2f", result.lossPercent)) %, server \(String(format: "%.2f", result.serverCPUCores ?? 0)) cores")
            if config.ramp, result.lossPercent > 1 || (result.serverCPUCores ?? 0) > 0.95 { break }
        }
        for resource in resources { await target.close(resource: resource) }
        return results
    }

    private func addSubscribers(
        upTo count: Int, from start: Int, publisherIDs: [String], room: String, target: any SFUBenchTarget,
        loop: any EventLoop, certificate: DTLSCertificate, video: Bool
    ) async throws {
        // meeting: participant i subscribes to every publisher but its own; otherwise each
        // subscriber receives every publisher.
        for index in start..<count {
            progress("subscriber \(index + 1)/\(count)")
            var pending: [EventLoopFuture<Void>] = []
            for (publisherIndex, publisherID) in publisherIDs.enumerated() {
                if config.scenario == .meeting, publisherIndex == index % max(publisherIDs.count, 1) { continue }
                let peer = try await LoadPeer.make(on: loop, certificate: certificate, stats: stats, host: config.localAddress)
                let subscribed = try await target.subscribe(
                    room: room, publisherID: publisherID, identity: peer.identity, video: video)
                resources.append(subscribed.resource)
                peers.append(peer)
                pending.append(peer.start(remote: subscribed.remote))
            }
            for future in pending { try await future.get() }
        }
    }

    private func measure(target: any SFUBenchTarget, publishers: Int, loop: any EventLoop) async throws -> SFUBenchResult {
        try await Task.sleep(for: .seconds(config.warmupSeconds))
        try await loop.submit { self.stats.reset() }.get()
        let serverStart = serverPID.flatMap(Self.cpuSeconds(pid:))
        let selfStart = Self.ownCPUSeconds()
        let clock = ContinuousClock()
        let started = clock.now
        try await Task.sleep(for: .seconds(config.seconds))
        let snapshot = try await loop.submit { self.stats.snapshot() }.get()
        let elapsed = (clock.now - started).seconds
        let serverCPU = serverStart.flatMap { start in serverPID.flatMap(Self.cpuSeconds(pid:)).map { ($0 - start) / elapsed } }
        let forwarded = Double(snapshot.packetsReceived) / elapsed
        let expected = Double(snapshot.packetsReceived + snapshot.packetsLost)
        let streams = peers.count - publishers
        return SFUBenchResult(
            target: target.name, scenario: config.scenario.rawValue, publishers: publishers, subscriberStreams: streams,
            seconds: elapsed, packetsSentPerSecond: Double(snapshot.packetsSent) / elapsed,
            packetsForwardedPerSecond: forwarded, mbitForwardedPerSecond: Double(snapshot.bytesReceived) * 8 / elapsed / 1e6,
            lossPercent: expected > 0 ? Double(snapshot.packetsLost) * 100 / expected : 0,
            delayP50Milliseconds: snapshot.delayP50, delayP99Milliseconds: snapshot.delayP99,
            srtpFailures: snapshot.srtpFailures, serverCPUCores: serverCPU,
            serverCPUMillisecondsPer1000Packets: serverCPU.flatMap { forwarded > 0 ? $0 * 1_000_000 / forwarded : nil },
            subscriberStreamsPerCore: serverCPU.flatMap { $0 > 0 ? Double(streams) / $0 : nil },
            generatorCPUCores: (Self.ownCPUSeconds() - selfStart) / elapsed)
    }

    private func makeClips() throws -> (video: BenchMediaClip?, audio: BenchMediaClip) {
        progress("encoding media")
        let audio = try BenchMediaClip.opus()
        switch config.scenario {
        case .audioRoom: return (nil, audio)
        case .livestream: return (try BenchMediaClip.vp8(width: 1280, height: 720, kbps: 1_500), audio)
        case .meeting: return (try BenchMediaClip.vp8(width: 1280, height: 720, kbps: 1_000), audio)
        }
    }

    // MARK: Server

    private func prepareTarget() async throws -> any SFUBenchTarget {
        if config.target == "janus" {
            serverPID = config.serverPID
            return JanusTarget(base: config.janusURL, client: http)
        }
        if let url = config.serverURL {
            serverPID = config.serverPID
            return CommuCatTarget(base: url, token: config.token, client: http)
        }
        let binary = config.commucatBinary ?? Self.siblingBinary("commucat")
        guard FileManager.default.isExecutableFile(atPath: binary) else {
            throw LoadPeerError("no commucat binary at \(binary) (build it, or pass --server-url and --server-pid)")
        }
        let data = FileManager.default.temporaryDirectory.appendingPathComponent("commucat-bench-\(UUID().uuidString)")
        let http = try Self.freePort(), https = try Self.freePort(), media = try Self.freePort()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = ["serve"]
        var environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("COMMUCAT_") }
        environment["COMMUCAT_SERVER_DATA_DIR"] = data.path
        environment["COMMUCAT_HTTP_LISTEN"] = "127.0.0.1:\(http)"
        environment["COMMUCAT_HTTPS_LISTEN"] = "127.0.0.1:\(https)"
        environment["COMMUCAT_MEDIA_UDP_LISTEN"] = "127.0.0.1:\(media)"
        environment["COMMUCAT_AUTH_ALLOW_ANONYMOUS"] = "true"
        environment["COMMUCAT_LOG_LEVEL"] = "warning"
        process.environment = environment
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        server = process
        serverPID = process.processIdentifier
        let base = "http://127.0.0.1:\(http)"
        for _ in 0..<200 {
            var request = HTTPClientRequest(url: base + "/healthz")
            request.method = .GET
            if let response = try? await self.http.execute(request, timeout: .seconds(2)), response.status == .ok {
                return CommuCatTarget(base: base, token: nil, client: self.http)
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw LoadPeerError("commucat serve did not become healthy at \(base)")
    }

    private func shutdownSync() {
        for peer in peers { peer.close() }
        if let server, server.isRunning {
            server.terminate()
            server.waitUntilExit()
        }
        try? http.syncShutdown()
        try? group.syncShutdownGracefully()
    }

    /// `taskset -a -p`: every thread of the server on CPU 0, of this process on CPU 1.
    private func pinCPUs() {
        guard let serverPID else { return }
        for (pid, cpu) in [(serverPID, 0), (getpid(), 1)] {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/taskset")
            process.arguments = ["-a", "-p", "-c", "\(cpu)", "\(pid)"]
            process.standardOutput = FileHandle.nullDevice
            try? process.run()
            process.waitUntilExit()
        }
    }

    static func siblingBinary(_ name: String) -> String {
        let me = URL(fileURLWithPath: CommandLine.arguments.first ?? name).resolvingSymlinksInPath()
        return me.deletingLastPathComponent().appendingPathComponent(name).path
    }

    /// User + system seconds of a process, from /proc/PID/stat.
    static func cpuSeconds(pid: Int32) -> Double? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = text.lastIndex(of: ")")
        else { return nil }
        let fields = text[text.index(after: close)...].split(separator: " ")
        guard fields.count > 13, let user = Double(fields[11]), let system = Double(fields[12]) else { return nil }
        return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    static func ownCPUSeconds() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) / 1e6 + Double(usage.ru_stime.tv_sec)
            + Double(usage.ru_stime.tv_usec) / 1e6
    }

    static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                bind(fd, pointer, length) == 0 && getsockname(fd, pointer, &length) == 0
            }
        }
        guard bound else { throw LoadPeerError("no free port") }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}

extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
