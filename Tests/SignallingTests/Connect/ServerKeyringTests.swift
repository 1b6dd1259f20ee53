import CCP
import Foundation
import Storage
import Testing

@testable import Signalling

@Suite struct ServerKeyringTests {
    let start = Date(timeIntervalSince1970: 1_800_000_000)

    @Test func createsTheFirstKeyAndTheDeviceCAOnce() async throws {
        try await withStorage { storage in
            let first = try await ServerKeyring.load(storage: storage, rotationInterval: .seconds(3600), grace: .seconds(600), now: start)
            let again = try await ServerKeyring.load(storage: storage, rotationInterval: .seconds(3600), grace: .seconds(600), now: start)
            #expect(first.allKeys.count == 1)
            #expect(again.allKeys == first.allKeys)
            #expect(again.deviceCAPublic == first.deviceCAPublic)
            #expect(first.newest?.version == 1)
            #expect(first.newest?.rotatesAt == start.addingTimeInterval(3600))
        }
    }

    @Test func rotationKeepsTheOldKeyForTheGracePeriodOnly() async throws {
        try await withStorage { storage in
            let keyring = try await ServerKeyring.load(storage: storage, rotationInterval: .seconds(3600), grace: .seconds(600), now: start)
            let old = try #require(keyring.newest)
            let rotatedAt = start.addingTimeInterval(100)
            let new = try await ConnectCLI.rotateKeys(storage: storage, rotationInterval: .seconds(3600), grace: .seconds(600), now: rotatedAt)
            try await keyring.reload()
            #expect(new.version == old.version + 1)
            #expect(keyring.validKeys(now: rotatedAt.addingTimeInterval(1)).map(\.version) == [new.version, old.version])
            #expect(keyring.validKeys(now: rotatedAt.addingTimeInterval(599)).map(\.version) == [new.version, old.version])
            #expect(keyring.validKeys(now: rotatedAt.addingTimeInterval(600)).map(\.version) == [new.version])
        }
    }
}
