import CCP
import Foundation
import NIOCore
import Synchronization
import Testing

@testable import Signalling

/// The durable inbox across a server crash (SIGKILL of the real binary) and a Redis outage.
@Suite(.serialized) struct MessagingDurabilityTests {
    static var isCI: Bool { ProcessInfo.processInfo.environment["CI"] == "true" }

    static var binary: String? {
        let path = ProcessInfo.processInfo.environment["COMMUCAT_BIN"] ?? ".build/debug/commucat"
        return FileManager.default.isExecutableFile(atPath: path) ? path : nil
    }

    @Test(arguments: MessagingBackends.all)
    func offlineDeviceGetsEverythingInOrderExactlyOnceAcrossASIGKILL(backend: String) async throws {
        guard let binary = Self.binary else {
            if Self.isCI { Issue.record("the commucat binary is not built (COMMUCAT_BIN)") }
            return
        }
        let data = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: data) }
        var env = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("COMMUCAT_") }
        env.merge(MessagingBackends.environment(backend)) { _, new in new }
        env["COMMUCAT_REDIS_URL"] = nil
        let port = try freeTCPPort()
        env["COMMUCAT_SERVER_DATA_DIR"] = data.path
        env["COMMUCAT_HTTP_LISTEN"] = "127.0.0.1:\(port)"
        env["COMMUCAT_HTTPS_LISTEN"] = "127.0.0.1:\(try freeTCPPort())"
        env["COMMUCAT_MEDIA_UDP_LISTEN"] = "127.0.0.1:\(try freeTCPPort())"
        env["COMMUCAT_LOG_LEVEL"] = "warning"
        let endpoints = TestEndpoints(http: "http://127.0.0.1:\(port)", https: "", ledgerPath: data.appendingPathComponent("ledger.jsonl").path)

        var server = try ChildProcess(binary, ["serve"], environment: env)
        defer { server.kill(SIGKILL) }
        #expect(try await server.waitForHTTP(endpoints.http + "/healthz"), "serve did not start: \(server.output)")

        let alice = uniqueHandle("alice"), bob = uniqueHandle("bob")
        let bobIdentity = DeviceIdentity.generate()
        let a1 = try await TestDevice.connect(endpoints, handle: alice)
        let b1 = try await TestDevice.connect(endpoints, handle: bob, identity: bobIdentity)
        try await befriend(endpoints, a1, b1, bHandle: bob)
        _ = try await a1.expect(.groupEvent) { TestDevice.json($0)["type"] as? String == "friend_accepted" }
        await b1.close()

        // Bob is offline; every message alice gets an Ack for is in storage.
        let (joinType, join) = try await a1.request(.join, channel: 5, json: "{\"members\":[\"\(bobIdentity.deviceID)\"]}")
        #expect(joinType == .ack, "\(join)")
        let texts = (1...12).map { String(format: "m%02d", $0) }
        for text in texts {
            let (type, reply) = try await a1.request(.msg, channel: 5, bytes: Array(text.utf8))
            #expect(type == .ack && reply["recipients"] as? Int == 1, "\(text): \(reply)")
        }

        // Crash the server without a chance to flush anything, then start it again.
        server.kill(SIGKILL)
        #expect(await server.waitForExit() != nil)
        server = try ChildProcess(binary, ["serve"], environment: env)
        #expect(try await server.waitForHTTP(endpoints.http + "/healthz"), "restart failed: \(server.output)")

        // First reconnect: all twelve, in order, with increasing inbox sequences; acknowledge six.
        let first = try await TestDevice.connect(endpoints, handle: bob, identity: bobIdentity, autoAck: false)
        var sequences: [String: UInt32] = [:]
        var order: [String] = []
        for _ in texts {
            let frame = try await first.expect(.msg)
            #expect(frame.channelID == 5)
            order.append(String(buffer: frame.payload))
            sequences[String(buffer: frame.payload)] = frame.sequence
        }
        #expect(order == texts)
        let numbers = texts.compactMap { sequences[$0] }
        #expect(numbers == numbers.sorted() && Set(numbers).count == texts.count, "\(numbers)")
        let notice = try await first.expect(.groupEvent) { TestDevice.json($0)["type"] as? String == "channel" }
        #expect(notice.sequence < numbers[0], "the channel notice was queued before the messages")
        first.client.send(.ack, channel: 5, json: "{\"ack\":\(numbers[5])}")
        // A keepalive round trip after the Ack: the server handled the Ack before answering.
        first.client.send(.keepalive, channel: 0, json: "{\"nonce\":\"after-ack\"}")
        _ = try await first.expect(.keepalive)
        await first.close()

        // Second reconnect: exactly the six unacknowledged ones again, same sequences.
        let second = try await TestDevice.connect(endpoints, handle: bob, identity: bobIdentity, autoAck: false)
        for text in texts[6...] {
            let frame = try await second.expect(.msg)
            #expect(String(buffer: frame.payload) == text && frame.sequence == sequences[text], "\(String(buffer: frame.payload)) #\(frame.sequence)")
        }
        second.client.send(.ack, channel: 5, json: "{\"ack\":\(numbers[11])}")
        second.client.send(.keepalive, channel: 0, json: "{\"nonce\":\"after-ack\"}")
        _ = try await second.expect(.keepalive)
        await second.close()

        // Third: nothing is left.
        let third = try await TestDevice.connect(endpoints, handle: bob, identity: bobIdentity, autoAck: false)
        third.client.send(.keepalive, channel: 0, json: "{\"nonce\":\"empty\"}")
        _ = try await third.expect(.keepalive)
        try await Task.sleep(for: .seconds(1))
        #expect(third.pending(.msg).isEmpty, "redelivered after the Ack: \(third.pending(.msg).map { String(buffer: $0.payload) })")
        await third.close()
        await a1.close()

        server.kill(SIGTERM)
        #expect(await server.waitForExit() == 0, "serve exit: \(server.output)")
    }

    @Test func redisStoppedMidSessionPresenceDegradesToLocalAndRecovers() async throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/redis-server") else {
            if Self.isCI { Issue.record("redis-server is not installed (packaging/debian-packages.txt)") }
            return
        }
        let redisPort = try freeTCPPort()
        let redisArguments = ["--port", "\(redisPort)", "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        let first = try ChildProcess("/usr/bin/redis-server", redisArguments, environment: nil)
        let restarted = Mutex<ChildProcess?>(nil)
        defer {
            first.kill(SIGKILL)
            restarted.withLock { $0?.kill(SIGKILL) }
        }
        #expect(try await waitForTCP(port: redisPort))

        var env = MessagingBackends.environment("sqlite")
        env["COMMUCAT_REDIS_URL"] = "redis://127.0.0.1:\(redisPort)"
        try await withServer(environment: env) { server, endpoints in
            let alice = uniqueHandle("alice"), bob = uniqueHandle("bob")
            let a1 = try await TestDevice.connect(endpoints, handle: alice)
            let b1 = try await TestDevice.connect(endpoints, handle: bob)
            try await befriend(endpoints, a1, b1, bHandle: bob)
            #expect(try await readyRedisStatus(endpoints) == "up")
            b1.client.send(.presence, channel: 0, json: "{\"state\":\"away\"}")
            _ = try await a1.expect(.presence) { TestDevice.json($0)["state"] as? String == "away" }

            // Redis goes away.
            first.kill(SIGKILL)
            _ = await first.waitForExit()
            #expect(try await waitFor { try await readyRedisStatus(endpoints) == "down" }, "readyz never reported Redis down")
            let ready = try await fetch(endpoints.http + "/readyz")
            #expect(ready.status == 200 && ready.json["status"] as? String == "degraded", "\(ready.body)")

            // Messaging keeps working; presence comes from this node's memory.
            b1.client.send(.presence, channel: 0, json: "{\"state\":\"online\"}")
            _ = try await a1.expect(.presence) { TestDevice.json($0)["state"] as? String == "online" }
            #expect(server.messaging.presence.isDegraded)
            let (joinType, _) = try await a1.request(.join, channel: 3, json: "{\"members\":[\"\(b1.deviceID)\"]}")
            #expect(joinType == .ack)
            let (msgType, _) = try await a1.request(.msg, channel: 3, bytes: Array("while redis is down".utf8))
            #expect(msgType == .ack)
            _ = try await b1.expect(.msg) { String(buffer: $0.payload) == "while redis is down" }
            let friends = try await fetch(endpoints.http + "/api/friends", bearer: a1.session)
            #expect(friends.body.contains("\"status\":\"online\""), "\(friends.body)")

            // Redis returns: readyz says so and presence is shared again.
            let again = try ChildProcess("/usr/bin/redis-server", redisArguments, environment: nil)
            restarted.withLock { $0 = again }
            #expect(try await waitFor(limit: .seconds(60)) { try await readyRedisStatus(endpoints) == "up" }, "readyz never reported Redis up again")
            b1.client.send(.presence, channel: 0, json: "{\"state\":\"away\"}")
            _ = try await a1.expect(.presence) { TestDevice.json($0)["state"] as? String == "away" }
            #expect(try await waitFor { !server.messaging.presence.isDegraded })
            await a1.close()
            await b1.close()
        }
    }
}

