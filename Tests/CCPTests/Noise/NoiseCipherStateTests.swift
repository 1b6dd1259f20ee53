import Crypto
import Foundation
import Testing

@testable import CCP

@Suite struct NoiseCipherStateTests {
    static let key = [UInt8](0..<32)

    @Test func nonceIsFourZeroBytesThenLittleEndianCounter() {
        #expect(NoiseCipherState.nonceBytes(0x0102_0304_0506_0708) == [0, 0, 0, 0, 8, 7, 6, 5, 4, 3, 2, 1])
        #expect(NoiseCipherState.nonceBytes(0) == [UInt8](repeating: 0, count: 12))
    }

    @Test func emptyCipherStatePassesPlaintextThrough() throws {
        var cipher = NoiseCipherState()
        #expect(!cipher.hasKey)
        #expect(try cipher.encrypt(associatedData: [1], plaintext: [9, 9]) == [9, 9])
        #expect(try cipher.decrypt(associatedData: [1], ciphertext: [9, 9]) == [9, 9])
        #expect(cipher.nonce == 0)
    }

    @Test func encryptMatchesChaChaPolyWithTheNoiseNonce() throws {
        var cipher = try NoiseCipherState(key: Self.key)
        _ = try cipher.encrypt(associatedData: [], plaintext: [])
        let ciphertext = try cipher.encrypt(associatedData: [0xaa], plaintext: Array("hello".utf8))
        let box = try ChaChaPoly.seal(
            Array("hello".utf8),
            using: SymmetricKey(data: Self.key),
            nonce: ChaChaPoly.Nonce(data: [0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0]),
            authenticating: [0xaa] as [UInt8]
        )
        #expect(ciphertext == [UInt8](box.ciphertext) + [UInt8](box.tag))
        #expect(cipher.nonce == 2)
    }

    @Test func failedDecryptDoesNotAdvanceTheNonce() throws {
        var sender = try NoiseCipherState(key: Self.key)
        var receiver = try NoiseCipherState(key: Self.key)
        var ciphertext = try sender.encrypt(associatedData: [], plaintext: [1, 2, 3])
        ciphertext[0] ^= 1
        expectCCPError(.noiseDecryptFailed) { () throws(CCPError) in try receiver.decrypt(associatedData: [], ciphertext: ciphertext) }
        #expect(receiver.nonce == 0)
        ciphertext[0] ^= 1
        #expect(try receiver.decrypt(associatedData: [], ciphertext: ciphertext) == [1, 2, 3])
        expectCCPError(.noiseMessageTooShort) { () throws(CCPError) in try receiver.decrypt(associatedData: [], ciphertext: [1, 2]) }
    }

    @Test func nonceTwoToTheSixtyFourMinusOneIsNeverUsed() throws {
        var sender = try NoiseCipherState(key: Self.key)
        var receiver = try NoiseCipherState(key: Self.key)
        sender.setNonce(UInt64.max - 1)
        receiver.setNonce(UInt64.max - 1)
        let last = try sender.encrypt(associatedData: [], plaintext: [7])
        #expect(try receiver.decrypt(associatedData: [], ciphertext: last) == [7])
        #expect(sender.nonce == UInt64.max)
        expectCCPError(.noiseNonceExhausted) { () throws(CCPError) in try sender.encrypt(associatedData: [], plaintext: [7]) }
        expectCCPError(.noiseNonceExhausted) { () throws(CCPError) in try receiver.decrypt(associatedData: [], ciphertext: last) }
    }

    @Test func rekeyIsTheFirst32BytesOfEncryptingZerosAtMaxNonce() throws {
        var cipher = try NoiseCipherState(key: Self.key)
        _ = try cipher.encrypt(associatedData: [], plaintext: [1])
        cipher.rekey()
        #expect(cipher.nonce == 1, "Noise §11.3: rekey leaves n alone")
        let rekeyBox = try ChaChaPoly.seal(
            [UInt8](repeating: 0, count: 32),
            using: SymmetricKey(data: Self.key),
            nonce: ChaChaPoly.Nonce(data: [0, 0, 0, 0] + [UInt8](repeating: 0xff, count: 8)),
            authenticating: [UInt8]()
        )
        var expected = try NoiseCipherState(key: [UInt8](rekeyBox.ciphertext.prefix(32)))
        expected.setNonce(1)
        #expect(try cipher.encrypt(associatedData: [], plaintext: [5, 6]) == (try expected.encrypt(associatedData: [], plaintext: [5, 6])))
    }

    @Test func keysMustBe32Bytes() {
        expectCCPError(.noiseInvalidKey) { () throws(CCPError) in try NoiseCipherState(key: [1, 2, 3]) }
    }

    @Test func transportEnforces65535ByteMessages() throws {
        var transport = NoiseTransport(sendCipher: try NoiseCipherState(key: Self.key), receiveCipher: try NoiseCipherState(key: Self.key))
        let largest = try transport.encrypt([UInt8](repeating: 1, count: NoiseTransport.maxPlaintextLength))
        #expect(largest.count == 65535)
        expectCCPError(.noiseMessageTooLarge) { () throws(CCPError) in
            try transport.encrypt([UInt8](repeating: 1, count: NoiseTransport.maxPlaintextLength + 1))
        }
        expectCCPError(.noiseMessageTooLarge) { () throws(CCPError) in try transport.decrypt([UInt8](repeating: 0, count: 65536)) }
        #expect(try transport.decrypt(largest).count == NoiseTransport.maxPlaintextLength)
    }
}
