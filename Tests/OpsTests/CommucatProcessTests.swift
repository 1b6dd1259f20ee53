import Foundation
import Ledger
import Testing

@testable import Ops

/// The `commucat` binary as users run it: exit codes, one-line errors, signals, restarts.
@Suite(.serialized) struct CommucatProcessTests {
    static var binary: String? {
        let path = ProcessInfo.processInfo.environment["COMMUCAT_BIN"] ?? ".build/debug/commucat"
        return FileManager.default.isExecutableFile(atPath: path) ? path : nil
    }

    /// Environment for a server on free loopback ports with its own data dir.
    static func environment(data: URL, extra: [String: String] = [:]) throws -> [String: String] {
        var env = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("COMMUCAT_") || $0.key.hasPrefix("COMMUCAT_TEST") }
        env["COMMUCAT_SERVER_DATA_DIR"] = data.path
        let ports = try freePorts(3)
        env["COMMUCAT_HTTP_LISTEN"] = "127.0.0.1:\(ports[0])"
        env["COMMUCAT_HTTPS_LISTEN"] = "127.0.0.1:\(ports[1])"
        env["COMMUCAT_MEDIA_UDP_LISTEN"] = "127.0.0.1:\(ports[2])"
        env.merge(extra) { _, new in new }
        return env
    }

    func requireBinary() throws -> String {
        guard let binary = Self.binary else {
            if isCI { Issue.record("the commucat binary is not built (COMMUCAT_BIN)") }
            throw SkipTest()
        }
        return binary
    }

    struct SkipTest: Error {}

    @Test func serveAnswersHealthzThenDrainsOnSIGTERMAndRestartsAfterTheDataDirIsRemoved() async throws {
        guard let binary = try? requireBinary() else { return }
        let data = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: data) }
        for round in 0..<2 {
            if round == 1 { try FileManager.default.removeItem(at: data) }
            let env = try Self.environment(data: data)
            let server = try ServerProcess(binary: binary, arguments: ["serve"], environment: env)
            let port = env["COMMUCAT_HTTP_LISTEN"]?.split(separator: ":").last.map(String.init) ?? "0"
            let healthy = try await server.waitForHTTP("http://127.0.0.1:\(port)/healthz", timeout: .seconds(60))
            #expect(healthy, "round \(round): /healthz never answered 200; stderr: \(server.stderr)")
            let ready = try await fetch("http://127.0.0.1:\(port)/readyz")
            #expect(ready.status == 200)
            let status = try await server.terminate(signal: SIGTERM, timeout: .seconds(20))
            #expect(status == 0, "round \(round): exit \(status); stderr: \(server.stderr)")
            #expect(server.stdout.contains("CommuCat \(CommuCatServer.version) is running"))
            #expect(server.stdout.contains("\"msg\":\"stopped\""))
            #expect(FileManager.default.fileExists(atPath: data.appendingPathComponent("commucat.sqlite").path))
        }
    }

    @Test(arguments: [
        ("[log]\nlevel = \"loud\"\n", "commucat: config: log.level = \"loud\": expected trace, debug"),
        ("[server\n", "commucat: config: "),
        ("[storage]\nurl = \"mysql://db\"\n", "commucat: config: storage.url = \"mysql://db\""),
    ])
    func badConfigIsOneLineAndExitCode1(toml: String, expected: String) async throws {
        guard let binary = try? requireBinary() else { return }
        let data = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: data) }
        let file = data.appendingPathComponent("commucat.toml").path
        try toml.write(toFile: file, atomically: true, encoding: .utf8)
        let result = try await runProcess(binary, ["serve", "--config", file], environment: try Self.environment(data: data))
        #expect(result.status == 1)
        let lines = result.stderr.split(separator: "\n")
        #expect(lines.first.map { $0.hasPrefix(expected) } == true, "stderr: \(result.stderr)")
        #expect(lines.count <= 2)
        #expect(lines.dropFirst().allSatisfy { $0.hasPrefix("hint: ") })
    }

    @Test func aBusyPortIsOneLineAndExitCode1() async throws {
        guard let binary = try? requireBinary() else { return }
        let data = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: data) }
        let holder = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(holder) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(holder, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        #expect(bound == 0 && listen(holder, 1) == 0)
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { _ = getsockname(holder, $0, &length) }
        }
        let port = Int(UInt16(bigEndian: address.sin_port))
        let env = try Self.environment(data: data, extra: ["COMMUCAT_HTTP_LISTEN": "127.0.0.1:\(port)"])
        let result = try await runProcess(binary, ["serve"], environment: env)
        #expect(result.status == 1)
        #expect(result.stderr.hasPrefix("commucat: cannot listen on http.listen 127.0.0.1:\(port): address already in use\nhint: "), "\(result.stderr)")
    }

    @Test func anUnreachablePostgreSQLIsOneLineAndExitCode1() async throws {
        guard let binary = try? requireBinary() else { return }
        let data = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: data) }
        let dead = try freePort()
        let env = try Self.environment(data: data, extra: ["COMMUCAT_STORAGE_URL": "postgres://commucat:pw@127.0.0.1:\(dead)/commucat"])
        let started = ContinuousClock.now
        let result = try await runProcess(binary, ["serve"], environment: env)
        #expect(result.status == 1)
        #expect(ContinuousClock.now - started < .seconds(120), "a hang guard, not a timing test")
        let first = result.stderr.split(separator: "\n").first.map(String.init) ?? ""
        #expect(first.hasPrefix("commucat: storage: cannot reach PostgreSQL at 127.0.0.1:\(dead)"), "\(result.stderr)")
        #expect(!result.stderr.contains("pw@"), "the password leaked into the error")
        #expect(result.stderr.split(separator: "\n").count <= 2)
    }

    @Test func usageErrorsExitWith2() async throws {
        guard let binary = try? requireBinary() else { return }
        let result = try await runProcess(binary, ["serve", "--no-such-flag"])
        #expect(result.status == 2)
        #expect(result.stderr.contains("--no-such-flag"))
        let help = try await runProcess(binary, ["--help"])
        #expect(help.status == 0)
        for command in ["serve", "migrate", "register-user", "diagnostics", "ledger"] {
            #expect(help.stdout.contains(command))
        }
    }

    @Test func migrateAndRegisterUserOnSQLite() async throws {
        guard let binary = try? requireBinary() else { return }
        let data = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: data) }
        let env = try Self.environment(data: data)
        let first = try await runProcess(binary, ["migrate"], environment: env)
        #expect(first.status == 0, "\(first.stderr)")
        #expect(first.stdout.contains("applied 1 "))
        let second = try await runProcess(binary, ["migrate"], environment: env)
        #expect(second.status == 0)
        #expect(second.stdout.contains("up to date"))
        let created = try await runProcess(binary, ["register-user", "alice", "--display-name", "Alice"], environment: env)
        #expect(created.status == 0, "\(created.stderr)")
        #expect(created.stdout.hasPrefix("created user alice"))
        let again = try await runProcess(binary, ["register-user", "alice"], environment: env)
        #expect(again.status == 1)
        #expect(again.stderr.hasPrefix("commucat: a user with handle \"alice\" already exists"))
        let invalid = try await runProcess(binary, ["register-user", "Not Valid"], environment: env)
        #expect(invalid.status == 1)
        #expect(invalid.stderr.hasPrefix("commucat: invalid handle"))
    }

    @Test func tokenPrintsAJWTSignedWithTheGeneratedSecret() async throws {
        guard let binary = try? requireBinary() else { return }
        let data = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: data) }
        let env = try Self.environment(data: data)
        let result = try await runProcess(binary, ["token", "--room", "demo", "--identity", "alice", "--publish", "--ttl", "2h"], environment: env)
        #expect(result.status == 0, "\(result.stderr)")
        let parts = result.stdout.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: ".")
        #expect(parts.count == 3)
        var payload = String(parts.count == 3 ? parts[1] : "").replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while payload.count % 4 != 0 { payload += "=" }
        let claims = try #require(Data(base64Encoded: payload).flatMap { try? JSONSerialization.jsonObject(with: $0) as? [String: Any] })
        let secrets = try JSONSerialization.jsonObject(with: Data(contentsOf: data.appendingPathComponent("secrets.json"))) as? [String: Any]
        #expect(claims["room"] as? String == "demo")
        #expect(claims["sub"] as? String == "alice")
        #expect(claims["publish"] as? Bool == true)
        #expect(claims["iss"] as? String == secrets?["api_key"] as? String)
        let lifetime = ((claims["exp"] as? Double) ?? 0) - ((claims["nbf"] as? Double) ?? 0)
        #expect(lifetime > 7000 && lifetime <= 7300)
        let bad = try await runProcess(binary, ["token", "--room", "demo", "--identity", "alice", "--ttl", "soon"], environment: env)
        #expect(bad.status != 0)
        #expect(bad.stderr.hasPrefix("commucat: "))
    }

    @Test func migrateOnARealPostgreSQL() async throws {
        guard let binary = try? requireBinary() else { return }
        guard let postgres = ProcessInfo.processInfo.environment["COMMUCAT_TEST_POSTGRES_URL"] else {
            if isCI { Issue.record("COMMUCAT_TEST_POSTGRES_URL is not set: make test starts PostgreSQL") }
            return
        }
        let data = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: data) }
        let env = try Self.environment(data: data, extra: ["COMMUCAT_STORAGE_URL": postgres])
        let result = try await runProcess(binary, ["migrate"], environment: env)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("storage postgres"))
        let handle = "pg\(UInt32.random(in: 0...UInt32.max))"
        let created = try await runProcess(binary, ["register-user", handle], environment: env)
        #expect(created.status == 0, "\(created.stderr)")
    }

    @Test func diagnosticsPassOnDefaultsAndFailOnADeadRedis() async throws {
        guard let binary = try? requireBinary() else { return }
        let data = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: data) }
        let ok = try await runProcess(binary, ["diagnostics"], environment: try Self.environment(data: data))
        #expect(ok.status == 0, "\(ok.stdout)\(ok.stderr)")
        for check in ["config", "data dir", "storage", "redis", "http.listen", "https.listen", "media.udp_listen", "tls certificate", "turn"] {
            #expect(ok.stdout.contains(check), "missing check \(check)")
        }
        let dead = try freePort()
        let failing = try await runProcess(
            binary, ["diagnostics"], environment: try Self.environment(data: data, extra: ["COMMUCAT_REDIS_URL": "redis://127.0.0.1:\(dead)"]))
        #expect(failing.status == 1)
        #expect(failing.stdout.contains("redis") && failing.stdout.contains("fail"))
        #expect(failing.stderr.hasPrefix("commucat: diagnostics: 1 check failed"))
    }

    @Test func ledgerVerifyDetectsTampering() async throws {
        guard let binary = try? requireBinary() else { return }
        let data = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: data) }
        let path = data.appendingPathComponent("ledger.jsonl").path
        let ledger = try Ledger.open(mode: .file, path: path)
        for i in 0..<5 { ledger.record(scope: .admin, result: "ok", fields: ["n": .int(Int64(i))]) }
        try await ledger.close()
        let intact = try await runProcess(binary, ["ledger", "verify", path])
        #expect(intact.status == 0, "\(intact.stderr)")
        #expect(intact.stdout.contains("5 records, chain intact"))

        var lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map(String.init)
        lines[2] = lines[2].replacingOccurrences(of: "\"n\":2", with: "\"n\":7")
        try (lines.joined(separator: "\n") + "\n").write(toFile: path, atomically: true, encoding: .utf8)
        let tampered = try await runProcess(binary, ["ledger", "verify", path])
        #expect(tampered.status == 1)
        #expect(tampered.stderr.hasPrefix("commucat: "))
        #expect(tampered.stderr.contains(":3:"), "\(tampered.stderr)")
    }

    @Test func redisReadinessFollowsARealRedis() async throws {
        guard let binary = try? requireBinary() else { return }
        guard let redis = ProcessInfo.processInfo.environment["COMMUCAT_TEST_REDIS_URL"] else {
            if isCI { Issue.record("COMMUCAT_TEST_REDIS_URL is not set: make test starts Redis") }
            return
        }
        let data = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: data) }
        let env = try Self.environment(data: data, extra: ["COMMUCAT_REDIS_URL": redis])
        let server = try ServerProcess(binary: binary, arguments: ["serve"], environment: env)
        let port = env["COMMUCAT_HTTP_LISTEN"]?.split(separator: ":").last.map(String.init) ?? "0"
        #expect(try await server.waitForHTTP("http://127.0.0.1:\(port)/healthz", timeout: .seconds(60)))
        let ready = try await fetch("http://127.0.0.1:\(port)/readyz")
        #expect(ready.body.contains("\"redis\":{\"status\":\"up\",\"backend\":\"redis\"}"), "\(ready.body)")
        #expect(try await server.terminate(signal: SIGTERM, timeout: .seconds(20)) == 0)
    }
}

