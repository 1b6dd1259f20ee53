import CCP
import ConnectCore
import Crypto
import Foundation
import NIOCore
import Synchronization
import Testing

@testable import Ops
@testable import Signalling

@Suite(.serialized) struct DeviceEndToEndTests {
    /// Pairs a first device by autopair and returns it with its identity.
    func firstDevice(_ server: CommuCatServer, _ endpoints: TestEndpoints, handle: String) async throws -> DeviceIdentity {
        let (_, code) = try await PairingCodes.autopair(storage: server.backends.storage, handle: handle)
        return try await claim(endpoints, code: code.code)
    }

    func claim(_ endpoints: TestEndpoints, code: String) async throws -> DeviceIdentity {
        var identity = DeviceIdentity.generate()
        let reply = try await fetch(
            endpoints.http + "/api/pair/claim", method: .POST,
            json: ["pair_code": code, "device_public": Hex.encode(identity.devicePublic), "device_id": identity.deviceID, "device_name": "test"])
        #expect(reply.status == 201)
        identity.certificate = reply.json["certificate"] as? String
        return identity
    }

    /// A live session of `identity` (the REST bearer is valid while its stream is open).
    func liveSession(_ endpoints: TestEndpoints, _ identity: DeviceIdentity) async throws -> CCPLiveClient {
        let connection = try await clientConnection(endpoints, identity: identity, pattern: .ik)
        return try await CCPLiveClient.connect(url: endpoints.webSocket, connection: connection)
    }

    @Test func pairSecondDeviceListRevokeAndDisconnect() async throws {
        try await withServer { server, endpoints in
            let first = try await firstDevice(server, endpoints, handle: "erin")
            let live = try await liveSession(endpoints, first)
            let bearer = live.ack.session

            let unauthorized = try await fetch(endpoints.http + "/api/pair", method: .POST)
            #expect(unauthorized.status == 401)
            let pair = try await fetch(endpoints.http + "/api/pair", method: .POST, bearer: bearer)
            #expect(pair.status == 201)
            let code = try #require(pair.json["pair_code"] as? String)
            #expect((pair.json["ttl"] as? Int ?? 0) > 0)
            #expect(pair.json["expires_at"] is String)
            let second = try await claim(endpoints, code: code)

            let list = try await fetch(endpoints.http + "/api/devices", bearer: bearer)
            let devices = try #require(list.json["devices"] as? [[String: Any]])
            #expect(Set(devices.compactMap { $0["device_id"] as? String }) == [first.deviceID, second.deviceID])

            // The second device is connected while it is revoked: it gets Error device_revoked and the stream closes.
            let connection = try await clientConnection(endpoints, identity: second, pattern: .xk)
            let opened = Mutex<Bool>(false)
            let revokeTask = Task {
                for _ in 0..<200 where server.connect.registry.sessions(deviceID: second.deviceID).isEmpty {
                    try await Task.sleep(for: .milliseconds(20))
                }
                opened.withLock { $0 = true }
                return try await fetch(endpoints.http + "/api/devices/revoke", method: .POST, bearer: bearer, json: ["device_id": second.deviceID])
            }
            let lastFrame = try await CCPWebSocketClient.connect(url: endpoints.webSocket, connection: connection) { session in
                var last: CCPFrame?
                for _ in 0..<10 {
                    guard let frame = try await session.next() else { break }
                    last = frame
                }
                return last
            }
            let revoke = try await revokeTask.value
            #expect(opened.withLock { $0 })
            #expect(revoke.status == 200)
            #expect(revoke.json["sessions_dropped"] as? Int == 1)
            let frame = try #require(lastFrame)
            #expect(frame.type == .error)
            #expect(String(buffer: frame.payload).contains("device_revoked"))

            // It cannot come back.
            #expect(try await handshakeFailureCode(endpoints, try await clientConnection(endpoints, identity: second, pattern: .ik)) == "device_revoked")
            let after = try await fetch(endpoints.http + "/api/devices", bearer: bearer)
            let revoked = (after.json["devices"] as? [[String: Any]])?.first { $0["device_id"] as? String == second.deviceID }
            #expect(revoked?["status"] as? String == "revoked")

            // Issue 14: a session whose stream ended is no bearer any more (it lived 30 days before).
            await live.close()
            var closedStatus = 0
            for _ in 0..<50 {
                closedStatus = try await fetch(endpoints.http + "/api/devices", bearer: bearer).status
                if closedStatus == 401 { break }
                try await Task.sleep(for: .milliseconds(50))
            }
            #expect(closedStatus == 401)

            let records = try await ledgerRecords(server, endpoints)
            #expect(records.contains { ($0["scope"] as? String) == "device" && ($0["result"] as? String) == "revoked" })
            #expect(records.contains { ($0["scope"] as? String) == "handshake" && ($0["result"] as? String) == "device_revoked" })
        }
    }

    @Test func rotateDeviceKeyWithProofByTheOldKey() async throws {
        try await withServer { server, endpoints in
            let identity = try await firstDevice(server, endpoints, handle: "frank")
            let newKey = Curve25519.Signing.PrivateKey()
            let newPublic = [UInt8](newKey.publicKey.rawRepresentation)

            let forged = try DeviceKeyRotation.sign(oldKey: newKey, deviceID: identity.deviceID, newPublic: newPublic)
            let refused = try await fetch(
                endpoints.http + "/api/devices/rotate", method: .POST,
                json: ["device_id": identity.deviceID, "new_public": Hex.encode(newPublic), "proof": Hex.encode(forged)])
            #expect(refused.status == 403)
            #expect(refused.json["code"] as? String == "proof")

            let proof = try DeviceKeyRotation.sign(oldKey: try identity.deviceKey(), deviceID: identity.deviceID, newPublic: newPublic)
            let rotated = try await fetch(
                endpoints.http + "/api/devices/rotate", method: .POST,
                json: ["device_id": identity.deviceID, "new_public": Hex.encode(newPublic), "proof": Hex.encode(proof)])
            #expect(rotated.status == 200)

            // The old key no longer connects; the new one does.
            var old = identity
            old.certificate = nil
            #expect(try await handshakeFailureCode(endpoints, try await clientConnection(endpoints, identity: old, pattern: .xk)) == "proof")
            var renewed = identity
            renewed.devicePrivate = Hex.encode(newKey.rawRepresentation)
            renewed.certificate = rotated.json["certificate"] as? String
            #expect(try await handshakeFailureCode(endpoints, try await clientConnection(endpoints, identity: renewed, pattern: .xk)) == nil)
        }
    }
}
