import Crypto
import Foundation

/// The device proof of SPEC §4.2: an Ed25519 signature by the device key over
/// `"commucat:device-proof:v1" || u32be(len(domain)) || domain || u32be(len(device_id)) || device_id
///  || client_static || handshake`, where `handshake` is Noise message 1 (raw bytes, not hex).
public enum DeviceProof {
    public static let label = "commucat:device-proof:v1"

    /// The exact bytes signed.
    public static func message(domain: String, deviceID: String, clientStatic: [UInt8], handshake: [UInt8]) -> [UInt8] {
        var out = Array(label.utf8)
        appendLengthPrefixed(Array(domain.utf8), to: &out)
        appendLengthPrefixed(Array(deviceID.utf8), to: &out)
        out += clientStatic
        out += handshake
        return out
    }

    public static func sign(
        deviceKey: Curve25519.Signing.PrivateKey, domain: String, deviceID: String, clientStatic: [UInt8], handshake: [UInt8]
    ) throws -> [UInt8] {
        let bytes = message(domain: domain, deviceID: deviceID, clientStatic: clientStatic, handshake: handshake)
        return [UInt8](try deviceKey.signature(for: bytes))
    }

    public static func verify(
        signature: [UInt8], devicePublic: [UInt8], domain: String, deviceID: String, clientStatic: [UInt8], handshake: [UInt8]
    ) -> Bool {
        guard signature.count == 64, let key = try? Curve25519.Signing.PublicKey(rawRepresentation: devicePublic) else { return false }
        let bytes = message(domain: domain, deviceID: deviceID, clientStatic: clientStatic, handshake: handshake)
        return key.isValidSignature(signature, for: bytes)
    }

    /// `u32be(len(bytes)) || bytes`.
    public static func appendLengthPrefixed(_ bytes: [UInt8], to out: inout [UInt8]) {
        let length = UInt32(truncatingIfNeeded: bytes.count)
        out += [UInt8(length >> 24), UInt8(length >> 16 & 0xff), UInt8(length >> 8 & 0xff), UInt8(length & 0xff)]
        out += bytes
    }
}
