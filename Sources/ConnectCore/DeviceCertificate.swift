import Crypto
import Foundation

/// A device certificate (SPEC §5: Ed25519, 30 days), signed by the server's device CA.
///
/// Fixed binary layout (docs/PROTOCOL.md §3), carried hex-encoded in JSON:
/// ```
/// "CCC1"                       4 bytes magic
/// u16be(len) device_id         UTF-8, 1…255 bytes
/// u16be(len) user_id           UTF-8, 1…255 bytes
/// device_public                32 bytes (Ed25519)
/// not_before                   i64be Unix seconds
/// not_after                    i64be Unix seconds
/// signature                    64 bytes: Ed25519(CA, "commucat:device-cert:v1" || every byte above)
/// ```
public struct DeviceCertificate: Hashable, Sendable {
    public static let magic: [UInt8] = Array("CCC1".utf8)
    public static let signatureLabel: [UInt8] = Array("commucat:device-cert:v1".utf8)
    public static let validity: TimeInterval = 30 * 86_400

    public var deviceID: String
    public var userID: String
    public var devicePublic: [UInt8]
    public var notBefore: Int64
    public var notAfter: Int64
    public var signature: [UInt8]

    /// Why a certificate was refused.
    public struct Failure: Error, Hashable, Sendable {
        public var detail: String
        init(_ detail: String) { self.detail = detail }
    }

    /// Issues a certificate valid from `now` for ``validity``.
    public static func issue(
        deviceID: String, userID: String, devicePublic: [UInt8], now: Date, ca: Curve25519.Signing.PrivateKey
    ) throws -> DeviceCertificate {
        let notBefore = Int64(now.timeIntervalSince1970.rounded(.down))
        var certificate = DeviceCertificate(
            deviceID: deviceID, userID: userID, devicePublic: devicePublic, notBefore: notBefore,
            notAfter: notBefore + Int64(validity), signature: [])
        certificate.signature = [UInt8](try ca.signature(for: signatureLabel + certificate.tbsBytes))
        return certificate
    }

    /// The bytes before the signature.
    public var tbsBytes: [UInt8] {
        var out = Self.magic
        Self.appendU16Prefixed(Array(deviceID.utf8), to: &out)
        Self.appendU16Prefixed(Array(userID.utf8), to: &out)
        out += devicePublic
        Self.appendI64(notBefore, to: &out)
        Self.appendI64(notAfter, to: &out)
        return out
    }

    public var encoded: [UInt8] { tbsBytes + signature }

    /// Parses the layout; never traps on any input.
    public init(parsing bytes: [UInt8]) throws(Failure) {
        var reader = Reader(bytes: bytes)
        guard reader.take(4) == Self.magic else { throw Failure("bad magic") }
        guard let deviceID = reader.takeString(), let userID = reader.takeString() else { throw Failure("bad identifier") }
        guard let key = reader.take(32), let notBefore = reader.takeI64(), let notAfter = reader.takeI64(),
            let signature = reader.take(64), reader.atEnd
        else { throw Failure("truncated or oversized certificate") }
        self.init(deviceID: deviceID, userID: userID, devicePublic: key, notBefore: notBefore, notAfter: notAfter, signature: signature)
    }

    public init(deviceID: String, userID: String, devicePublic: [UInt8], notBefore: Int64, notAfter: Int64, signature: [UInt8]) {
        self.deviceID = deviceID
        self.userID = userID
        self.devicePublic = devicePublic
        self.notBefore = notBefore
        self.notAfter = notAfter
        self.signature = signature
    }

    /// Checks the CA signature and the validity window at `now`.
    public func verify(caPublic: Curve25519.Signing.PublicKey, now: Date) throws(Failure) {
        guard caPublic.isValidSignature(signature, for: Self.signatureLabel + tbsBytes) else { throw Failure("signature does not verify") }
        let seconds = Int64(now.timeIntervalSince1970.rounded(.down))
        guard seconds >= notBefore else { throw Failure("not yet valid") }
        guard seconds < notAfter else { throw Failure("expired") }
    }

    private static func appendU16Prefixed(_ bytes: [UInt8], to out: inout [UInt8]) {
        let length = UInt16(truncatingIfNeeded: bytes.count)
        out += [UInt8(length >> 8), UInt8(length & 0xff)]
        out += bytes
    }

    private static func appendI64(_ value: Int64, to out: inout [UInt8]) {
        let bits = UInt64(bitPattern: value)
        for shift in stride(from: 56, through: 0, by: -8) { out.append(UInt8(truncatingIfNeeded: bits >> UInt64(shift))) }
    }

    private struct Reader {
        let bytes: [UInt8]
        var index = 0
        var atEnd: Bool { index == bytes.count }

        mutating func take(_ count: Int) -> [UInt8]? {
            guard count >= 0, bytes.count - index >= count else { return nil }
            defer { index += count }
            return Array(bytes[index..<index + count])
        }

        mutating func takeString() -> String? {
            guard let prefix = take(2) else { return nil }
            let length = Int(prefix[0]) << 8 | Int(prefix[1])
            guard length > 0, length <= 255, let raw = take(length) else { return nil }
            return String(validating: raw, as: UTF8.self)
        }

        mutating func takeI64() -> Int64? {
            guard let raw = take(8) else { return nil }
            return Int64(bitPattern: raw.reduce(UInt64(0)) { $0 << 8 | UInt64($1) })
        }
    }
}