/// A free TCP port on 127.0.0.1 (bound and released; good enough for tests).
func freePort() throws -> Int {
    try freePorts(1)[0]
}

/// `count` different free TCP ports on loopback: every socket stays bound until all are picked,
/// so the kernel cannot hand out one port twice (it did, once: http.listen and https.listen
/// collided in CI).
func freePorts(_ count: Int) throws -> [Int] {
    var sockets: [Int32] = []
    defer { for fd in sockets { close(fd) } }
    var ports: [Int] = []
    for _ in 0..<count {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw POSIXError(.EMFILE) }
        sockets.append(fd)
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
        ports.append(Int(UInt16(bigEndian: address.sin_port)))
    }
    return ports
}

/// A `commucat serve` child process whose output is collected.
final class ServerProcess: @unchecked Sendable {
    let process = Process()
    private let out = Pipe()
    private let err = Pipe()
    private let lock = NSLock()
    private var stdoutData = Data()
    private var stderrData = Data()

    private var openStreams = 2
    private var exitStatus: Int32?

    init(binary: String, arguments: [String], environment: [String: String]?, stdin: String? = nil) throws {
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = arguments
        if let environment { process.environment = environment }
        process.standardOutput = out
        process.standardError = err
        let input = Pipe()
        process.standardInput = stdin == nil ? FileHandle.nullDevice : input
        out.fileHandleForReading.readabilityHandler = { [weak self] handle in self?.append(handle, toStdout: true) }
        err.fileHandleForReading.readabilityHandler = { [weak self] handle in self?.append(handle, toStdout: false) }
        process.terminationHandler = { [weak self] finished in
            self?.lock.withLock { self?.exitStatus = finished.terminationStatus }
        }
        try process.run()
        if let stdin {
            input.fileHandleForWriting.write(Data(stdin.utf8))
            try? input.fileHandleForWriting.close()
        }
    }

