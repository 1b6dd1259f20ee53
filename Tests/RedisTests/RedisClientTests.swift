import NIOCore
import Redis
import Testing

@Suite struct RedisClientOfflineTests {
    @Test func unreachableServerFailsAndReportsDisconnected() async throws {
        let port = try await RedisServerProcess.freePort()
        let client = RedisClient(url: RedisURL(host: "127.0.0.1", port: port))
        let error = await #expect(throws: RedisError.self) { try await client.connect() }
        #expect(error?.code == .unreachable)
        guard case .disconnected(let reason) = client.state else {
            Issue.record("state is \(client.state)")
            return
        }
        #expect(reason.contains("\(port)"))
        let send = await #expect(throws: RedisError.self) { try await client.ping() }
        #expect(send?.code == .disconnected)
        await client.close()
        #expect(client.state == .closed)
        let closed = await #expect(throws: RedisError.self) { try await client.ping() }
        #expect(closed?.code == .closed)
    }

    @Test func commandsBeforeConnectFailFast() async {
        let client = RedisClient(url: RedisURL(host: "127.0.0.1", port: 1))
        let error = await #expect(throws: RedisError.self) { try await client.send(["PING"]) }
        #expect(error?.code == .disconnected)
        await client.close()
    }
}

@Suite(.serialized, .enabled(if: RedisServerBinary.shouldRun, "redis-server not on PATH (set CI=true to require it)"))
struct RedisClientTests {
    @Test func commandsRoundTrip() async throws {
        try await withRedis { _, client throws in
            #expect(client.state == .connected)
            #expect(try await client.ping() == "PONG")
            #expect(try await client.set("greeting", to: "hello"))
            #expect(try await client.get("greeting").map { String(buffer: $0) } == "hello")
            #expect(try await client.get("missing") == nil)
            #expect(try await client.incr("counter") == 1)
            #expect(try await client.incr("counter") == 2)
            #expect(try await client.del(["counter", "greeting", "missing"]) == 2)
            #expect(try await client.send(["ECHO", "raw"]) == .bulkString(ByteBuffer(string: "raw")))
        }
    }

    @Test func binaryValuesSurvive() async throws {
        try await withRedis { _, client throws in
            let payload: [UInt8] = Array(0...255) + Array("\r\n$-1\r\n".utf8)
            try await client.set("bin", to: RedisArgument(payload))
            let stored = try #require(try await client.get("bin"))
            #expect(Array(stored.readableBytesView) == payload)
        }
    }

    @Test func setOptionsAndExpiry() async throws {
        try await withRedis { _, client throws in
            #expect(try await client.set("claim", to: "a", expiration: .seconds(60), condition: .ifNotExists))
            #expect(try await client.set("claim", to: "b", condition: .ifNotExists) == false)
            #expect(try await client.set("absent", to: "x", condition: .ifExists) == false)
            let ttl = try #require(try await client.pttl("claim"))
            #expect(ttl > .seconds(55) && ttl <= .seconds(60))
            try await client.set("short", to: "x", expiration: .milliseconds(1500))
            #expect(try #require(try await client.pttl("short")) <= .milliseconds(1500))
            #expect(try await client.expire("short", seconds: 100))
            #expect(try await client.pexpire("nothing", milliseconds: 100) == false)
            #expect(try await client.pttl("nothing") == nil)
        }
    }

    @Test func hashesSetsPublishAndEval() async throws {
        try await withRedis { _, client throws in
            #expect(try await client.hset("h", fields: ["a": "1", "b": RedisArgument([0xFF])]) == 2)
            let fields = try await client.hgetall("h")
            #expect(fields.mapValues { Array($0.readableBytesView) } == ["a": [0x31], "b": [0xFF]])
            #expect(try await client.hgetall("none").isEmpty)
            #expect(try await client.sadd("s", members: ["x", "y", "x"]) == 2)
            #expect(try await client.srem("s", members: ["y", "z"]) == 1)
            #expect(try await client.smembers("s").map { String(buffer: $0) } == ["x"])
            #expect(try await client.publish("events", message: "hi") == 0)
            let reply = try await client.eval("return {KEYS[1], ARGV[1], 7}", keys: ["k"], arguments: ["v"])
            #expect(reply == .array([.bulkString(ByteBuffer(string: "k")), .bulkString(ByteBuffer(string: "v")), .integer(7)]))
        }
    }

    @Test func errorRepliesAreServerErrors() async throws {
        try await withRedis { _, client throws in
            try await client.set("text", to: "abc")
            let notInteger = await #expect(throws: RedisError.self) { try await client.incr("text") }
            #expect(notInteger?.code == .server)
            #expect(notInteger?.message.hasPrefix("ERR") == true)
            let wrongType = await #expect(throws: RedisError.self) { try await client.smembers("text") }
            #expect(wrongType?.message.hasPrefix("WRONGTYPE") == true)
            let unknown = await #expect(throws: RedisError.self) { try await client.send(["NOSUCHCOMMAND"]) }
            #expect(unknown?.code == .server)
            // The connection is still fine afterwards.
            #expect(try await client.ping() == "PONG")
        }
    }

