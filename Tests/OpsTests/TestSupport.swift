import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import Testing

@testable import Ops

/// A fresh temporary directory, removed by the caller.
func makeTemporaryDirectory() throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("commucat-test-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

/// A config for an in-process server on free loopback ports with its own data dir.
func testConfig(dataDirectory: URL, environment: [String: String] = [:]) throws -> CommuCatConfig {
    var env = environment
    env["COMMUCAT_SERVER_DATA_DIR"] = dataDirectory.path
    env["COMMUCAT_HTTP_LISTEN"] = env["COMMUCAT_HTTP_LISTEN"] ?? "127.0.0.1:0"
    env["COMMUCAT_HTTPS_LISTEN"] = env["COMMUCAT_HTTPS_LISTEN"] ?? "127.0.0.1:0"
    env["COMMUCAT_MEDIA_UDP_LISTEN"] = env["COMMUCAT_MEDIA_UDP_LISTEN"] ?? "127.0.0.1:0"
    return try CommuCatConfig.load(file: nil, environment: env)
}

struct TimedOut: Error {}

/// Runs `body` against a running in-process server, then cancels it. Bounded in time.
func withRunningServer<T: Sendable>(
    _ config: CommuCatConfig,
    _ body: @Sendable (CommuCatServer, [String: SocketAddress]) async throws -> T
) async throws -> T {
    let server = try await CommuCatServer.build(config: config)
    return try await withThrowingTaskGroup(of: T?.self) { group in
        group.addTask {
            try await server.run(gracefulShutdownSignals: [])
            return nil
        }
        group.addTask {
            try await Task.sleep(for: .seconds(60))
            throw TimedOut()
        }
        let addresses = await server.bound.wait()
        let result: T
        do {
            result = try await body(server, addresses)
        } catch {
            await server.shutdown()
            throw error
        }
        await server.shutdown()
        // The first task to finish is the server (graceful shutdown) or the time limit.
        _ = try await group.next()
        group.cancelAll()
        return result
    }
}

/// An HTTP client that accepts the self-signed certificate.
let insecureClient: HTTPClient = {
    var configuration = HTTPClient.Configuration(certificateVerification: .none)
    configuration.timeout = .init(connect: .seconds(5), read: .seconds(20))
    return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
}()

struct FetchedResponse: Sendable {
    var status: Int
    var headers: HTTPHeaders
    var body: String
    var version: HTTPVersion
}

func fetch(_ url: String, method: HTTPMethod = .GET, headers: [(String, String)] = [], body: String? = nil) async throws
    -> FetchedResponse
{
    var request = HTTPClientRequest(url: url)
    request.method = method
    for (name, value) in headers { request.headers.add(name: name, value: value) }
    if let body { request.body = .bytes(ByteBuffer(string: body)) }
    let response = try await insecureClient.execute(request, timeout: .seconds(20))
    let buffer = try await response.body.collect(upTo: 16 * 1024 * 1024)
    return FetchedResponse(status: Int(response.status.code), headers: response.headers, body: String(buffer: buffer), version: response.version)
}

func url(_ addresses: [String: SocketAddress], _ listener: String, _ path: String) -> String {
    let scheme = listener == "https" ? "https" : "http"
    return "\(scheme)://127.0.0.1:\(addresses[listener]?.port ?? 0)\(path)"
}

/// Runs a program with stdin, bounded in time; returns exit code and output. Output is collected by
/// readability handlers (Dispatch threads), never by blocking reads on the cooperative pool.
func runProcess(_ executable: String, _ arguments: [String], stdin: String? = nil, environment: [String: String]? = nil, timeout: Duration = .seconds(60))
    async throws -> (status: Int32, stdout: String, stderr: String)
{
    let process = try ServerProcess(binary: executable, arguments: arguments, environment: environment, stdin: stdin)
    let status = try await process.waitForExit(timeout: timeout)
    let output = try await process.collectedOutput()
    return (status, output.stdout, output.stderr)
}

/// The path of a tool on PATH, or nil.
func which(_ tool: String) -> String? {
    for directory in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":") {
        let path = "\(directory)/\(tool)"
        if FileManager.default.isExecutableFile(atPath: path) { return path }
    }
    return nil
}

/// In CI every real peer must be present: a missing one fails instead of skipping.
var isCI: Bool { ProcessInfo.processInfo.environment["CI"] == "true" }
