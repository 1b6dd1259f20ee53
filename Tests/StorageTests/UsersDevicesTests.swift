import Foundation
import Testing
@testable import Storage

@Suite struct UsersDevicesTests {
    @Test(arguments: TestBackend.selected)
    func usersByHandleAndIDWithUniqueHandles(backend: TestBackend) async throws {
        try await withStorage(backend) { storage in
            let alice = try await storage.createUser(handle: "alice", displayName: "Alice", now: at(0.123))
            #expect(try await storage.user(id: alice.id) == alice)
            #expect(try await storage.user(handle: "alice") == alice)
            // Stored with millisecond precision on both drivers.
            #expect(alice.createdAt.timeIntervalSince1970 * 1000 == 1_750_000_000_123)
            #expect(try await storage.user(handle: "nobody") == nil)
            let error = await expectStorageError(.conflict) { _ = try await storage.createUser(handle: "alice", displayName: nil, now: t0) }
            #expect(error?.description == "storage: handle alice is taken")
            await expectStorageError(.invalidArgument) { _ = try await storage.createUser(handle: "", displayName: nil, now: t0) }
        }
    }

    @Test(arguments: TestBackend.selected)
    func deviceLifecycle(backend: TestBackend) async throws {
        try await withStorage(backend) { storage in
            let (alice, phone) = try await makeUserWithDevice(storage, handle: "alice")
            #expect(phone.status == .active)
            let laptop = try await storage.registerDevice(
                NewDevice(deviceID: "laptop", publicKey: [1, 2, 3, 0, 255], name: nil, certificate: [9, 9]), userID: alice.id, now: at(5))
            #expect(try await storage.device(id: "laptop") == laptop)
            #expect(try await storage.device(publicKey: [1, 2, 3, 0, 255])?.deviceID == "laptop")
            #expect(try await storage.devices(userID: alice.id).map(\.deviceID) == [phone.deviceID, "laptop"])

            await expectStorageError(.conflict) {
                _ = try await storage.registerDevice(NewDevice(deviceID: "laptop", publicKey: [7], name: nil), userID: alice.id, now: t0)
            }
            await expectStorageError(.conflict) {
                _ = try await storage.registerDevice(NewDevice(deviceID: "other", publicKey: [1, 2, 3, 0, 255], name: nil),
                                                     userID: alice.id, now: t0)
            }
            await expectStorageError(.notFound) {
                _ = try await storage.registerDevice(NewDevice(deviceID: "x", publicKey: [8], name: nil), userID: "no-user", now: t0)
            }

            try await storage.setDeviceCertificate(id: "laptop", certificate: [4, 4, 4])
            #expect(try await storage.device(id: "laptop")?.certificate == [4, 4, 4])

            let session = try await storage.openSession(id: "s1", deviceID: "laptop", now: at(10))
            let revoked = try await storage.revokeDevice(id: "laptop", now: at(20))
            #expect(revoked.status == .revoked)
            #expect(revoked.revokedAt == at(20))
            #expect(try await storage.revokeDevice(id: "laptop", now: at(30)).revokedAt == at(20))
            #expect(try await storage.session(id: session.id)?.closedAt == at(20))
            await expectStorageError(.invalidArgument) { _ = try await storage.openSession(id: "s2", deviceID: "laptop", now: at(40)) }
            await expectStorageError(.notFound) { _ = try await storage.revokeDevice(id: "ghost", now: t0) }
        }
    }

    @Test(arguments: TestBackend.selected)
    func keyRotationRecordsEvents(backend: TestBackend) async throws {
        try await withStorage(backend) { storage in
            let (_, phone) = try await makeUserWithDevice(storage, handle: "bob")
            let first = try await storage.rotateDeviceKey(id: phone.deviceID, newPublicKey: [0xAA], proof: [0x01], now: at(1))
            let second = try await storage.rotateDeviceKey(id: phone.deviceID, newPublicKey: [0xBB], proof: [0x02], now: at(2))
            #expect(first.oldPublicKey == phone.publicKey)
            #expect(second.oldPublicKey == [0xAA])
            #expect(try await storage.device(id: phone.deviceID)?.publicKey == [0xBB])
            let events = try await storage.deviceKeyEvents(deviceID: phone.deviceID)
            #expect(events == [first, second])
            #expect(first.id < second.id)

            let (_, other) = try await makeUserWithDevice(storage, handle: "carol")
            await expectStorageError(.conflict) {
                _ = try await storage.rotateDeviceKey(id: other.deviceID, newPublicKey: [0xBB], proof: [], now: at(3))
            }
            #expect(try await storage.deviceKeyEvents(deviceID: other.deviceID).isEmpty)
        }
    }

    @Test(arguments: TestBackend.selected)
    func sessionsOpenTouchClose(backend: TestBackend) async throws {
        try await withStorage(backend) { storage in
            let (_, phone) = try await makeUserWithDevice(storage, handle: "dave")
            let session = try await storage.openSession(id: "sess", deviceID: phone.deviceID, now: at(1))
            #expect(session.lastSeen == at(1))
            try await storage.touchSession(id: "sess", now: at(61))
            #expect(try await storage.session(id: "sess")?.lastSeen == at(61))
            await expectStorageError(.conflict) { _ = try await storage.openSession(id: "sess", deviceID: phone.deviceID, now: at(2)) }
            try await storage.closeSession(id: "sess", now: at(90))
            try await storage.closeSession(id: "sess", now: at(95))
            #expect(try await storage.session(id: "sess")?.closedAt == at(90))
            await expectStorageError(.notFound) { try await storage.touchSession(id: "sess", now: at(100)) }
            await expectStorageError(.notFound) { try await storage.closeSession(id: "nope", now: at(100)) }
            await expectStorageError(.notFound) { _ = try await storage.openSession(id: "s9", deviceID: "nope", now: at(100)) }
        }
    }
}
