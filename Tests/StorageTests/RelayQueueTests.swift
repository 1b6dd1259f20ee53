import Foundation
import Testing
@testable import Storage

@Suite struct RelayQueueTests {
    @Test(arguments: TestBackend.selected)
    func sequencesAreOrderedPerDeviceAndAckRemovesPrefix(backend: TestBackend) async throws {
        try await withStorage(backend) { storage in
            _ = try await makeUserWithDevice(storage, handle: "a", deviceID: "A")
            _ = try await makeUserWithDevice(storage, handle: "b", deviceID: "B")
            var sequences: [Int64] = []
            for index in 0..<5 {
                sequences.append(try await storage.enqueue(deviceID: "A", envelopeID: "env-\(index)", channelID: UInt32.max,
                                                           frameType: 0x05, payload: [UInt8(index), 0, 255], now: at(Double(index)),
                                                           expiresAt: at(3600)))
            }
            #expect(sequences == [1, 2, 3, 4, 5])
            #expect(try await storage.enqueue(deviceID: "B", envelopeID: "env-0", channelID: 0, frameType: 0x07, payload: [],
                                              now: t0, expiresAt: at(10)) == 1)

            let pending = try await storage.pending(deviceID: "A", limit: 10)
            #expect(pending.map(\.sequence) == [1, 2, 3, 4, 5])
            #expect(pending[2].payload == [2, 0, 255])
            #expect(pending[2].envelopeID == "env-2")
            #expect(pending[2].channelID == UInt32.max)
            #expect(pending[2].frameType == 0x05)
            #expect(pending[2].createdAt == at(2))
            #expect(try await storage.pending(deviceID: "A", limit: 2).map(\.sequence) == [1, 2])
            #expect(try await storage.pending(deviceID: "A", after: 3, limit: 10).map(\.sequence) == [4, 5])

            #expect(try await storage.ack(deviceID: "A", upTo: 3) == 3)
            #expect(try await storage.ack(deviceID: "A", upTo: 3) == 0)
            #expect(try await storage.pending(deviceID: "A", limit: 10).map(\.sequence) == [4, 5])
            #expect(try await storage.pending(deviceID: "B", limit: 10).map(\.sequence) == [1])

