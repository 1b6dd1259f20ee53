import Crypto
import Foundation

/// The device CA's signature over each server Noise static key (server-info `noise_keys[].ca_signature`),
/// so that a client which pinned `device_ca_public` at pairing can accept a rotated Noise key
/// fetched over plain HTTP and refuse a substituted one (issue 14 item 11).
///
/// Ed25519 by the device CA over exactly `"commucat:noise-key:v1" || u64be(version) || public` (32 bytes).
public enum NoiseKeyEndorsement {
    public static let label = "commucat:noise-key:v1"

    public static func message(version: Int64, publicKey: [UInt8]) -> [UInt8] {
        var out = Array(label.utf8)
        let v = UInt64(bitPattern: version)
        for shift in stride(from: 56, through: 0, by: -8) { out.append(UInt8(truncatingIfNeeded: v >> UInt64(shift))) }
        return out + publicKey
    }

    public static func sign(ca: Curve25519.Signing.PrivateKey, version: Int64, publicKey: [UInt8]) -> [UInt8] {
        (try? ca.signature(for: message(version: version, publicKey: publicKey))).map { [UInt8]($0) } ?? []
    }

    public static func verify(signature: [UInt8], caPublic: [UInt8], version: Int64, publicKey: [UInt8]) -> Bool {
        guard signature.count == 64, publicKey.count == 32, let key = try? Curve25519.Signing.PublicKey(rawRepresentation: caPublic) else { return false }
        return key.isValidSignature(signature, for: message(version: version, publicKey: publicKey))
    }
}
