import ConnectCore
import Crypto
import Foundation
import Testing

@testable import Signalling

@Suite struct DeviceCertificateTests {
    let ca = Curve25519.Signing.PrivateKey()
    let now = Date(timeIntervalSince1970: 1_800_000_000)

    func issue() throws -> DeviceCertificate {
        try DeviceCertificate.issue(deviceID: "dev-1", userID: "user-1", devicePublic: Array(repeating: 7, count: 32), now: now, ca: ca)
    }

    @Test func roundTripsAndVerifiesFor30Days() throws {
        let certificate = try issue()
        let parsed = try DeviceCertificate(parsing: certificate.encoded)
        #expect(parsed == certificate)
        #expect(parsed.notAfter - parsed.notBefore == 30 * 86_400)
        try parsed.verify(caPublic: ca.publicKey, now: now.addingTimeInterval(29 * 86_400))
        #expect(throws: DeviceCertificate.Failure.self) { try parsed.verify(caPublic: ca.publicKey, now: now.addingTimeInterval(30 * 86_400)) }
        #expect(throws: DeviceCertificate.Failure.self) { try parsed.verify(caPublic: ca.publicKey, now: now.addingTimeInterval(-1)) }
    }

    @Test func layoutIsFixed() throws {
        let encoded = try issue().encoded
        #expect(Array(encoded.prefix(4)) == Array("CCC1".utf8))
        #expect(encoded.count == 4 + 2 + 5 + 2 + 6 + 32 + 8 + 8 + 64)
    }

    @Test func everyFlippedByteIsRefused() throws {
        let encoded = try issue().encoded
        for index in encoded.indices {
            var tampered = encoded
            tampered[index] ^= 0x01
            let refused: Bool
            do {
                try DeviceCertificate(parsing: tampered).verify(caPublic: ca.publicKey, now: now.addingTimeInterval(60))
                refused = false
            } catch {
                refused = true
            }
            #expect(refused, "byte \(index)")
        }
    }

    @Test func truncatedOrExtendedInputIsATypedError() throws {
        let encoded = try issue().encoded
        for length in [0, 3, 4, 10, encoded.count - 1] {
            #expect(throws: DeviceCertificate.Failure.self) { try DeviceCertificate(parsing: Array(encoded.prefix(length))) }
        }
        #expect(throws: DeviceCertificate.Failure.self) { try DeviceCertificate(parsing: encoded + [0]) }
        #expect(throws: DeviceCertificate.Failure.self) { try issue().verify(caPublic: Curve25519.Signing.PrivateKey().publicKey, now: now) }
    }
}
