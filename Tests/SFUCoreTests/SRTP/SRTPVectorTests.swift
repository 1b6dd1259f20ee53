import COpenSSL
import NIOCore
import SFUCore
import Testing

/// Independent reference primitives (OpenSSL EVP), used to check libsrtp's output byte for byte.
enum Reference {
    /// AES-128 in counter mode from a 16-byte initial counter block (RFC 3711 §4.1.1's AES-CM for
    /// messages shorter than 2^16 blocks).
    static func aesCTR(key: [UInt8], iv: [UInt8], data: [UInt8]) -> [UInt8] {
        guard let context = EVP_CIPHER_CTX_new() else { return [] }
        defer { EVP_CIPHER_CTX_free(context) }
        var output = [UInt8](repeating: 0, count: data.count + 16)
        var length: Int32 = 0
        guard EVP_EncryptInit_ex(context, EVP_aes_128_ctr(), nil, key, iv) == 1,
            EVP_EncryptUpdate(context, &output, &length, data, Int32(data.count)) == 1
        else { return [] }
        return Array(output.prefix(Int(length)))
    }

    static func hmacSHA1(key: [UInt8], data: [UInt8]) -> [UInt8] {
        var output = [UInt8](repeating: 0, count: 20)
        var length: UInt32 = 0
        _ = HMAC(EVP_sha1(), key, Int32(key.count), data, data.count, &output, &length)
        return Array(output.prefix(Int(length)))
    }

    /// AES-128-GCM with a 12-byte IV; returns ciphertext ‖ 16-byte tag.
    static func aesGCM(key: [UInt8], iv: [UInt8], aad: [UInt8], plaintext: [UInt8]) -> [UInt8] {
        guard let context = EVP_CIPHER_CTX_new() else { return [] }
        defer { EVP_CIPHER_CTX_free(context) }
        var output = [UInt8](repeating: 0, count: plaintext.count + 16)
        var length: Int32 = 0
        var ignored: Int32 = 0
        var tag = [UInt8](repeating: 0, count: 16)
        guard EVP_EncryptInit_ex(context, EVP_aes_128_gcm(), nil, key, iv) == 1,
            EVP_EncryptUpdate(context, nil, &ignored, aad, Int32(aad.count)) == 1,
            EVP_EncryptUpdate(context, &output, &length, plaintext, Int32(plaintext.count)) == 1,
            EVP_EncryptFinal_ex(context, &output, &ignored) == 1,
            EVP_CIPHER_CTX_ctrl(context, EVP_CTRL_GCM_GET_TAG, 16, &tag) == 1
        else { return [] }
        return Array(output.prefix(Int(length))) + tag
    }

    /// RFC 3711 §4.3.1 key derivation with key_derivation_rate 0: x = (label ‖ 0^48) XOR salt,
    /// keystream of AES-CM(master key, x · 2^16). `salt` is the 112-bit master salt.
    static func kdf(masterKey: [UInt8], masterSalt: [UInt8], label: UInt8, length: Int) -> [UInt8] {
        var iv = masterSalt + [0, 0]
        iv[7] ^= label
        return aesCTR(key: masterKey, iv: iv, data: [UInt8](repeating: 0, count: length))
    }
}

@Suite("SRTP test vectors through libsrtp")
struct SRTPVectorTests {
    // RFC 3711 Appendix B.3.
    static let masterKey = hexBytes("E1F97A0D3E018BE0D64FA32C06DE4139")
    static let masterSalt = hexBytes("0EC675AD498AFEEBB6960B3AABE6")
    static let cipherKey = hexBytes("C61E7A93744F39EE10734AFE3FF7A087")
    static let cipherSalt = hexBytes("30CBBC08863D8C85D49DB34A9AE1")
    static let authKey = hexBytes("CEBE321F6FF7716B6FD4AB49AF256A156D38BAA4")

    @Test("the reference KDF reproduces RFC 3711 B.3")
    func referenceKDF() {
        #expect(Reference.kdf(masterKey: Self.masterKey, masterSalt: Self.masterSalt, label: 0, length: 16) == Self.cipherKey)
        #expect(Reference.kdf(masterKey: Self.masterKey, masterSalt: Self.masterSalt, label: 2, length: 14) == Self.cipherSalt)
        #expect(Reference.kdf(masterKey: Self.masterKey, masterSalt: Self.masterSalt, label: 1, length: 20) == Self.authKey)
    }