    @Test func pipelineOfAThousandCommandsKeepsOrder() async throws {
        try await withRedis { _, client throws in
            let sets: [[RedisArgument]] = (0..<1000).map { ["SET", RedisArgument("key:\($0)"), RedisArgument("value-\($0)")] }
            let setReplies = try await client.pipeline(sets)
            #expect(setReplies == Array(repeating: .status("OK"), count: 1000))
            let gets: [[RedisArgument]] = (0..<1000).map { ["GET", RedisArgument("key:\($0)")] }
            let values = try await client.pipeline(gets).map { $0.string }
            #expect(values == (0..<1000).map { "value-\($0)" })
            // An error reply inside a pipeline is a value; its neighbours are unaffected.
            let mixed = try await client.pipeline([["INCR", "key:1"], ["INCR", "n"], ["PING"]])
            #expect(mixed[0].errorMessage != nil)
            #expect(mixed[1] == .integer(1))
            #expect(mixed[2] == .status("PONG"))
        }
    }

    @Test func concurrentCommandsGetTheirOwnReplies() async throws {
        try await withRedis { _, client throws in
            let mismatches = try await withThrowingTaskGroup(of: Bool.self) { group in
                for index in 0..<1000 {
                    group.addTask { try await client.send(["ECHO", RedisArgument(index)]).string == String(index) }
                }
                var mismatches = 0
                for try await matched in group where !matched { mismatches += 1 }
                return mismatches
            }
            #expect(mismatches == 0)
        }
    }

    @Test func commandTimeoutDoesNotDesynchroniseReplies() async throws {
        let configuration = RedisClient.Configuration(commandTimeout: .milliseconds(200))
        try await withRedis(configuration: configuration) { _, client throws in
            // `.timeout` (not the BLPOP's nil reply after 1 s) shows the 200 ms command timeout fired.
            let error = await #expect(throws: RedisError.self) { try await client.send(["BLPOP", "empty-list", "1"]) }
            #expect(error?.code == .timeout)
            // The late BLPOP reply (nil, after ~1 s) is consumed and dropped, not handed to ECHO.
            let replied = await eventually(timeout: .seconds(5)) {
                (try? await client.send(["ECHO", "after"]))?.string == "after"
            }
            #expect(replied)
        }
    }

    @Test func authAndSelectFromTheURL() async throws {
        let server = try await RedisServerProcess.start(extraArguments: ["--requirepass", "s3cret"])
        defer { server.stop() }

        var url = server.url
        url.password = "s3cret"
        url.database = 2
        let client = RedisClient(url: url)
        try await client.connect()
        let info = try await client.send(["CLIENT", "INFO"]).string ?? ""
        #expect(info.contains(" db=2 "))
        await client.close()

        url.password = "badpass"
        let rejected = RedisClient(url: url)
        let error = await #expect(throws: RedisError.self) { try await rejected.connect() }
        #expect(error?.code == .server)
        #expect(error?.message.contains("WRONGPASS") == true)
        #expect(error?.message.contains("badpass") == false)
        await rejected.close()
    }

    @Test func inFlightCommandsFailWhenTheServerDies() async throws {
        let configuration = RedisClient.Configuration(commandTimeout: nil)
        try await withRedis(configuration: configuration) { server, client in
            let observer = RedisClient(url: server.url)
            try await observer.connect()
            let blocked = Task { () -> RedisError? in
                do throws(RedisError) {
                    _ = try await client.send(["BLPOP", "never", "0"])
                    return nil
                } catch {
                    return error
                }
            }
            let isBlocked = await eventually(timeout: .seconds(5)) {
                (try? await observer.send(["INFO", "clients"]))?.string?.contains("blocked_clients:1") == true
            }
            #expect(isBlocked)
            await observer.close()

            server.stop()
            let failure = await withTaskGroup(of: RedisError??.self) { group in
                group.addTask { await blocked.value }
                group.addTask {
                    try? await Task.sleep(for: .seconds(5))
                    return .some(nil)
                }
                let first = await group.next() ?? nil
                group.cancelAll()
                return first ?? nil
            }
            #expect(failure?.code == .disconnected, "the in-flight BLPOP must fail within 5 s, got \(String(describing: failure))")
        }
    }

    @Test func reconnectsAfterTheServerRestarts() async throws {
        try await withRedis { server, client in
            #expect(try await client.ping() == "PONG")

            server.stop()
            let dropped = await eventually(timeout: .seconds(5)) { !client.state.isConnected }
            #expect(dropped, "state after kill: \(client.state)")
            // `.disconnected`, not `.timeout`: the command failed at once instead of waiting for the
            // 5 s command timeout (no wall-clock bound: CI machines are shared).
            let error = await #expect(throws: RedisError.self) { try await client.ping() }
            #expect(error?.code == .disconnected)
            // Reconnect attempts run, and fail, while the server is down.
            let retrying = await eventually(timeout: .seconds(3)) {
                if case .disconnected(let reason) = client.state { return reason.contains("refused") }
                return false
            }
            #expect(retrying, "state while down: \(client.state)")

            try await server.start()
            try await client.waitUntilConnected(timeout: .seconds(8))
            #expect(client.state == .connected)
            #expect(try await client.ping() == "PONG")
            try await client.set("after-restart", to: "yes")
            #expect(try await client.get("after-restart").map { String(buffer: $0) } == "yes")
        }
    }
}