            // Sequences keep growing after an ack; they are never reused.
            #expect(try await storage.enqueue(deviceID: "A", envelopeID: "env-new", channelID: 1, frameType: 5, payload: [1],
                                              now: at(9), expiresAt: at(3600)) == 6)
        }
    }

    @Test(arguments: TestBackend.selected)
    func enqueueIsIdempotentByEnvelopeID(backend: TestBackend) async throws {
        try await withStorage(backend) { storage in
            _ = try await makeUserWithDevice(storage, handle: "a", deviceID: "A")
            let first = try await storage.enqueue(deviceID: "A", envelopeID: "same", channelID: 1, frameType: 5, payload: [1],
                                                  now: t0, expiresAt: at(60))
            let repeated = try await storage.enqueue(deviceID: "A", envelopeID: "same", channelID: 1, frameType: 5, payload: [2],
                                                     now: at(1), expiresAt: at(60))
            #expect(first == repeated)
            let next = try await storage.enqueue(deviceID: "A", envelopeID: "other", channelID: 1, frameType: 5, payload: [3],
                                                 now: at(2), expiresAt: at(60))
            #expect(next == first + 1) // the duplicate consumed no sequence
            #expect(try await storage.pending(deviceID: "A", limit: 10).map(\.payload) == [[1], [3]])
            await expectStorageError(.notFound) {
                _ = try await storage.enqueue(deviceID: "ghost", envelopeID: "x", channelID: 1, frameType: 5, payload: [],
                                              now: t0, expiresAt: at(60))
            }
        }
    }

    @Test(arguments: TestBackend.selected)
    func batchEnqueueIsOneTransactionWithPerDeviceSequencesAndIdempotency(backend: TestBackend) async throws {
        try await withStorage(backend) { storage in
            _ = try await makeUserWithDevice(storage, handle: "a", deviceID: "A")
            _ = try await makeUserWithDevice(storage, handle: "b", deviceID: "B")
            func entry(_ device: String, _ envelope: String, _ byte: UInt8) -> InboxAppend {
                InboxAppend(deviceID: device, envelopeID: envelope, channelID: 3, frameType: 5, payload: [byte], expiresAt: at(60))
            }
            let first = try await storage.enqueue(
                batch: [entry("A", "e1", 1), entry("B", "e1", 1), entry("A", "e2", 2), entry("A", "e1", 9)], now: t0)
            #expect(first == [1, 1, 2, 1], "per-device counters; a repeat inside the batch gets the original sequence")
            let second = try await storage.enqueue(batch: [entry("A", "e2", 7), entry("A", "e3", 3)], now: at(1))
            #expect(second == [2, 3], "a repeat across batches consumes no sequence")
            #expect(try await storage.pending(deviceID: "A", limit: 10).map(\.payload) == [[1], [2], [3]])

            // An unknown device rolls the whole batch back.
            await expectStorageError(.notFound) {
                _ = try await storage.enqueue(batch: [entry("A", "e4", 4), entry("ghost", "e4", 4)], now: at(2))
            }
            #expect(try await storage.pending(deviceID: "A", limit: 10).count == 3)
            #expect(try await storage.enqueue(batch: [entry("A", "e5", 5)], now: at(3)) == [4], "the rolled-back batch used no sequence")
        }
    }

    @Test(arguments: TestBackend.selected)
    func purgeExpiredRemovesOnlyExpired(backend: TestBackend) async throws {
        try await withStorage(backend) { storage in
            _ = try await makeUserWithDevice(storage, handle: "a", deviceID: "A")
            _ = try await storage.enqueue(deviceID: "A", envelopeID: "short", channelID: 1, frameType: 5, payload: [], now: t0, expiresAt: at(10))
            _ = try await storage.enqueue(deviceID: "A", envelopeID: "long", channelID: 1, frameType: 5, payload: [], now: t0, expiresAt: at(100))
            #expect(try await storage.purgeExpired(now: at(9)) == 0)
            #expect(try await storage.purgeExpired(now: at(10)) == 1)
            #expect(try await storage.pending(deviceID: "A", limit: 10).map(\.envelopeID) == ["long"])
        }
    }

    @Test(arguments: TestBackend.selected)
    func concurrentEnqueuesAreUniqueAndGapFreePerDevice(backend: TestBackend) async throws {
        try await withStorage(backend) { storage in
            _ = try await makeUserWithDevice(storage, handle: "a", deviceID: "A")
            _ = try await makeUserWithDevice(storage, handle: "b", deviceID: "B")
            let perDevice = 40
            let results = try await withThrowingTaskGroup(of: (String, Int64).self) { group in
                for index in 0..<perDevice {
                    for device in ["A", "B"] {
                        group.addTask {
                            // Every fourth envelope is sent twice to race the idempotency check too.
                            let envelope = "e-\(index)"
                            let sequence = try await storage.enqueue(deviceID: device, envelopeID: envelope, channelID: 3, frameType: 5,
                                                                     payload: Array(envelope.utf8), now: t0, expiresAt: at(600))
                            return (device + "/" + envelope, sequence)
                        }
                        if index % 4 == 0 {
                            group.addTask {
                                let envelope = "e-\(index)"
                                let sequence = try await storage.enqueue(deviceID: device, envelopeID: envelope, channelID: 3, frameType: 5,
                                                                         payload: Array(envelope.utf8), now: t0, expiresAt: at(600))
                                return (device + "/" + envelope, sequence)
                            }
                        }
                    }
                }
                var collected: [(String, Int64)] = []
                for try await result in group { collected.append(result) }
                return collected
            }
            var byEnvelope: [String: Set<Int64>] = [:]
            for (key, sequence) in results { byEnvelope[key, default: []].insert(sequence) }
            #expect(byEnvelope.values.allSatisfy { $0.count == 1 }, "a duplicated envelope got two sequences")
            for device in ["A", "B"] {
                let stored = try await storage.pending(deviceID: device, limit: 1000)
                #expect(stored.map(\.sequence) == Array(1...Int64(perDevice)), "device \(device)")
                #expect(Set(stored.map(\.envelopeID)).count == perDevice)
            }
        }
    }
}
