import Foundation
import Testing
@testable import Storage

@Suite struct PairingFriendsTests {
    @Test(arguments: TestBackend.selected)
    func pairingClaimRegistersDeviceOnce(backend: TestBackend) async throws {
        try await withStorage(backend) { storage in
            let user = try await storage.createUser(handle: "erin", displayName: nil, now: t0)
            try await storage.createPairingCode("ABCD-EFGH", userID: user.id, now: t0, expiresAt: at(300))
            await expectStorageError(.conflict) {
                try await storage.createPairingCode("ABCD-EFGH", userID: user.id, now: t0, expiresAt: at(300))
            }
            let device = NewDevice(deviceID: "new-phone", publicKey: [5, 5], name: "Phone")
            let result = try await storage.claimPairingCode("ABCD-EFGH", device: device, now: at(10), maxAttempts: 5)
            guard case .claimed(let code, let registered) = result else {
                Issue.record("unexpected \(result)")
                return
            }
            #expect(code.deviceID == "new-phone")
            #expect(code.claimedAt == at(10))
            #expect(code.attempts == 1)
            #expect(registered.userID == user.id)
            #expect(try await storage.device(id: "new-phone")?.userID == user.id)

            let again = try await storage.claimPairingCode("ABCD-EFGH", device: NewDevice(deviceID: "x", publicKey: [6], name: nil),
                                                           now: at(11), maxAttempts: 5)
            #expect(again == .alreadyClaimed)
            #expect(try await storage.device(id: "x") == nil)
            #expect(try await storage.claimPairingCode("ZZZZ-ZZZZ", device: device, now: at(11), maxAttempts: 5) == .notFound)
        }
    }

    @Test(arguments: TestBackend.selected)
    func pairingAttemptsAndExpiry(backend: TestBackend) async throws {
        try await withStorage(backend) { storage in
            let user = try await storage.createUser(handle: "frank", displayName: nil, now: t0)
            try await storage.createPairingCode("EXPI-RED0", userID: user.id, now: t0, expiresAt: at(60))
            let late = NewDevice(deviceID: "late", publicKey: [1], name: nil)
            #expect(try await storage.claimPairingCode("EXPI-RED0", device: late, now: at(60), maxAttempts: 5) == .expired)
            #expect(try await storage.device(id: "late") == nil)

            try await storage.createPairingCode("MANY-TRYS", userID: user.id, now: t0, expiresAt: at(600))
            // A device id that already exists makes the claim fail after the attempt was counted.
            _ = try await makeUserWithDevice(storage, handle: "gina", deviceID: "taken")
            for _ in 1...3 {
                await expectStorageError(.conflict) {
                    _ = try await storage.claimPairingCode("MANY-TRYS", device: NewDevice(deviceID: "taken", publicKey: [2], name: nil),
                                                           now: at(1), maxAttempts: 3)
                }
            }
            #expect(try await storage.pairingCode("MANY-TRYS")?.attempts == 3)
            #expect(try await storage.pairingCode("MANY-TRYS")?.claimedAt == nil)
            let fourth = try await storage.claimPairingCode("MANY-TRYS", device: NewDevice(deviceID: "ok", publicKey: [3], name: nil),
                                                            now: at(2), maxAttempts: 3)
            #expect(fourth == .tooManyAttempts)
            #expect(try await storage.purgeExpiredPairingCodes(now: at(60)) == 1)
            #expect(try await storage.pairingCode("EXPI-RED0") == nil)
        }
    }

    @Test(arguments: TestBackend.selected)
    func friendRequestsAcceptRejectAndList(backend: TestBackend) async throws {
        try await withStorage(backend) { storage in
            let alice = try await storage.createUser(handle: "alice", displayName: nil, now: t0)
            let bob = try await storage.createUser(handle: "bob", displayName: nil, now: t0)
            let carol = try await storage.createUser(handle: "carol", displayName: nil, now: t0)

            let request = try await storage.createFriendRequest(from: alice.id, to: bob.id, message: "hi", now: at(1))
            #expect(request.status == .pending)
            await expectStorageError(.conflict) { _ = try await storage.createFriendRequest(from: alice.id, to: bob.id, message: nil, now: at(2)) }
            await expectStorageError(.invalidArgument) { _ = try await storage.createFriendRequest(from: alice.id, to: alice.id, message: nil, now: at(2)) }
            await expectStorageError(.notFound) { _ = try await storage.createFriendRequest(from: alice.id, to: "ghost", message: nil, now: at(2)) }
            #expect(try await storage.incomingFriendRequests(userID: bob.id) == [request])
            #expect(try await storage.outgoingFriendRequests(userID: alice.id) == [request])

            // Only the addressee may answer.
            await expectStorageError(.notFound) { _ = try await storage.acceptFriendRequest(id: request.id, recipientID: alice.id, now: at(3)) }
            let accepted = try await storage.acceptFriendRequest(id: request.id, recipientID: bob.id, now: at(3))
            #expect(accepted.status == .accepted)
            #expect(accepted.respondedAt == at(3))
            await expectStorageError(.conflict) { _ = try await storage.rejectFriendRequest(id: request.id, recipientID: bob.id, now: at(4)) }
            #expect(try await storage.areFriends(bob.id, alice.id))
            #expect(try await storage.friends(of: alice.id).map(\.handle) == ["bob"])
            #expect(try await storage.friends(of: bob.id).map(\.handle) == ["alice"])
            await expectStorageError(.conflict) { _ = try await storage.createFriendRequest(from: bob.id, to: alice.id, message: nil, now: at(5)) }

            let toCarol = try await storage.createFriendRequest(from: carol.id, to: alice.id, message: nil, now: at(6))
            let rejected = try await storage.rejectFriendRequest(id: toCarol.id, recipientID: alice.id, now: at(7))
            #expect(rejected.status == .rejected)
            #expect(try await !storage.areFriends(alice.id, carol.id))
            #expect(try await storage.friendRequest(id: toCarol.id)?.status == .rejected)
            // A rejected request does not block a new one.
            _ = try await storage.createFriendRequest(from: carol.id, to: alice.id, message: "again?", now: at(8))

            #expect(try await storage.removeFriend(alice.id, bob.id))
            #expect(try await !storage.removeFriend(alice.id, bob.id))
            #expect(try await storage.friends(of: bob.id).isEmpty)
        }
    }
}
