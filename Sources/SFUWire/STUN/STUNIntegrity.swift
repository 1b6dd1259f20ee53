import Crypto
import NIOCore

/// Keys for MESSAGE-INTEGRITY (RFC 8489 §9). Build a key once per session and reuse it.
public enum STUNCredentials {
    /// Short-term credential (RFC 8489 §9.1.1): the password's UTF-8 bytes. ICE passwords are
    /// ASCII, so OpaqueString preparation leaves them unchanged.
    public static func shortTermKey(password: String) -> SymmetricKey {
        SymmetricKey(data: Array(password.utf8))
    }

    /// Long-term credential (RFC 8489 §9.2.2): MD5(username ":" realm ":" password).
    public static func longTermKey(username: String, realm: String, password: String) -> SymmetricKey {
        let digest = Insecure.MD5.hash(data: Array("\(username):\(realm):\(password)".utf8))
        return SymmetricKey(data: Array(digest))
    }
}

enum STUNIntegrity {
    /// HMAC over `message` from its start up to `attributeOffset` (exclusive), with the header's
    /// length field replaced as if the message ended after an integrity attribute of `macLength`
    /// bytes at `attributeOffset` (RFC 8489 §14.5, §14.6).
    static func mac<H: HashFunction>(
        _: H.Type, message: ByteBuffer, attributeOffset: Int, macLength: Int, key: SymmetricKey
    ) -> HMAC<H>.MAC {
        let adjustedLength = UInt16(truncatingIfNeeded: attributeOffset + 4 + macLength - STUNMessage.headerSize)
        var hmac = HMAC<H>(key: key)
        message.withUnsafeReadableBytes { bytes in
            hmac.update(data: UnsafeRawBufferPointer(rebasing: bytes[0..<2]))
            withUnsafeBytes(of: adjustedLength.bigEndian) { hmac.update(data: $0) }
            hmac.update(data: UnsafeRawBufferPointer(rebasing: bytes[4..<attributeOffset]))
        }
        return hmac.finalize()
    }

    /// Compares the first `length` bytes of `mac` with `expected` in constant time.
    static func matches<H: HashFunction>(_ mac: HMAC<H>.MAC, _ expected: ByteBuffer, length: Int) -> Bool {
        guard expected.readableBytes == length else { return false }
        return mac.withUnsafeBytes { macBytes in
            expected.withUnsafeReadableBytes { expectedBytes in
                guard macBytes.count >= length else { return false }
                var difference: UInt8 = 0
                for index in 0..<length { difference |= macBytes[index] ^ expectedBytes[index] }
                return difference == 0
            }
        }
    }

    /// RFC 8489 §14.7: CRC-32 of the message up to FINGERPRINT, XOR 0x5354554e.
    static func fingerprint(message: ByteBuffer, attributeOffset: Int) -> UInt32 {
        message.withUnsafeReadableBytes { bytes in
            CRC32.update(0, UnsafeRawBufferPointer(rebasing: bytes[0..<attributeOffset]))
        } ^ 0x5354_554E
    }
}

extension STUNMessage {
    /// `true` when MESSAGE-INTEGRITY is present and its HMAC-SHA1 matches `key` (RFC 8489 §14.5).
    public func verifyMessageIntegrity(key: SymmetricKey) -> Bool {
        guard let offset = messageIntegrityAttributeOffset,
              let expected = valueSlice(atAttribute: offset)
        else { return false }
        let mac = STUNIntegrity.mac(Insecure.SHA1.self, message: buffer, attributeOffset: offset, macLength: 20, key: key)
        return STUNIntegrity.matches(mac, expected, length: 20)
    }

    /// `true` when MESSAGE-INTEGRITY-SHA256 is present and its (possibly truncated) HMAC-SHA256
    /// matches `key` (RFC 8489 §14.6).
    public func verifyMessageIntegritySHA256(key: SymmetricKey) -> Bool {
        guard let offset = messageIntegritySHA256AttributeOffset,
              let expected = valueSlice(atAttribute: offset)
        else { return false }
        let length = expected.readableBytes
        let mac = STUNIntegrity.mac(SHA256.self, message: buffer, attributeOffset: offset, macLength: length, key: key)
        return STUNIntegrity.matches(mac, expected, length: length)
    }

    /// `true` when FINGERPRINT is present and correct (RFC 8489 §14.7).
    public var hasValidFingerprint: Bool {
        guard let offset = fingerprintAttributeOffset,
              let value = buffer.getInteger(at: buffer.readerIndex + offset + 4, as: UInt32.self)
        else { return false }
        return STUNIntegrity.fingerprint(message: buffer, attributeOffset: offset) == value
    }
}
