import Crypto
import Foundation

/// The two device proofs of the `/connect` handshake (docs/PROTOCOL.md §1.2).
///
/// - **Hello proof** (SPEC §4.2, `commucat:device-proof:v1`): an Ed25519 signature by the device key
///   over `label || u32be(len(domain)) || domain || u32be(len(device_id)) || device_id ||
///   client_static || handshake`, where `handshake` is Noise message 1 (raw bytes, not hex). It binds
///   the Noise static key to the device key, but it signs nothing the server chose, so a captured
///   Hello carries a valid one forever: it is only a cheap early check.
/// - **Confirmation proof** (`commucat:device-proof:v2`, handshake revision 2): the same prefix, then
///   the Noise handshake hash `h` after the last handshake message (Noise §5.3 GetHandshakeHash).
///   `h` covers the server's fresh ephemeral key, so the proof is fresh on every connection and only
///   the holder of the device key (and of the session's keys, since it travels encrypted) can make it.
public enum DeviceProof {
    public static let label = "commucat:device-proof:v1"
    public static let confirmationLabel = "commucat:device-proof:v2"

    /// The exact bytes of the Hello proof.
    public static func message(domain: String, deviceID: String, clientStatic: [UInt8], handshake: [UInt8]) -> [UInt8] {
        var out = prefix(label, domain: domain, deviceID: deviceID)
        out += clientStatic
        out += handshake
        return out
    }

    /// The exact bytes of the confirmation proof.
    public static func confirmationMessage(domain: String, deviceID: String, handshakeHash: [UInt8]) -> [UInt8] {
        prefix(confirmationLabel, domain: domain, deviceID: deviceID) + handshakeHash
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
        verify(signature, devicePublic: devicePublic, message(domain: domain, deviceID: deviceID, clientStatic: clientStatic, handshake: handshake))
    }

    public static func signConfirmation(
        deviceKey: Curve25519.Signing.PrivateKey, domain: String, deviceID: String, handshakeHash: [UInt8]
    ) throws -> [UInt8] {
        [UInt8](try deviceKey.signature(for: confirmationMessage(domain: domain, deviceID: deviceID, handshakeHash: handshakeHash)))
    }

    public static func verifyConfirmation(
        signature: [UInt8], devicePublic: [UInt8], domain: String, deviceID: String, handshakeHash: [UInt8]
    ) -> Bool {
        verify(signature, devicePublic: devicePublic, confirmationMessage(domain: domain, deviceID: deviceID, handshakeHash: handshakeHash))
    }

    private static func verify(_ signature: [UInt8], devicePublic: [UInt8], _ bytes: [UInt8]) -> Bool {
        guard signature.count == 64, let key = try? Curve25519.Signing.PublicKey(rawRepresentation: devicePublic) else { return false }
        return key.isValidSignature(signature, for: bytes)
    }

    private static func prefix(_ label: String, domain: String, deviceID: String) -> [UInt8] {
        var out = Array(label.utf8)
        appendLengthPrefixed(Array(domain.utf8), to: &out)
        appendLengthPrefixed(Array(deviceID.utf8), to: &out)
        return out
    }

    /// `u32be(len(bytes)) || bytes`.
    public static func appendLengthPrefixed(_ bytes: [UInt8], to out: inout [UInt8]) {
        let length = UInt32(truncatingIfNeeded: bytes.count)
        out += [UInt8(length >> 24), UInt8(length >> 16 & 0xff), UInt8(length >> 8 & 0xff), UInt8(length & 0xff)]
        out += bytes
    }
}
