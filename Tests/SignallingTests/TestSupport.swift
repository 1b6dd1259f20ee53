import AsyncHTTPClient
import CCP
import ConnectCore
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import Storage
import Testing

@testable import Ops
@testable import Signalling

func makeTemporaryDirectory() throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("commucat-sig-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

let quietLogger: Logger = {
    var logger = Logger(label: "commucat.signalling.tests")
    logger.logLevel = .warning
    return logger
}()

/// A fresh migrated SQLite storage in a temporary directory.
func withStorage<T>(_ body: (any Storage) async throws -> T) async throws -> T {
    let directory = try makeTemporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let storage = try await StorageFactory.open(url: "sqlite://\(directory.path)/test.sqlite", logger: quietLogger)
    try await storage.migrate()
    do {
        let result = try await body(storage)
        await storage.close()
        return result
    } catch {
        await storage.close()
        throw error
    }
}

struct TimedOut: Error {}

/// Runs `body` against an in-process server (SQLite, port 0) with its own data dir.
func withServer<T: Sendable>(
    environment: [String: String] = [:],
    _ body: @Sendable (CommuCatServer, TestEndpoints) async throws -> T
) async throws -> T {
    let directory = try makeTemporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    var env = environment
    env["COMMUCAT_SERVER_DATA_DIR"] = directory.path
    env["COMMUCAT_HTTP_LISTEN"] = "127.0.0.1:0"
    env["COMMUCAT_HTTPS_LISTEN"] = "127.0.0.1:0"
    env["COMMUCAT_MEDIA_UDP_LISTEN"] = "127.0.0.1:0"
    env["COMMUCAT_LOG_LEVEL"] = "warning"
    let config = try CommuCatConfig.load(file: nil, environment: env)
    let server = try await CommuCatServer.build(config: config, logger: quietLogger)
    return try await withThrowingTaskGroup(of: T?.self) { group in
        group.addTask {
            try await server.run(gracefulShutdownSignals: [])
            return nil
        }
        group.addTask {
            try await Task.sleep(for: .seconds(90))
            throw TimedOut()
        }
        let addresses = await server.bound.wait()
        let endpoints = TestEndpoints(
            http: "http://127.0.0.1:\(addresses["http"]?.port ?? 0)", https: "https://127.0.0.1:\(addresses["https"]?.port ?? 0)",
            ledgerPath: directory.appendingPathComponent("ledger.jsonl").path)
        let result: T
        do {
            result = try await body(server, endpoints)
        } catch {
            await server.shutdown()
            group.cancelAll()
            throw error
        }
        await server.shutdown()
        _ = try await group.next()
        group.cancelAll()
        return result
    }
}

struct TestEndpoints: Sendable {
    var http: String
    var https: String
    var ledgerPath: String

    var webSocket: String { ClientCommands.webSocketURL(base: http) }
}

/// Ledger records (parsed JSON lines) after a flush.
func ledgerRecords(_ server: CommuCatServer, _ endpoints: TestEndpoints) async throws -> [[String: Any]] {
    try await server.backends.ledger.flush()
    let text = (try? String(contentsOfFile: endpoints.ledgerPath, encoding: .utf8)) ?? ""
    return text.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
}

let insecureClient: HTTPClient = {
    var configuration = HTTPClient.Configuration(certificateVerification: .none)
    configuration.timeout = .init(connect: .seconds(5), read: .seconds(20))
    return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
}()

struct Fetched: Sendable {
    var status: Int
    var headers: HTTPHeaders
    var body: String
    var json: [String: Any] { ((try? JSONSerialization.jsonObject(with: Data(body.utf8))) as? [String: Any]) ?? [:] }
}

func fetch(_ url: String, method: HTTPMethod = .GET, bearer: String? = nil, json: [String: Any]? = nil, body: ByteBuffer? = nil) async throws -> Fetched {
    var request = HTTPClientRequest(url: url)
    request.method = method
    if let bearer { request.headers.add(name: "Authorization", value: "Bearer \(bearer)") }
    if let json {
        request.headers.add(name: "Content-Type", value: "application/json")
        request.body = .bytes(ByteBuffer(bytes: try JSONSerialization.data(withJSONObject: json)))
    } else if let body {
        request.body = .bytes(body)
    }
    let response = try await insecureClient.execute(request, timeout: .seconds(30))
    let buffer = try await response.body.collect(upTo: 4 * 1024 * 1024)
    return Fetched(status: Int(response.status.code), headers: response.headers, body: String(buffer: buffer))
}

/// A client connection for `identity` against a running server.
func clientConnection(
    _ endpoints: TestEndpoints, identity: DeviceIdentity, pattern: NoisePattern, handle: String? = nil, presentCertificate: Bool = true
) async throws -> CCPClientConnection {
    let info = try await fetch(endpoints.http + "/api/server-info").json
    let serverStatic = try #require((info["noise_public"] as? String).flatMap(Hex.decode))
    let user = handle.map { HandshakeMessages.Hello.User(handle: $0, displayName: nil) }
    return CCPClientConnection(
        identity: identity,
        options: .init(
            pattern: pattern, domain: info["domain"] as? String ?? "", prologue: info["noise_prologue"] as? String ?? "",
            serverStatic: serverStatic, user: user, presentCertificate: presentCertificate))
}

/// Connects over WebSocket and returns the handshake failure code, or nil when it succeeded.
func handshakeFailureCode(_ endpoints: TestEndpoints, _ connection: CCPClientConnection) async throws -> String? {
    do {
        try await CCPWebSocketClient.connect(url: endpoints.webSocket, connection: connection) { session in await session.close() }
        return nil
    } catch let error as CCPClientError {
        return error.code
    }
}