    @Test("libsrtp derives the RFC 3711 B.3 session keys from the B.3 master key")
    func rfc3711KeyDerivation() throws {
        let session = try SRTPSession(
            profile: .aes128CMHMACSHA1_80,
            localMasterKey: Self.masterKey, localMasterSalt: Self.masterSalt,
            remoteMasterKey: Self.masterKey, remoteMasterSalt: Self.masterSalt)
        let header = hexBytes("80 60 1234 00000960 CAFEBABE")
        let payload = (0..<64).map { UInt8($0) }
        var packet = ByteBuffer(bytes: header + payload)
        try session.protect(rtp: &packet)
        let protected = Array(packet.readableBytesView)

        // RFC 3711 §4.1.1: IV = (k_s · 2^16) XOR (SSRC · 2^64) XOR (i · 2^16), i = ROC ‖ SEQ.
        var iv = Self.cipherSalt + [0, 0]
        for (offset, byte) in [0xCA, 0xFE, 0xBA, 0xBE].enumerated() { iv[4 + offset] ^= UInt8(byte) }
        iv[12] ^= 0x12
        iv[13] ^= 0x34
        let ciphertext = Reference.aesCTR(key: Self.cipherKey, iv: iv, data: payload)
        // RFC 3711 §4.2: tag = HMAC-SHA1(k_a, header ‖ ciphertext ‖ ROC), 80 bits.
        let tag = Array(Reference.hmacSHA1(key: Self.authKey, data: header + ciphertext + [0, 0, 0, 0]).prefix(10))
        #expect(protected == header + ciphertext + tag)
    }

    // RFC 7714 §16.1.1 (AEAD_AES_128_GCM, session key and salt given directly).
    static let gcmKey = hexBytes("000102030405060708090a0b0c0d0e0f")
    static let gcmSalt = hexBytes("517569642070726f2071756f")
    static let gcmPlain = hexBytes("""
        8040f17b 8041f8d3 5501a0b2 47616c6c 69612065 7374206f 6d6e6973 20646976
        69736120 696e2070 61727465 73207472 6573
        """)
    static let gcmProtected = hexBytes("""
        8040f17b 8041f8d3 5501a0b2 f24de3a3 fb34de6c acba861c 9d7e4bca be633bd5
        0d294e6f 42a5f47a 51c7d19b 36de3adf 8833899d 7f27beb1 6a9152cf 765ee439
        0cce
        """)

    /// RFC 7714 §8.1: IV = (0x0000 ‖ SSRC ‖ ROC ‖ SEQ) XOR salt; AAD = the RTP header (§8.2).
    static func gcmReferenceProtect(sessionKey: [UInt8], sessionSalt: [UInt8], packet: [UInt8]) -> [UInt8] {
        let header = Array(packet.prefix(12))
        var iv = [0, 0] + Array(packet[8..<12]) + [0, 0, 0, 0] + Array(packet[2..<4])
        for index in iv.indices { iv[index] ^= sessionSalt[index] }
        return header + Reference.aesGCM(key: sessionKey, iv: iv, aad: header, plaintext: Array(packet[12...]))
    }

    @Test("the reference GCM transform reproduces RFC 7714 §16.1.1")
    func referenceGCM() {
        #expect(Self.gcmReferenceProtect(sessionKey: Self.gcmKey, sessionSalt: Self.gcmSalt, packet: Self.gcmPlain)
            == Self.gcmProtected)
    }

    @Test("libsrtp's AEAD_AES_128_GCM output equals RFC 7714 §8 with RFC 7714 §11 derived keys")
    func rfc7714ThroughLibsrtp() throws {
        // The RFC 7714 key and salt used as *master* key and salt: libsrtp derives session keys
        // (RFC 7714 §11: the AES-CM KDF of RFC 3711 §4.3.3 with the 96-bit salt zero-padded).
        let session = try SRTPSession(
            profile: .aeadAES128GCM,
            localMasterKey: Self.gcmKey, localMasterSalt: Self.gcmSalt,
            remoteMasterKey: Self.gcmKey, remoteMasterSalt: Self.gcmSalt)
        var packet = ByteBuffer(bytes: Self.gcmPlain)
        try session.protect(rtp: &packet)
        let paddedSalt = Self.gcmSalt + [0, 0]
        let sessionKey = Reference.kdf(masterKey: Self.gcmKey, masterSalt: paddedSalt, label: 0, length: 16)
        let sessionSalt = Reference.kdf(masterKey: Self.gcmKey, masterSalt: paddedSalt, label: 2, length: 12)
        let expected = Self.gcmReferenceProtect(sessionKey: sessionKey, sessionSalt: sessionSalt, packet: Self.gcmPlain)
        #expect(Array(packet.readableBytesView) == expected)

        // And the mirrored direction gets the RFC plaintext back.
        try session.unprotect(srtp: &packet)
        #expect(Array(packet.readableBytesView) == Self.gcmPlain)
    }
}
