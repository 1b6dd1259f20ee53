import Foundation
import Testing
@testable import Storage

@Suite struct SecretsFederationTests {
    @Test(arguments: TestBackend.selected)
    func serverSecretsAreVersioned(backend: TestBackend) async throws {
        try await withStorage(backend) { storage in
            let v1 = ServerSecretRecord(version: 1, privateKey: Array(repeating: 1, count: 32), publicKey: Array(repeating: 2, count: 32),
                                        validAfter: t0, rotatesAt: at(86_400), expiresAt: at(90_000))
            let v2 = ServerSecretRecord(version: 2, privateKey: Array(repeating: 3, count: 32), publicKey: Array(repeating: 4, count: 32),
                                        validAfter: at(86_400), rotatesAt: at(172_800), expiresAt: at(180_000))
            try await storage.insertServerSecret(v2)
            try await storage.insertServerSecret(v1)
            #expect(try await storage.serverSecrets() == [v1, v2])
            await expectStorageError(.conflict) { try await storage.insertServerSecret(v1) }
            var backwards = v1
            backwards.version = 3
            backwards.expiresAt = at(-1)
            await expectStorageError(.invalidArgument) { try await storage.insertServerSecret(backwards) }
            #expect(try await storage.purgeExpiredServerSecrets(now: at(90_000)) == 1)
            #expect(try await storage.serverSecrets().map(\.version) == [2])
        }
    }

    @Test(arguments: TestBackend.selected)
    func federationPeersAllowListAndBlocking(backend: TestBackend) async throws {
        try await withStorage(backend) { storage in
            let peer = try await storage.upsertFederationPeer(domain: "b.example", endpoint: "https://b.example/fed", publicKey: [1, 2],
                                                              now: at(1))
            #expect(peer.status == .allowed)
            let updated = try await storage.upsertFederationPeer(domain: "b.example", endpoint: "https://b.example/v2", publicKey: [3],
                                                                 now: at(2))
            #expect(updated.endpoint == "https://b.example/v2")
            #expect(updated.publicKey == [3])
            #expect(updated.createdAt == at(1))
            #expect(updated.updatedAt == at(2))

            let blockedUnknown = try await storage.blockFederationPeer(domain: "evil.example", now: at(3))
            #expect(blockedUnknown.status == .blocked)
            #expect(blockedUnknown.endpoint == nil)
            #expect(try await storage.blockFederationPeer(domain: "b.example", now: at(4)).endpoint == "https://b.example/v2")
            #expect(try await storage.federationPeers().map(\.domain) == ["b.example", "evil.example"])
            #expect(try await storage.federationPeer(domain: "b.example")?.status == .blocked)
            // Re-adding allows it again.
            #expect(try await storage.upsertFederationPeer(domain: "b.example", endpoint: "https://b", publicKey: [3], now: at(5)).status == .allowed)
            #expect(try await storage.removeFederationPeer(domain: "evil.example"))
            #expect(try await !storage.removeFederationPeer(domain: "evil.example"))
        }
    }

    @Test(arguments: TestBackend.selected)
    func federationOutboxDueDeliveredFailed(backend: TestBackend) async throws {
        try await withStorage(backend) { storage in
            #expect(try await storage.enqueueFederationEvent(eventID: "ev1", destination: "b.example", payload: [1], now: at(0)))
            #expect(try await !storage.enqueueFederationEvent(eventID: "ev1", destination: "b.example", payload: [9], now: at(1)))
            #expect(try await storage.enqueueFederationEvent(eventID: "ev2", destination: "c.example", payload: [2], now: at(5)))

            #expect(try await storage.dueFederationEvents(now: at(4), limit: 10).map(\.eventID) == ["ev1"])
            #expect(try await storage.dueFederationEvents(now: at(5), limit: 10).map(\.eventID) == ["ev1", "ev2"])
            #expect(try await storage.dueFederationEvents(now: at(5), limit: 1).map(\.eventID) == ["ev1"])

            try await storage.markFederationEventFailed(eventID: "ev1", nextAttemptAt: at(30), error: "connection refused")
            let failed = try #require(try await storage.federationEvent(id: "ev1"))
            #expect(failed.attempts == 1)
            #expect(failed.nextAttemptAt == at(30))
            #expect(failed.lastError == "connection refused")
            #expect(failed.payload == [1])
            #expect(try await storage.dueFederationEvents(now: at(10), limit: 10).map(\.eventID) == ["ev2"])

            try await storage.markFederationEventDelivered(eventID: "ev2", at: at(11))
            #expect(try await storage.federationEvent(id: "ev2")?.deliveredAt == at(11))
            #expect(try await storage.dueFederationEvents(now: at(100), limit: 10).map(\.eventID) == ["ev1"])
            await expectStorageError(.notFound) { try await storage.markFederationEventFailed(eventID: "ev2", nextAttemptAt: at(50), error: nil) }
            await expectStorageError(.notFound) { try await storage.markFederationEventDelivered(eventID: "nope", at: at(1)) }
        }
    }
}
