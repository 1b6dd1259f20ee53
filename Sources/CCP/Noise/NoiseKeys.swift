import Crypto
import Foundation

/// An X25519 key pair (Noise §12.1, DH = 25519).
public struct NoiseKeyPair: Sendable {
    /// DHLEN (Noise §12.1).
    public static let keyLength = 32

    public let privateKey: Curve25519.KeyAgreement.PrivateKey

    public init(privateKey: Curve25519.KeyAgreement.PrivateKey) {
        self.privateKey = privateKey
    }

    /// A key pair from 32 raw private key bytes (clamped by X25519 itself, RFC 7748 §5).
    public init(privateKeyBytes: [UInt8]) throws(CCPError) {
        guard privateKeyBytes.count == Self.keyLength else {
            throw CCPError(.noiseInvalidKey, detail: "private key of \(privateKeyBytes.count) bytes")
        }
        do {
            self.privateKey = try Curve25519.KeyAgreement.PrivateKey(rawRepresentation: privateKeyBytes)
        } catch {
            throw CCPError(.noiseInvalidKey, detail: "private key rejected")
        }
    }

    /// GENERATE_KEYPAIR() (Noise §4.1).
    public static func generate() -> NoiseKeyPair {
        NoiseKeyPair(privateKey: Curve25519.KeyAgreement.PrivateKey())
    }

    /// The 32-byte public key.
    public var publicKey: [UInt8] { [UInt8](self.privateKey.publicKey.rawRepresentation) }

    /// The 32 raw private key bytes.
    public var privateKeyBytes: [UInt8] { [UInt8](self.privateKey.rawRepresentation) }

    /// DH(key_pair, public_key) (Noise §4.1). An all-zero output (a low-order public key, RFC 7748
    /// §6.1) is rejected with `noise_invalid_key`, as Noise §12.1 permits.
    func diffieHellman(_ publicKey: [UInt8]) throws(CCPError) -> [UInt8] {
        guard publicKey.count == Self.keyLength else {
            throw CCPError(.noiseInvalidKey, detail: "public key of \(publicKey.count) bytes")
        }
        do {
            let peer = try Curve25519.KeyAgreement.PublicKey(rawRepresentation: publicKey)
            let secret = try self.privateKey.sharedSecretFromKeyAgreement(with: peer)
            let output = secret.withUnsafeBytes { [UInt8]($0) }
            // Fold every byte so the check does not stop early on a secret value.
            guard output.reduce(0, { $0 | $1 }) != 0 else {
                throw CCPError(.noiseInvalidKey, detail: "all-zero X25519 output")
            }
            return output
        } catch let error as CCPError {
            throw error
        } catch {
            throw CCPError(.noiseInvalidKey, detail: "X25519 rejected the public key")
        }
    }
}

/// The two handshake patterns CCP-1 uses (SPEC §4.2), with 25519, ChaChaPoly and BLAKE2s.
public enum NoisePattern: String, CaseIterable, Hashable, Sendable {
    /// `<- s … -> e, es / <- e, ee / -> s, se` (Noise §7.5).
    case xk = "XK"
    /// `<- s … -> e, es, s, ss / <- e, ee, se` (Noise §7.5).
    case ik = "IK"

    /// The full Noise protocol name (Noise §8), e.g. `Noise_XK_25519_ChaChaPoly_BLAKE2s`.
    public var protocolName: String { "Noise_\(self.rawValue)_25519_ChaChaPoly_BLAKE2s" }

    /// The pattern for a full protocol name, or `nil` for any other name.
    public init?(protocolName: String) {
        guard let pattern = Self.allCases.first(where: { $0.protocolName == protocolName }) else { return nil }
        self = pattern
    }

    enum Token: Sendable {
        case e, s, ee, es, se, ss
    }

    /// The message patterns after the `<- s` pre-message; even indices are initiator → responder.
    var messagePatterns: [[Token]] {
        switch self {
        case .xk: [[.e, .es], [.e, .ee], [.s, .se]]
        case .ik: [[.e, .es, .s, .ss], [.e, .ee, .se]]
        }
    }
}

/// Which side of the handshake this party plays. CCP-1's server is always the responder.
public enum NoiseRole: Hashable, Sendable {
    case initiator
    case responder
}

/// Everything a ``NoiseHandshakeState`` starts from.
public struct NoiseHandshakeConfiguration: Sendable {
    public var pattern: NoisePattern
    public var role: NoiseRole
    /// Bytes both parties mix in before the first message (Noise §6); CCP-1 uses the UTF-8 of
    /// config `crypto.prologue`, default `commucat`.
    public var prologue: [UInt8]
    /// This party's static key pair `s`.
    public var localStatic: NoiseKeyPair
    /// The responder's static public key `rs`; required for the initiator of XK and IK (the
    /// `<- s` pre-message), ignored for the responder.
    public var remoteStatic: [UInt8]?
    /// A fixed ephemeral key pair `e` (test vectors only); `nil` generates a fresh one.
    public var localEphemeral: NoiseKeyPair?

    public init(
        pattern: NoisePattern,
        role: NoiseRole,
        prologue: [UInt8],
        localStatic: NoiseKeyPair,
        remoteStatic: [UInt8]? = nil,
        localEphemeral: NoiseKeyPair? = nil
    ) {
        self.pattern = pattern
        self.role = role
        self.prologue = prologue
        self.localStatic = localStatic
        self.remoteStatic = remoteStatic
        self.localEphemeral = localEphemeral
    }
}
