import CBlake2

/// The one Swift owner of libb2's BLAKE2s (RFC 7693) state: Noise's HASH (Noise §12.8).
///
/// `blake2s_state` is a plain C struct (no heap memory), so the owner is a value type and needs no
/// `deinit`. libb2 only fails on out-of-range lengths or a second `final`; this type fixes the
/// output length at 32, uses no key and finalizes once (`consuming`), so C return codes are
/// checked in debug builds only and never reach callers.
public struct BLAKE2s: Sendable {
    /// HASHLEN (Noise §12.8).
    public static let hashLength = 32
    /// BLOCKLEN (Noise §12.8), used by HMAC.
    public static let blockLength = 64

    private var state: blake2s_state

    public init() {
        self.state = blake2s_state()
        let status = blake2s_init(&self.state, Self.hashLength)
        assert(status == 0, "blake2s_init rejected outlen 32")
    }

    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return }
        let status = blake2s_update(&self.state, base.assumingMemoryBound(to: UInt8.self), bytes.count)
        assert(status == 0, "blake2s_update failed")
    }

    public mutating func update(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { self.update($0) }
    }

    /// The 32-byte digest.
    public consuming func finalize() -> [UInt8] {
        var state = self.state
        return [UInt8](unsafeUninitializedCapacity: Self.hashLength) { out, count in
            let status = blake2s_final(&state, out.baseAddress, Self.hashLength)
            assert(status == 0, "blake2s_final failed")
            count = Self.hashLength
        }
    }

    /// HASH(part0 || part1 || …).
    public static func hash(_ parts: [UInt8]...) -> [UInt8] {
        var hasher = BLAKE2s()
        for part in parts { hasher.update(part) }
        return hasher.finalize()
    }
}

/// HMAC-HASH and HKDF built on ``BLAKE2s`` exactly as Noise §4.3 defines them.
public enum NoiseKDF {
    /// HMAC-BLAKE2s(key, data) per RFC 2104 with block length 64 (Noise §4.3).
    public static func hmac(key: [UInt8], data: [UInt8]...) -> [UInt8] {
        // RFC 2104 §2: keys longer than the block are hashed first, then zero-padded to B bytes.
        var block = key.count > BLAKE2s.blockLength ? BLAKE2s.hash(key) : key
        block += [UInt8](repeating: 0, count: BLAKE2s.blockLength - block.count)
        var inner = BLAKE2s()
        inner.update(block.map { $0 ^ 0x36 })
        for part in data { inner.update(part) }
        let innerDigest = inner.finalize()
        var outer = BLAKE2s()
        outer.update(block.map { $0 ^ 0x5c })
        outer.update(innerDigest)
        return outer.finalize()
    }

    /// HKDF(chaining_key, input_key_material, 2) (Noise §4.3).
    public static func hkdf2(chainingKey: [UInt8], inputKeyMaterial: [UInt8]) -> ([UInt8], [UInt8]) {
        let tempKey = Self.hmac(key: chainingKey, data: inputKeyMaterial)
        let output1 = Self.hmac(key: tempKey, data: [0x01])
        let output2 = Self.hmac(key: tempKey, data: output1, [0x02])
        return (output1, output2)
    }
}
