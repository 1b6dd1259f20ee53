/// A Noise SymmetricState (Noise §5.2) with HASH = BLAKE2s.
public struct NoiseSymmetricState: Sendable {
    public private(set) var cipherState: NoiseCipherState
    /// The chaining key `ck`.
    public private(set) var chainingKey: [UInt8]
    /// The handshake hash `h`.
    public private(set) var handshakeHash: [UInt8]

    /// InitializeSymmetric(protocol_name) (Noise §5.2): a name of at most HASHLEN bytes is
    /// zero-padded, a longer one hashed; `ck = h`.
    public init(protocolName: String) {
        let name = Array(protocolName.utf8)
        if name.count <= BLAKE2s.hashLength {
            self.handshakeHash = name + [UInt8](repeating: 0, count: BLAKE2s.hashLength - name.count)
        } else {
            self.handshakeHash = BLAKE2s.hash(name)
        }
        self.chainingKey = self.handshakeHash
        self.cipherState = NoiseCipherState()
    }

    /// MixKey(input_key_material) (Noise §5.2).
    public mutating func mixKey(_ inputKeyMaterial: [UInt8]) throws(CCPError) {
        let (chainingKey, tempKey) = NoiseKDF.hkdf2(chainingKey: self.chainingKey, inputKeyMaterial: inputKeyMaterial)
        self.chainingKey = chainingKey
        // HASHLEN is 32, so temp_k needs no truncation.
        self.cipherState = try NoiseCipherState(key: tempKey)
    }

    /// MixHash(data) (Noise §5.2): `h = HASH(h || data)`.
    public mutating func mixHash(_ data: [UInt8]) {
        self.handshakeHash = BLAKE2s.hash(self.handshakeHash, data)
    }

    /// EncryptAndHash(plaintext) (Noise §5.2).
    public mutating func encryptAndHash(_ plaintext: [UInt8]) throws(CCPError) -> [UInt8] {
        let ciphertext = try self.cipherState.encrypt(associatedData: self.handshakeHash, plaintext: plaintext)
        self.mixHash(ciphertext)
        return ciphertext
    }

    /// DecryptAndHash(ciphertext) (Noise §5.2).
    public mutating func decryptAndHash(_ ciphertext: [UInt8]) throws(CCPError) -> [UInt8] {
        let plaintext = try self.cipherState.decrypt(associatedData: self.handshakeHash, ciphertext: ciphertext)
        self.mixHash(ciphertext)
        return plaintext
    }

    /// Split() (Noise §5.2): the initiator→responder and responder→initiator cipher states.
    public func split() throws(CCPError) -> (initiatorToResponder: NoiseCipherState, responderToInitiator: NoiseCipherState) {
        let (key1, key2) = NoiseKDF.hkdf2(chainingKey: self.chainingKey, inputKeyMaterial: [])
        return (try NoiseCipherState(key: key1), try NoiseCipherState(key: key2))
    }
}
