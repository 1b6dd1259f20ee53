import ConnectCore
import Crypto
import Testing

@testable import Signalling

@Suite struct DeviceProofTests {
    /// SPEC §4.2: "commucat:device-proof:v1" || u32be(len(domain)) || domain || u32be(len(device_id))
    /// || device_id || client_static || handshake.
    @Test func signedBytesAreExactlyTheSpecLayout() {
        let bytes = DeviceProof.message(domain: "ex.org", deviceID: "d1", clientStatic: [0xaa, 0xbb], handshake: [0x01])
        let expected: [UInt8] = Array("commucat:device-proof:v1".utf8) + [0, 0, 0, 6] + Array("ex.org".utf8) + [0, 0, 0, 2]
            + Array("d1".utf8) + [0xaa, 0xbb, 0x01]
        #expect(bytes == expected)
    }

    @Test func verifiesOnlyTheSignedInputs() throws {
        let key = Curve25519.Signing.PrivateKey()
        let publicKey = [UInt8](key.publicKey.rawRepresentation)
        let proof = try DeviceProof.sign(deviceKey: key, domain: "localhost", deviceID: "d", clientStatic: [1, 2], handshake: [3])
        #expect(DeviceProof.verify(signature: proof, devicePublic: publicKey, domain: "localhost", deviceID: "d", clientStatic: [1, 2], handshake: [3]))
        #expect(!DeviceProof.verify(signature: proof, devicePublic: publicKey, domain: "other", deviceID: "d", clientStatic: [1, 2], handshake: [3]))
        #expect(!DeviceProof.verify(signature: proof, devicePublic: publicKey, domain: "localhost", deviceID: "d", clientStatic: [1, 2], handshake: [4]))
        #expect(!DeviceProof.verify(signature: [1, 2], devicePublic: publicKey, domain: "localhost", deviceID: "d", clientStatic: [1, 2], handshake: [3]))
        #expect(!DeviceProof.verify(signature: proof, devicePublic: [0], domain: "localhost", deviceID: "d", clientStatic: [1, 2], handshake: [3]))
    }
}
