import CCP
import ConnectCore
import Foundation
import HummingbirdWSClient
import Logging
import NIOCore
import Synchronization
import Testing

@testable import Ops
@testable import Signalling

/// Sends raw plaintext frames over `GET /connect` and collects the server's frames until it closes.
func rawExchange(_ endpoints: TestEndpoints, _ frames: [CCPFrame]) async throws -> [CCPFrame] {
    let collected = Mutex<[CCPFrame]>([])
    try await WebSocketClient.connect(url: endpoints.webSocket, logger: quietLogger) { inbound, outbound, _ in
        try await outbound.write(.binary(ConnectConnection.encode(frames)))
        var buffer = ByteBuffer()
        for try await message in inbound.messages(maxSize: 1 << 20) {
            guard case .binary(var bytes) = message else { continue }
            buffer.writeBuffer(&bytes)
            var decoder = CCPFrameDecoder()
            while case .frame(let frame) = try decoder.decode(buffer: &buffer) { collected.withLock { $0.append(frame) } }
        }
    }
    return collected.withLock { $0 }
}

@Suite(.serialized) struct ConnectWebSocketTests {
    static let autoApprove = ["COMMUCAT_SERVER_AUTO_APPROVE_DEVICES": "true"]

    @Test(arguments: [NoisePattern.xk, .ik])
    func handshakeKeepaliveAndUnsupportedFrames(pattern: NoisePattern) async throws {
        try await withServer(environment: Self.autoApprove) { server, endpoints in
            let identity = DeviceIdentity.generate()
            let connection = try await clientConnection(endpoints, identity: identity, pattern: pattern, handle: "alice")
            let ack = try await CCPWebSocketClient.connect(url: endpoints.webSocket, connection: connection) { session in
                #expect(try await session.keepalive(nonce: "n-1"))
                #expect(try await session.keepalive(nonce: "n-2"))
                // Call frames are not handled yet (SPEC §4.5): refused, and the session stays.
                try await session.send(CCPFrame(type: .callOffer, channelID: 7, sequence: 3, json: "{}"))
                let reply = try #require(try await session.next())
                #expect(reply.type == .error)
                #expect(reply.channelID == 7)
                #expect(String(buffer: reply.payload).contains("\"unsupported\""))
                await session.close()
                return try #require(session.ack)
            }
            #expect(ack.user.handle == "alice")
            #expect(ack.keepaliveInterval == 30)
            #expect(ack.deviceCAPublic == Hex.encode(server.connect.keyring.deviceCAPublic))
            let certificate = try DeviceCertificate(parsing: try #require(Hex.decode(ack.deviceCertificate)))
            #expect(certificate.deviceID == identity.deviceID)
            try certificate.verify(caPublic: server.connect.keyring.deviceCA.publicKey, now: Date())

            let records = try await ledgerRecords(server, endpoints)
            #expect(records.contains { ($0["scope"] as? String) == "handshake" && ($0["result"] as? String) == "ok"
                && (($0["fields"] as? [String: Any])?["pattern"] as? String) == pattern.rawValue })
            #expect(records.contains { ($0["scope"] as? String) == "device" && ($0["result"] as? String) == "registered" })

            // A second connection of the same device presents its certificate and reuses the key.
            var known = identity
            known.certificate = ack.deviceCertificate
            let again = try await clientConnection(endpoints, identity: known, pattern: pattern)
            #expect(try await handshakeFailureCode(endpoints, again) == nil)
        }
    }

    @Test func taxonomyCodesReachTheClientAndTheLedger() async throws {
        try await withServer(environment: Self.autoApprove) { server, endpoints in
            // Unsupported version.
            var versions = try await clientConnection(endpoints, identity: .generate(), pattern: .xk, handle: "carol")
            versions = CCPClientConnection(identity: versions.identity, options: { var o = versions.options; o.supportedVersions = [2]; return o }())
            #expect(try await handshakeFailureCode(endpoints, versions) == "protocol_version")

            // Bad proof: signed for another domain.
            let base = try await clientConnection(endpoints, identity: .generate(), pattern: .ik, handle: "carol")
            var options = base.options
            options.domain = "not-this-server.example"
            #expect(try await handshakeFailureCode(endpoints, CCPClientConnection(identity: base.identity, options: options)) == "proof")

            // Tampered certificate.
            var tampered = base.identity
            let real = try DeviceCertificate.issue(
                deviceID: tampered.deviceID, userID: "u", devicePublic: tampered.devicePublic, now: Date(), ca: server.connect.keyring.deviceCA)
            var bytes = real.encoded
            bytes[bytes.count - 1] ^= 0x40
            tampered.certificate = Hex.encode(bytes)
            #expect(try await handshakeFailureCode(endpoints, CCPClientConnection(identity: tampered, options: base.options)) == "certificate")

            // Unknown pattern (raw Hello).
            var client = base
            var hello = try #require(try ConnectHandshakeTests.frames(client.start()).first)
            var object = try #require(try JSONSerialization.jsonObject(with: Data(hello.payload.readableBytesView)) as? [String: Any])
            object["pattern"] = "KK"
            hello.payload = ByteBuffer(bytes: try JSONSerialization.data(withJSONObject: object))
            let replies = try await rawExchange(endpoints, [hello])
            #expect(replies.count == 1)
            #expect(replies.first?.type == .error)
            #expect(String(buffer: try #require(replies.first).payload).contains("\"error\":\"pattern\""))

            // Garbage bytes.
            let garbage = try await rawExchange(endpoints, [CCPFrame(type: .msg, channelID: 0, sequence: 1, json: "x")])
            #expect(String(buffer: try #require(garbage.first).payload).contains("\"error\":\"decode\""))

            let results = Set(try await ledgerRecords(server, endpoints).filter { ($0["scope"] as? String) == "handshake" }.compactMap { $0["result"] as? String })
            for code in ["protocol_version", "proof", "certificate", "pattern", "decode"] {
                #expect(results.contains(code), "ledger lacks \(code)")
            }
            // Every refusal is counted by code in /metrics (loopback, no admin token configured).
            let metrics = try await fetch(endpoints.http + "/metrics")
            #expect(metrics.status == 200)
            for code in ["protocol_version", "proof", "certificate", "pattern", "decode"] {
                #expect(metrics.body.contains("commucat_connect_rejections_total{code=\"\(code)\"}"), "metrics lack \(code)")
            }
        }
    }

    /// `limits.keepalive_interval = 1s`: a client that stays silent gets `Error idle_timeout` and the
    /// stream closes (3 intervals); the hang guard is generous, nothing asserts on wall-clock time.
    @Test func silentSessionIsClosedWithIdleTimeout() async throws {
        var environment = Self.autoApprove
        environment["COMMUCAT_LIMITS_KEEPALIVE_INTERVAL"] = "1s"
        try await withServer(environment: environment) { server, endpoints in
            let connection = try await clientConnection(endpoints, identity: .generate(), pattern: .ik, handle: "quiet")
            let frames = try await CCPWebSocketClient.connect(url: endpoints.webSocket, connection: connection) { session in
                #expect(session.ack?.keepaliveInterval == 1)
                var received: [CCPFrame] = []
                // Bounded: the server closes after ~3 s; 60 s is only a hang guard.
                let deadline = ContinuousClock.now + .seconds(60)
                while received.count < 10, ContinuousClock.now < deadline, let frame = try await session.next() {
                    received.append(frame)
                }
                return received
            }
            let last = try #require(frames.last)
            #expect(last.type == .error)
            #expect(String(buffer: last.payload).contains("\"idle_timeout\""))
            let records = try await ledgerRecords(server, endpoints)
            #expect(records.contains { ($0["result"] as? String) == "closed" && (($0["fields"] as? [String: Any])?["code"] as? String) == "idle_timeout" })
        }
    }

    @Test func unknownDeviceWithoutAutoApprovalNeedsPairing() async throws {
        try await withServer { server, endpoints in
            let connection = try await clientConnection(endpoints, identity: .generate(), pattern: .xk, handle: "mallory")
            #expect(try await handshakeFailureCode(endpoints, connection) == "pairing_required")
            let records = try await ledgerRecords(server, endpoints)
            #expect(records.contains { ($0["result"] as? String) == "pairing_required" })
        }
    }

    @Test func serverInfoListsEverySpecField() async throws {
        try await withServer { server, endpoints in
            let info = try await fetch(endpoints.http + "/api/server-info").json
            for field in [
                "domain", "noise_public", "noise_keys", "noise_prologue", "device_ca_public", "supported_patterns", "supported_versions", "session",
                "presence", "pairing", "post_quantum", "ice_servers", "media",
            ] {
                #expect(info[field] != nil, "missing \(field)")
            }
            #expect(info["supported_patterns"] as? [String] == ["XK", "IK"])
            #expect(info["supported_versions"] as? [Int] == [1])
            #expect(info["noise_prologue"] as? String == "commucat")
            let keys = try #require(info["noise_keys"] as? [[String: Any]])
            #expect(keys.first?["public"] as? String == info["noise_public"] as? String)
            for key in ["version", "public", "valid_after", "rotates_at", "expires_at"] { #expect(keys.first?[key] != nil) }

            // /openapi.json (docs/openapi.yaml) documents every endpoint of this module.
            let openapi = try await fetch(endpoints.http + "/openapi.json").json
            let paths = try #require(openapi["paths"] as? [String: Any])
            for path in ["/api/server-info", "/api/pair", "/api/pair/claim", "/api/devices", "/api/devices/revoke", "/api/devices/rotate", "/connect", "/connect/{stream}"] {
                #expect(paths[path] != nil, "openapi lacks \(path)")
            }
        }
    }
}