func readyRedisStatus(_ endpoints: TestEndpoints) async throws -> String? {
    let ready = try await fetch(endpoints.http + "/readyz")
    return ((ready.json["checks"] as? [String: Any])?["redis"] as? [String: Any])?["status"] as? String
}

/// Polls `condition` every 100 ms until it holds or `limit` passes.
func waitFor(limit: Duration = .seconds(20), _ condition: @Sendable () async throws -> Bool) async throws -> Bool {
    let deadline = ContinuousClock.now + limit
    while ContinuousClock.now < deadline {
        if try await condition() { return true }
        try await Task.sleep(for: .milliseconds(100))
    }
    return false
}

func waitForTCP(port: Int) async throws -> Bool {
    try await waitFor(limit: .seconds(10)) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        return result == 0
    }
}

func freeTCPPort() throws -> Int {
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

/// A child process (the `commucat` binary, `redis-server`) with its output in a temporary file.
struct ChildProcess: @unchecked Sendable {
    let process = Process()
    let log: URL

    init(_ executable: String, _ arguments: [String], environment: [String: String]?) throws {
        log = FileManager.default.temporaryDirectory.appendingPathComponent("commucat-child-\(UUID().uuidString).log")
        FileManager.default.createFile(atPath: log.path, contents: nil)
        let handle = try FileHandle(forWritingTo: log)
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let environment { process.environment = environment }
        process.standardOutput = handle
        process.standardError = handle
        process.standardInput = FileHandle.nullDevice
        try process.run()
    }

    var output: String { (try? String(contentsOf: log, encoding: .utf8)).map { String($0.suffix(2000)) } ?? "" }

    func kill(_ signal: Int32) {
        if process.isRunning { Glibc.kill(process.processIdentifier, signal) }
    }

    /// The exit status, or nil if it did not end within 20 s.
    func waitForExit() async -> Int32? {
        for _ in 0..<400 {
            if !process.isRunning { return process.terminationStatus }
            try? await Task.sleep(for: .milliseconds(50))
        }
        return nil
    }

    func waitForHTTP(_ url: String) async throws -> Bool {
        try await waitFor(limit: .seconds(60)) {
            guard process.isRunning else { return false }
            return (try? await fetch(url))?.status == 200
        }
    }
}
