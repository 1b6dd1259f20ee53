import Foundation
import Testing

@testable import Ops

/// The attack suite (docs/SECURITY.md): each test performs one probe of the security review
/// against the real `commucat` binary on loopback and checks that it now fails the way it should.
/// Run only this suite with `swift test --skip-build --filter OpsTests.Attack`.
enum Attack {
    /// Present when the binary is built; under `CI=true` the suites run anyway and fail loudly
    /// (a missing binary must never read as "passed").
    static var enabled: Bool { CommucatProcessTests.binary != nil || isCI }

    static func binary() throws -> String {
        guard let binary = CommucatProcessTests.binary else {
            Issue.record("the commucat binary is not built (COMMUCAT_BIN)")
            throw CommucatProcessTests.SkipTest()
        }
        return binary
    }
}

/// One `commucat serve` on free loopback ports with its own data dir, stopped by ``stop()``.
final class AttackServer: @unchecked Sendable {
    let data: URL
    let environment: [String: String]
    let process: ServerProcess
    let httpPort: Int
    let httpsPort: Int
    let mediaPort: Int

    var base: String { "http://127.0.0.1:\(httpPort)" }
    var secureBase: String { "https://127.0.0.1:\(httpsPort)" }
    var pid: Int32 { process.process.processIdentifier }

    /// Starts the server with `extra` environment (`COMMUCAT_…` keys) and waits for `/healthz`.
    init(extra: [String: String] = [:], arguments: [String] = ["serve"]) async throws {
        let binary = try Attack.binary()
        data = try makeTemporaryDirectory()
        let environment = try CommucatProcessTests.environment(data: data, extra: extra)
        self.environment = environment
        func port(_ key: String) -> Int { environment[key]?.split(separator: ":").last.flatMap { Int($0) } ?? 0 }
        httpPort = port("COMMUCAT_HTTP_LISTEN")
        httpsPort = port("COMMUCAT_HTTPS_LISTEN")
        mediaPort = port("COMMUCAT_MEDIA_UDP_LISTEN")
        process = try ServerProcess(binary: binary, arguments: arguments, environment: environment)
        let healthy = try await process.waitForHTTP("http://127.0.0.1:\(httpPort)/healthz", timeout: .seconds(60))
        guard healthy else {
            Issue.record("/healthz never answered; stderr: \(process.stderr)")
            _ = try? await process.terminate(signal: SIGKILL, timeout: .seconds(5))
            throw TimedOut()
        }
    }

    /// Resident set size of the server process in bytes (`VmRSS` of /proc/PID/status).
    func residentBytes() -> Int {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return 0 }
        for line in text.split(separator: "\n") where line.hasPrefix("VmRSS:") {
            let digits = line.split(separator: " ").compactMap { Int($0) }
            return (digits.first ?? 0) * 1024
        }
        return 0
    }

    /// Open file descriptors of the server process.
    func openDescriptors() -> Int {
        (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd").count) ?? 0
    }

    /// The value of one Prometheus sample line (`name{labels} value`) in `/metrics`, summed over
    /// every line that starts with `prefix`.
    func metric(_ prefix: String) async throws -> Double {
        let response = try await fetch(base + "/metrics")
        return response.body.split(separator: "\n").filter { $0.hasPrefix(prefix) }
            .compactMap { $0.split(separator: " ").last.flatMap { Double($0) } }.reduce(0, +)
    }

    /// Stops the server (SIGTERM, then SIGKILL) and removes its data dir; returns the exit status.
    @discardableResult
    func stop() async -> Int32? {
        let status = try? await process.terminate(signal: SIGTERM, timeout: .seconds(20))
        try? FileManager.default.removeItem(at: data)
        return status
    }
}
