import Foundation
import NIOCore
import NIOPosix
import Redis
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Where `redis-server` is, and whether the integration tests must run.
enum RedisServerBinary {
    static let path: String? = {
        let directories = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin")
            .split(separator: ":")
        for directory in directories {
            let candidate = "\(directory)/redis-server"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }()

    static var isRequired: Bool { ProcessInfo.processInfo.environment["CI"] == "true" }

    /// Run when redis-server exists, or when CI=true (then a missing binary fails loudly).
    static var shouldRun: Bool { self.path != nil || self.isRequired }

    static func require() throws -> String {
        try #require(
            self.path,
            "redis-server is not on PATH but CI=true requires the Redis integration tests: install it (apt-get install redis-server)"
        )
    }
}

/// A throw-away `redis-server` on a free 127.0.0.1 port, killed by `stop()` (or deinit).
final class RedisServerProcess {
    let binary: String
    let port: Int
    let extraArguments: [String]
    private var process: Process?

    var url: RedisURL { RedisURL(host: "127.0.0.1", port: self.port) }

    /// Starts a server on a fresh port; retries a few ports if one was taken meanwhile.
    static func start(extraArguments: [String] = []) async throws -> RedisServerProcess {
        let binary = try RedisServerBinary.require()
        var lastError: (any Error)?
        for _ in 0..<3 {
            let server = RedisServerProcess(binary: binary, port: try await Self.freePort(), extraArguments: extraArguments)
            do {
                try await server.start()
                return server
            } catch {
                lastError = error
                server.stop()
            }
        }
        throw lastError ?? ServerError(message: "redis-server did not start")
    }

    private init(binary: String, port: Int, extraArguments: [String]) {
        self.binary = binary
        self.port = port
        self.extraArguments = extraArguments
    }

    deinit { self.stop() }

    /// (Re)starts the server on `port` and waits (at most 5 s) until it accepts connections.
    func start() async throws {
        self.stop()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: self.binary)
        process.arguments = [
            "--port", String(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
            "--daemonize", "no", "--dir", NSTemporaryDirectory(), "--loglevel", "warning",
        ] + self.extraArguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        self.process = process
        let deadline = ContinuousClock.now + .seconds(5)
        while ContinuousClock.now < deadline {
            guard process.isRunning else { throw ServerError(message: "redis-server exited at start (port \(self.port))") }
            if await Self.accepts(port: self.port) { return }
            try await Task.sleep(for: .milliseconds(25))
        }
        throw ServerError(message: "redis-server did not accept connections on \(self.port) within 5 s")
    }

    /// Kills the server abruptly (SIGKILL): clients see their connections drop.
    func stop() {
        guard let process = self.process else { return }
        self.process = nil
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }

    private static func accepts(port: Int) async -> Bool {
        do {
            let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .connectTimeout(.milliseconds(200))
                .connect(host: "127.0.0.1", port: port).get()
            try? await channel.close()
            return true
        } catch {
            return false
        }
    }

    static func freePort() async throws -> Int {
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .bind(host: "127.0.0.1", port: 0).get()
        let port = channel.localAddress?.port
        try await channel.close()
        return try #require(port)
    }

    struct ServerError: Error, CustomStringConvertible {
        var message: String
        var description: String { self.message }
    }
}

/// Polls `condition` every 20 ms for at most `timeout`; returns whether it became true.
func eventually(timeout: Duration, _ condition: () async -> Bool) async -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if await condition() { return true }
        try? await Task.sleep(for: .milliseconds(20))
    }
    return await condition()
}

/// Runs `body` with a started server and a connected client, then closes both even on failure.
func withRedis(
    serverArguments: [String] = [],
    configuration: RedisClient.Configuration = RedisClient.Configuration(),
    _ body: (RedisServerProcess, RedisClient) async throws -> Void
) async throws {
    let server = try await RedisServerProcess.start(extraArguments: serverArguments)
    defer { server.stop() }
    let client = RedisClient(url: server.url, configuration: configuration)
    do {
        try await client.connect()
        try await body(server, client)
    } catch {
        await client.close()
        throw error
    }
    await client.close()
}
