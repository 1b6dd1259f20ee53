/// The two transport cipher states after Split() (Noise §5.2), oriented for one party, with
/// the Noise §3 limit of 65535 bytes per transport message.
///
/// Transport messages use zero-length associated data (Noise §5.2). Nonces count up from 0 in
/// each direction; reaching 2^64-1 fails with `noise_nonce_exhausted` (Noise §5.1).
public struct NoiseTransport: Sendable {
    /// The largest transport message, tag included (Noise §3).
    public static let maxMessageLength = 65535
    /// The largest plaintext one transport message can carry.
    public static let maxPlaintextLength = maxMessageLength - NoiseCipherState.tagLength

    public private(set) var sendCipher: NoiseCipherState
    public private(set) var receiveCipher: NoiseCipherState

    public init(sendCipher: NoiseCipherState, receiveCipher: NoiseCipherState) {
        self.sendCipher = sendCipher
        self.receiveCipher = receiveCipher
    }

    /// Encrypts one transport message.
    public mutating func encrypt(_ plaintext: [UInt8]) throws(CCPError) -> [UInt8] {
        guard plaintext.count <= Self.maxPlaintextLength else {
            throw CCPError(.noiseMessageTooLarge, detail: "plaintext of \(plaintext.count) bytes")
        }
        return try self.sendCipher.encrypt(associatedData: [], plaintext: plaintext)
    }

    /// Decrypts one transport message.
    public mutating func decrypt(_ ciphertext: [UInt8]) throws(CCPError) -> [UInt8] {
        guard ciphertext.count <= Self.maxMessageLength else {
            throw CCPError(.noiseMessageTooLarge, detail: "transport message of \(ciphertext.count) bytes")
        }
        return try self.receiveCipher.decrypt(associatedData: [], ciphertext: ciphertext)
    }

    /// Rekey() of the sending cipher state (Noise §11.3). Both parties must agree on when.
    public mutating func rekeySending() {
        self.sendCipher.rekey()
    }

    /// Rekey() of the receiving cipher state (Noise §11.3).
    public mutating func rekeyReceiving() {
        self.receiveCipher.rekey()
    }
}
