import CCP
import ConnectCore
import Foundation
import NIOCore
import Storage
import Synchronization
import Testing

@testable import Ops
@testable import Signalling

@Suite(.serialized) struct PairingEndToEndTests {
    @Test func autopairClaimConnectWithAutoApprovalOff() async throws {
        try await withServer { server, endpoints in
            let (user, code) = try await PairingCodes.autopair(storage: server.backends.storage, handle: "Bob")
            #expect(user.handle == "bob")
            #expect(code.code.count == 9 && code.code.dropFirst(4).first == "-")

            let directory = try makeTemporaryDirectory()
            defer { try? FileManager.default.removeItem(at: directory) }
            let path = directory.appendingPathComponent("client/device.json").path
            let identity = try await ClientCommands.pair(base: endpoints.http, code: code.code.lowercased(), identityPath: path, deviceName: "laptop")
            let mode = try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int
            #expect(mode == 0o600)
            #expect(identity.handle == "bob")
            #expect(identity.certificate != nil)

            let lines = Mutex<[String]>([])
            let ack = try await ClientCommands.connect(base: endpoints.http, identityPath: path, pattern: .xk) { line in lines.withLock { $0.append(line) } }
            #expect(ack.user.handle == "bob")
            #expect(lines.withLock { $0.first?.contains("keepalive ok") } == true)

            // The code is spent.
            let again = try await fetch(
                endpoints.http + "/api/pair/claim", method: .POST,
                json: ["pair_code": code.code, "device_public": Hex.encode(DeviceIdentity.generate().devicePublic)])
            #expect(again.status == 409)
            #expect(again.json["code"] as? String == "code_claimed")

            let records = try await ledgerRecords(server, endpoints)
            #expect(records.contains { ($0["scope"] as? String) == "pairing" && ($0["result"] as? String) == "claimed" })
        }
    }

    @Test func sixthWrongCodeFromOneAddressIsRateLimited() async throws {
        try await withServer { _, endpoints in
            let key = Hex.encode(DeviceIdentity.generate().devicePublic)
            for attempt in 1...5 {
                let reply = try await fetch(endpoints.http + "/api/pair/claim", method: .POST, json: ["pair_code": "AAAA-AAA\(attempt + 1)", "device_public": key])
                #expect(reply.status == 404, "attempt \(attempt)")
                #expect(reply.json["code"] as? String == "invalid_code")
            }
            let sixth = try await fetch(endpoints.http + "/api/pair/claim", method: .POST, json: ["pair_code": "AAAA-AAA7", "device_public": key])
            #expect(sixth.status == 429)
            #expect(sixth.json["code"] as? String == "rate_limited")
            #expect(sixth.headers.first(name: "content-type") == "application/problem+json")
            #expect(sixth.headers.first(name: "retry-after") != nil)
        }
    }

    @Test func codeAllowsFiveAttemptsThenRefuses() async throws {
        try await withStorage { storage in
            let (_, code) = try await PairingCodes.autopair(storage: storage, handle: "dora")
            // Five attempts that fail on the device (an id already taken) still count on the code.
            let existing = try await storage.registerDevice(NewDevice(deviceID: "taken", publicKey: Array(repeating: 9, count: 32), name: nil), userID: code.userID, now: Date())
            for _ in 0..<5 {
                _ = try? await storage.claimPairingCode(code.code, device: NewDevice(deviceID: existing.deviceID, publicKey: Array(repeating: 8, count: 32), name: nil), now: Date(), maxAttempts: 5)
            }
            let sixth = try await storage.claimPairingCode(code.code, device: NewDevice(deviceID: "fresh", publicKey: Array(repeating: 7, count: 32), name: nil), now: Date(), maxAttempts: 5)
            #expect(sixth == .tooManyAttempts)
        }
    }

    @Test func normalisesCodes() {
        #expect(PairingCodes.normalize("abcd-2345") == "ABCD-2345")
        #expect(PairingCodes.normalize("ABCD2345") == "ABCD-2345")
        #expect(PairingCodes.normalize("ABCD-0000") == nil)
        #expect(PairingCodes.normalize("ABC") == nil)
        for _ in 0..<50 { #expect(PairingCodes.normalize(PairingCodes.generate()) != nil) }
    }
}