    private func append(_ handle: FileHandle, toStdout: Bool) {
        let data = handle.availableData
        lock.withLock {
            if data.isEmpty {
                handle.readabilityHandler = nil
                openStreams -= 1
            } else if toStdout {
                stdoutData.append(data)
            } else {
                stderrData.append(data)
            }
        }
    }

    /// Waits (bounded) until both pipes reached end of file, then returns what they carried.
    func collectedOutput() async throws -> (stdout: String, stderr: String) {
        for _ in 0..<250 where lock.withLock({ openStreams > 0 }) {
            try await Task.sleep(for: .milliseconds(20))
        }
        return (stdout, stderr)
    }

    deinit {
        if status == nil { kill(process.processIdentifier, SIGKILL) }
    }

    /// The exit status once the process has ended (from its termination handler).
    var status: Int32? { lock.withLock { exitStatus } }

    /// Waits for the process to end, bounded; kills it past `timeout`.
    func waitForExit(timeout: Duration) async throws -> Int32 {
        let deadline = ContinuousClock.now + timeout
        while true {
            if let status { return status }
            if ContinuousClock.now > deadline {
                kill(process.processIdentifier, SIGKILL)
                throw TimedOut()
            }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    var stdout: String { lock.withLock { String(decoding: stdoutData, as: UTF8.self) } }
    var stderr: String { lock.withLock { String(decoding: stderrData, as: UTF8.self) } }

    /// Polls `url` until it answers 200, the process exits, or `timeout` passes.
    func waitForHTTP(_ url: String, timeout: Duration) async throws -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline, status == nil {
            if let response = try? await fetch(url), response.status == 200 { return true }
            try await Task.sleep(for: .milliseconds(200))
        }
        return false
    }

    /// Sends `signal` and waits for the exit status.
    func terminate(signal: Int32, timeout: Duration) async throws -> Int32 {
        kill(process.processIdentifier, signal)
        let status = try await waitForExit(timeout: timeout)
        _ = try await collectedOutput()
        return status
    }
}
