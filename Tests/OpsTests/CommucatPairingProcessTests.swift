import Foundation
import Testing

@testable import Ops

/// Pairing end to end with the real binary (SPEC §1, §4.2, §5): `commucat serve` with
/// auto-approval off, `commucat autopair`, `commucat client pair CODE`, `commucat client connect`.
@Suite(.serialized) struct CommucatPairingProcessTests {
    @Test func autopairThenClientPairAndConnectWithAutoApprovalOff() async throws {
        guard let binary = CommucatProcessTests.binary else {
            if isCI { Issue.record("the commucat binary is not built (COMMUCAT_BIN)") }
            return
        }
        let data = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: data) }
        var env = try CommucatProcessTests.environment(data: data, extra: ["COMMUCAT_SERVER_AUTO_APPROVE_DEVICES": "false"])
        env["COMMUCAT_CLIENT_IDENTITY"] = nil
        let port = env["COMMUCAT_HTTP_LISTEN"]?.split(separator: ":").last.map(String.init) ?? "0"
        let base = "http://127.0.0.1:\(port)"
        let server = try ServerProcess(binary: binary, arguments: ["serve"], environment: env)
        let healthy = try await server.waitForHTTP(base + "/healthz", timeout: .seconds(60))
        #expect(healthy, "/healthz never answered; stderr: \(server.stderr)")
        guard healthy else {
            _ = try await server.terminate(signal: SIGTERM, timeout: .seconds(20))
            return
        }

        let autopair = try await runProcess(binary, ["autopair", "--handle", "Zoe"], environment: env)
        #expect(autopair.status == 0, "autopair: \(autopair.stderr)")
        let code = autopair.stdout.split(separator: " ").dropFirst(2).first.map(String.init) ?? ""
        #expect(autopair.stdout.hasPrefix("pairing code ") && code.count == 9, "autopair printed: \(autopair.stdout)")

        let identity = data.appendingPathComponent("client/device.json").path
        let pair = try await runProcess(binary, ["client", "pair", code, "--server", base, "--identity", identity], environment: env)
        #expect(pair.status == 0, "client pair: \(pair.stdout) \(pair.stderr)")
        #expect(pair.stdout.contains("for user zoe"))

        for pattern in ["XK", "IK"] {
            let connect = try await runProcess(
                binary, ["client", "connect", "--server", base, "--identity", identity, "--pattern", pattern], environment: env)
            #expect(connect.status == 0, "client connect \(pattern): \(connect.stdout) \(connect.stderr)")
            #expect(connect.stdout.contains("user zoe") && connect.stdout.contains("keepalive ok"), "\(connect.stdout)")
        }

        // The code is spent, and an unpaired device is refused with pairing_required.
        let other = data.appendingPathComponent("client/other.json").path
        let reuse = try await runProcess(binary, ["client", "pair", code, "--server", base, "--identity", other], environment: env)
        #expect(reuse.status == 1)
        #expect(reuse.stderr.contains("code_claimed"), "\(reuse.stderr)")

        // rotate-keys while the server runs: the old key stays valid, connections still succeed.
        let rotate = try await runProcess(binary, ["rotate-keys"], environment: env)
        #expect(rotate.status == 0, "rotate-keys: \(rotate.stderr)")
        #expect(rotate.stdout.contains("noise key version 2"), "\(rotate.stdout)")
        let afterRotation = try await runProcess(binary, ["client", "connect", "--server", base, "--identity", identity], environment: env)
        #expect(afterRotation.status == 0, "connect after rotate-keys: \(afterRotation.stderr)")

        // A second device of zoe's, then a message from it to the first with the reference client:
        // `send` while the first is offline, `listen` prints (and acknowledges) what was queued.
        let second = try await runProcess(binary, ["autopair", "--handle", "zoe"], environment: env)
        let secondCode = second.stdout.split(separator: " ").dropFirst(2).first.map(String.init) ?? ""
        let tablet = data.appendingPathComponent("client/tablet.json").path
        let pairTablet = try await runProcess(binary, ["client", "pair", secondCode, "--server", base, "--identity", tablet], environment: env)
        #expect(pairTablet.status == 0, "client pair (second device): \(pairTablet.stderr)")
        let firstID = try #require(
            (try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: identity))) as? [String: Any])?["device_id"] as? String)
        let send = try await runProcess(
            binary, ["client", "send", "--server", base, "--identity", tablet, "--to", firstID, "hello from the tablet"], environment: env)
        #expect(send.status == 0, "client send: \(send.stdout) \(send.stderr)")
        #expect(send.stdout.contains("ack channel 1") && send.stdout.contains("\"recipients\":1"), "\(send.stdout)")
        let listen = try await runProcess(
            binary, ["client", "listen", "--server", base, "--identity", identity, "--limit", "2"], environment: env)
        #expect(listen.status == 0, "client listen: \(listen.stderr)")
        #expect(listen.stdout.contains("msg channel 1") && listen.stdout.contains("hello from the tablet"), "\(listen.stdout)")

        let status = try await server.terminate(signal: SIGTERM, timeout: .seconds(20))
        #expect(status == 0, "serve exit \(status); stderr: \(server.stderr)")
    }
}
