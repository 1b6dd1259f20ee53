import Crypto
import Foundation

/// A Noise CipherState (Noise §5.1) over ChaChaPoly (Noise §12.3): ChaCha20-Poly1305 (RFC 8439)
/// with a 96-bit nonce of 32 zero bits followed by the 64-bit counter `n` little-endian.
public struct NoiseCipherState: Sendable {
    /// The AEAD tag length.
    public static let tagLength = 16
    /// The key length (Noise §5: k is 32 bytes).
    public static let keyLength = 32

    private var key: SymmetricKey?
    /// The next nonce `n`. 2^64-1 is reserved for ``rekey()`` (Noise §5.1) and never used for a
    /// message: reaching it makes every further encrypt/decrypt fail with `noise_nonce_exhausted`.
    public private(set) var nonce: UInt64 = 0

    /// An empty cipher state: `k` is empty, encryption is the identity (Noise §5.1).
    public init() {}

    /// InitializeKey(key) (Noise §5.1): `n = 0`.
    public init(key: [UInt8]) throws(CCPError) {
        guard key.count == Self.keyLength else {
            throw CCPError(.noiseInvalidKey, detail: "cipher key of \(key.count) bytes")
        }
        self.key = SymmetricKey(data: key)
    }

    /// HasKey() (Noise §5.1).
    public var hasKey: Bool { self.key != nil }

    /// SetNonce(nonce) (Noise §5.1), for out-of-order transports that carry the nonce themselves.
    public mutating func setNonce(_ nonce: UInt64) {
        self.nonce = nonce
    }

    /// EncryptWithAd(ad, plaintext) (Noise §5.1).
    public mutating func encrypt(associatedData: [UInt8], plaintext: [UInt8]) throws(CCPError) -> [UInt8] {
        guard let key = self.key else { return plaintext }
        guard self.nonce != UInt64.max else { throw CCPError(.noiseNonceExhausted) }
        let ciphertext = try Self.seal(key: key, nonce: self.nonce, associatedData: associatedData, plaintext: plaintext)
        self.nonce += 1
        return ciphertext
    }

    /// DecryptWithAd(ad, ciphertext) (Noise §5.1). On failure `n` is not incremented.
    public mutating func decrypt(associatedData: [UInt8], ciphertext: [UInt8]) throws(CCPError) -> [UInt8] {
        guard let key = self.key else { return ciphertext }
        guard self.nonce != UInt64.max else { throw CCPError(.noiseNonceExhausted) }
        let plaintext = try Self.open(key: key, nonce: self.nonce, associatedData: associatedData, ciphertext: ciphertext)
        self.nonce += 1
        return plaintext
    }

    /// Rekey() (Noise §5.1, §11.3): `k = REKEY(k)`, the first 32 bytes of
    /// `ENCRYPT(k, 2^64-1, zerolen, zeros[32])`. `n` is left unchanged. A no-op without a key.
    public mutating func rekey() {
        guard let key = self.key else { return }
        let zeros = [UInt8](repeating: 0, count: Self.keyLength)
        // Sealing cannot fail here: the key is 32 bytes and the nonce 12, both fixed by this type.
        guard let sealed = try? Self.seal(key: key, nonce: UInt64.max, associatedData: [], plaintext: zeros) else {
            return
        }
        self.key = SymmetricKey(data: sealed.prefix(Self.keyLength))
    }

    /// The 12-byte ChaChaPoly nonce for counter `n` (Noise §12.3).
    static func nonceBytes(_ counter: UInt64) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: 12)
        for index in 0..<8 {
            bytes[4 + index] = UInt8(truncatingIfNeeded: counter >> UInt64(8 * index))
        }
        return bytes
    }

    private static func seal(
        key: SymmetricKey,
        nonce: UInt64,
        associatedData: [UInt8],
        plaintext: [UInt8]
    ) throws(CCPError) -> [UInt8] {
        do {
            let box = try ChaChaPoly.seal(
                plaintext,
                using: key,
                nonce: ChaChaPoly.Nonce(data: Self.nonceBytes(nonce)),
                authenticating: associatedData
            )
            return [UInt8](box.ciphertext) + [UInt8](box.tag)
        } catch {
            throw CCPError(.noiseInvalidKey, detail: "ChaChaPoly seal failed")
        }
    }

    private static func open(
        key: SymmetricKey,
        nonce: UInt64,
        associatedData: [UInt8],
        ciphertext: [UInt8]
    ) throws(CCPError) -> [UInt8] {
        guard ciphertext.count >= Self.tagLength else {
            throw CCPError(.noiseMessageTooShort, detail: "ciphertext shorter than the tag")
        }
        do {
            let box = try ChaChaPoly.SealedBox(
                nonce: ChaChaPoly.Nonce(data: Self.nonceBytes(nonce)),
                ciphertext: ciphertext.dropLast(Self.tagLength),
                tag: ciphertext.suffix(Self.tagLength)
            )
            return [UInt8](try ChaChaPoly.open(box, using: key, authenticating: associatedData))
        } catch {
            throw CCPError(.noiseDecryptFailed)
        }
    }
}
