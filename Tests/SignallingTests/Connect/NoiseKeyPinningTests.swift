import CCP
import ConnectCore
import Crypto
import Foundation
import Testing

@testable import Signalling

/// Issue 14 item 11: the reference client trusts the Noise key it pinned at pairing, a rotated key
/// signed by the pinned device CA, and nothing else.
@Suite struct NoiseKeyPinningTests {
    let ca = Curve25519.Signing.PrivateKey()
    let pinned = NoiseKeyPair.generate().publicKey
    let rotated = NoiseKeyPair.generate().publicKey

    func info(newest: [UInt8], signer: Curve25519.Signing.PrivateKey? = nil, caPublic: [UInt8]? = nil) -> ClientHTTP.ServerInfo {
        let signer = signer ?? ca
        var info = ClientHTTP.ServerInfo(
            domain: "localhost", noisePublic: newest, prologue: "commucat", deviceCAPublic: caPublic ?? [UInt8](ca.publicKey.rawRepresentation))
        info.noiseKeys = [
            (2, newest, NoiseKeyEndorsement.sign(ca: signer, version: 2, publicKey: newest)),
            (1, pinned, NoiseKeyEndorsement.sign(ca: ca, version: 1, publicKey: pinned)),
        ]
        return info
    }

    var caBytes: [UInt8] { [UInt8](ca.publicKey.rawRepresentation) }

    @Test func thePinnedKeyAndASignedRotationAreTrusted() throws {
        #expect(try info(newest: pinned).trustedNoiseKey(pinnedCA: caBytes, pinnedNoise: pinned) == pinned)
        #expect(try info(newest: rotated).trustedNoiseKey(pinnedCA: caBytes, pinnedNoise: pinned) == rotated)
        // No pin (an identity paired before pinning existed): server-info as it is.
        #expect(try info(newest: rotated).trustedNoiseKey(pinnedCA: nil, pinnedNoise: nil) == rotated)
    }

    @Test func aSubstitutedKeyOrCAIsRefused() {
        let attacker = Curve25519.Signing.PrivateKey()
        #expect(throws: ClientHTTP.Failure.self) {
            try info(newest: rotated, signer: attacker).trustedNoiseKey(pinnedCA: caBytes, pinnedNoise: pinned)
        }
        #expect(throws: ClientHTTP.Failure.self) {
            try info(newest: rotated, signer: attacker, caPublic: [UInt8](attacker.publicKey.rawRepresentation))
                .trustedNoiseKey(pinnedCA: caBytes, pinnedNoise: pinned)
        }
    }

    @Test func theEndorsementBindsVersionAndKey() {
        let signature = NoiseKeyEndorsement.sign(ca: ca, version: 3, publicKey: rotated)
        #expect(NoiseKeyEndorsement.verify(signature: signature, caPublic: caBytes, version: 3, publicKey: rotated))
        #expect(!NoiseKeyEndorsement.verify(signature: signature, caPublic: caBytes, version: 4, publicKey: rotated))
        #expect(!NoiseKeyEndorsement.verify(signature: signature, caPublic: caBytes, version: 3, publicKey: pinned))
    }
}
