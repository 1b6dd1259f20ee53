import Foundation
import Testing

@testable import Ops
@testable import Signalling

/// `scripts/noise_client.py` (PyPI noiseprotocol + websockets, no CommuCat code) against the server.
@Suite(.serialized) struct PythonNoiseClientTests {
    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()

    static var python: String? {
        let configured = ProcessInfo.processInfo.environment["COMMUCAT_TEST_PYTHON"] ?? ""
        let path = configured.isEmpty ? packageRoot.appendingPathComponent(".build/venv/bin/python3").path : configured
        return FileManager.default.isExecutableFile(atPath: path) ? path : nil
    }

    static var isCI: Bool { ProcessInfo.processInfo.environment["CI"] == "true" }

    /// Both patterns over WebSocket and over HTTP/2 duplex `POST /connect` on the TLS listener.
    @Test(arguments: ["XK", "IK"], ["websocket", "h2"])
    func completesHandshakeAndKeepalives(pattern: String, transport: String) async throws {
        guard let python = Self.python else {
            // In CI every real peer must be present.
            #expect(!Self.isCI, "Python venv missing: run scripts/make-venv.sh or set COMMUCAT_TEST_PYTHON")
            return
        }
        try await withServer(environment: ["COMMUCAT_SERVER_AUTO_APPROVE_DEVICES": "true"]) { server, endpoints in
            let script = Self.packageRoot.appendingPathComponent("scripts/noise_client.py").path
            var arguments = [script, "--base", endpoints.http, "--pattern", pattern, "--handle", "py-\(pattern.lowercased())-\(transport)", "--keepalives", "3"]
            if transport == "h2" { arguments += ["--h2", endpoints.https] }
            let (status, output) = try await Self.run(python, arguments)
            let events = output.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
            #expect(status == 0, "noise_client.py: \(output)")
            #expect(events.first?["event"] as? String == "ack")
            #expect(events.first?["transport"] as? String == transport)
            #expect(events.filter { $0["event"] as? String == "keepalive" }.count == 3)
            let records = try await ledgerRecords(server, endpoints)
            #expect(records.contains { ($0["result"] as? String) == "ok" && (($0["fields"] as? [String: Any])?["pattern"] as? String) == pattern })
        }
    }

    @Test func wrongServerKeyIsRefusedWithNoise() async throws {
        guard let python = Self.python else {
            #expect(!Self.isCI, "Python venv missing")
            return
        }
        try await withServer(environment: ["COMMUCAT_SERVER_AUTO_APPROVE_DEVICES": "true"]) { _, endpoints in
            let script = Self.packageRoot.appendingPathComponent("scripts/noise_client.py").path
            let (status, output) = try await Self.run(python, [script, "--base", endpoints.http, "--pattern", "IK", "--server-static", String(repeating: "11", count: 32)])
            #expect(status == 1)
            #expect(output.contains("\"error\": \"noise\""))
        }
    }

    /// Runs a process to completion within 60 s; returns status and stdout+stderr.
    static func run(_ executable: String, _ arguments: [String]) async throws -> (Int32, String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("noise-client-\(UUID().uuidString).log")
        _ = FileManager.default.createFile(atPath: output.path, contents: nil)
        let handle = try FileHandle(forWritingTo: output)
        defer {
            try? handle.close()
            try? FileManager.default.removeItem(at: output)
        }
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        for _ in 0..<600 where process.isRunning {
            try await Task.sleep(for: .milliseconds(100))
        }
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
        return (process.terminationStatus, (try? String(contentsOf: output, encoding: .utf8)) ?? "")
    }
}
