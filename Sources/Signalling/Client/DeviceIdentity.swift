import CCP
import ConnectCore
import Crypto
import Foundation

/// A client device's keys and registration, kept in a local JSON file with mode 0600.
///
/// The Ed25519 device key signs device proofs; the X25519 key is the Noise static key `s`.
/// The server never sees either private key.
public struct DeviceIdentity: Codable, Sendable, Hashable {
    public var deviceID: String
    public var devicePrivate: String
    public var noisePrivate: String
    public var server: String?
    public var userID: String?
    public var handle: String?
    public var certificate: String?
    /// Pinned at pairing (issue 14 item 11): the server's device CA and the Noise key last trusted.
    public var serverCAPublic: String?
    public var serverNoisePublic: String?

    enum CodingKeys: String, CodingKey {
        case deviceID = "device_id"
        case devicePrivate = "device_private"
        case noisePrivate = "noise_private"
        case server
        case userID = "user_id"
        case handle, certificate
        case serverCAPublic = "server_ca_public"
        case serverNoisePublic = "server_noise_public"
    }

    /// Fresh keys; `deviceID` defaults to a random UUID.
    public static func generate(deviceID: String = UUID().uuidString.lowercased()) -> DeviceIdentity {
        DeviceIdentity(
            deviceID: deviceID, devicePrivate: Hex.encode(Curve25519.Signing.PrivateKey().rawRepresentation),
            noisePrivate: Hex.encode(NoiseKeyPair.generate().privateKeyBytes))
    }

    public init(deviceID: String, devicePrivate: String, noisePrivate: String) {
        self.deviceID = deviceID
        self.devicePrivate = devicePrivate
        self.noisePrivate = noisePrivate
    }

    public struct Invalid: Error, CustomStringConvertible {
        public var description: String
    }

    public func deviceKey() throws -> Curve25519.Signing.PrivateKey {
        guard let raw = Hex.decode(devicePrivate), let key = try? Curve25519.Signing.PrivateKey(rawRepresentation: raw) else {
            throw Invalid(description: "device_private is not a 32-byte hex Ed25519 key")
        }
        return key
    }

    public func noiseKey() throws -> NoiseKeyPair {
        guard let raw = Hex.decode(noisePrivate), let key = try? NoiseKeyPair(privateKeyBytes: raw) else {
            throw Invalid(description: "noise_private is not a 32-byte hex X25519 key")
        }
        return key
    }

    public var devicePublic: [UInt8] { (try? deviceKey()).map { [UInt8]($0.publicKey.rawRepresentation) } ?? [] }

    /// Reads the identity file.
    public static func load(path: String) throws -> DeviceIdentity {
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        return try JSONDecoder().decode(DeviceIdentity.self, from: data)
    }

    /// Writes the identity file atomically with mode 0600 (directories created 0700).
    public func save(path: String) throws {
        let url = URL(fileURLWithPath: path)
        try FileManager.default.createDirectory(
            at: url.deletingLastPathComponent(), withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let data = try encoder.encode(self)
        let temporary = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).tmp")
        guard FileManager.default.createFile(atPath: temporary.path, contents: nil, attributes: [.posixPermissions: 0o600]) else {
            throw Invalid(description: "cannot create \(temporary.path)")
        }
        let handle = try FileHandle(forWritingTo: temporary)
        try handle.write(contentsOf: data)
        try handle.close()
        // rename(2) replaces atomically whether or not the file exists (FileManager.replaceItemAt
        // does not accept a missing destination on Linux).
        guard rename(temporary.path, url.path) == 0 else {
            throw Invalid(description: "cannot write \(url.path): errno \(errno)")
        }
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: url.path)
    }

    /// `~/.config/commucat/device.json`, or `$COMMUCAT_CLIENT_IDENTITY`.
    public static var defaultPath: String {
        if let path = ProcessInfo.processInfo.environment["COMMUCAT_CLIENT_IDENTITY"] { return path }
        return FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".config/commucat/device.json").path
    }
}
