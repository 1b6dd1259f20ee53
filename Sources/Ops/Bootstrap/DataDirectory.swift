import Crypto
import Foundation
import SwiftASN1
import X509

/// An error preparing the data directory: one line for the operator.
public struct DataDirectoryError: Error, CustomStringConvertible {
    public var description: String
}

/// The server's data directory (SPEC §2 `server.data_dir`): created on first start with mode 0700,
/// holding generated secrets and the self-signed certificate, every file mode 0600.
public struct DataDirectory: Sendable {
    public let url: URL

    public init(_ url: URL) {
        self.url = url
    }

    public var path: String { url.path }
    public var certificatePath: String { url.appendingPathComponent("tls.crt").path }
    public var certificateKeyPath: String { url.appendingPathComponent("tls.key").path }
    public var secretsPath: String { url.appendingPathComponent("secrets.json").path }

    /// Creates the directory if needed and checks it is writable.
    public func prepare() throws(DataDirectoryError) {
        let fm = FileManager.default
        var isDirectory: ObjCBool = false
        if fm.fileExists(atPath: path, isDirectory: &isDirectory) {
            guard isDirectory.boolValue else {
                throw DataDirectoryError(description: "data dir \(path) exists and is not a directory")
            }
        } else {
            do {
                try fm.createDirectory(at: url, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            } catch {
                throw DataDirectoryError(description: "cannot create data dir \(path): \(errnoReason())")
            }
        }
        guard access(path, W_OK) == 0 else {
            throw DataDirectoryError(description: "data dir \(path) is not writable by this user")
        }
    }

    // MARK: Secrets

    /// Secrets generated once and kept in `secrets.json` (mode 0600).
    public struct Secrets: Codable, Sendable, Equatable {
        public var apiKey: String
        public var apiSecret: String

        enum CodingKeys: String, CodingKey {
            case apiKey = "api_key"
            case apiSecret = "api_secret"
        }
    }

    /// Loads the generated secrets, creating them on first start.
    public func loadOrCreateSecrets() throws(DataDirectoryError) -> Secrets {
        if FileManager.default.fileExists(atPath: secretsPath) {
            do {
                let data = try Data(contentsOf: URL(fileURLWithPath: secretsPath))
                return try JSONDecoder().decode(Secrets.self, from: data)
            } catch {
                throw DataDirectoryError(description: "\(secretsPath) is unreadable or corrupt: remove it to regenerate the API secret")
            }
        }
        let secrets = Secrets(apiKey: "CC" + randomHex(bytes: 8).uppercased(), apiSecret: randomHex(bytes: 32))
        do {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            try writePrivateFile(try encoder.encode(secrets), to: secretsPath)
        } catch let error as DataDirectoryError {
            throw error
        } catch {
            throw DataDirectoryError(description: "cannot write \(secretsPath): \(error)")
        }
        return secrets
    }

    // MARK: TLS certificate

    /// Ensures a self-signed ECDSA P-256 certificate for `domain` (plus localhost, 127.0.0.1, ::1) exists.
    /// Returns the certificate and key paths. A certificate that expires within 7 days is replaced.
    public func ensureSelfSignedCertificate(domain: String, now: Date = Date()) throws(DataDirectoryError) -> (cert: String, key: String) {
        let fm = FileManager.default
        if fm.fileExists(atPath: certificatePath), fm.fileExists(atPath: certificateKeyPath),
            let pem = try? String(contentsOfFile: certificatePath, encoding: .utf8),
            let existing = try? Certificate(pemEncoded: pem),
            existing.notValidAfter > now.addingTimeInterval(7 * 86_400),
            existing.subject.description.contains(domain)
        {
            return (certificatePath, certificateKeyPath)
        }
        do {
            let key = P256.Signing.PrivateKey()
            let name = try DistinguishedName {
                OrganizationName("CommuCat")
                CommonName(domain)
            }
            var names: [GeneralName] = [.dnsName(domain)]
            if domain != "localhost" { names.append(.dnsName("localhost")) }
            names.append(.ipAddress(ASN1OctetString(contentBytes: [127, 0, 0, 1])))
            names.append(.ipAddress(ASN1OctetString(contentBytes: [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1])))
            let certificate = try Certificate(
                version: .v3,
                serialNumber: Certificate.SerialNumber(),
                publicKey: .init(key.publicKey),
                notValidBefore: now.addingTimeInterval(-3600),
                notValidAfter: now.addingTimeInterval(365 * 86_400),
                issuer: name,
                subject: name,
                signatureAlgorithm: .ecdsaWithSHA256,
                extensions: try Certificate.Extensions {
                    Critical(BasicConstraints.notCertificateAuthority)
                    Critical(KeyUsage(digitalSignature: true))
                    try ExtendedKeyUsage([.serverAuth])
                    SubjectAlternativeNames(names)
                },
                issuerPrivateKey: .init(key)
            )
            let certPEM = try certificate.serializeAsPEM().pemString + "\n"
            try writePrivateFile(Data((key.pemRepresentation + "\n").utf8), to: certificateKeyPath)
            try writePrivateFile(Data(certPEM.utf8), to: certificatePath)
        } catch let error as DataDirectoryError {
            throw error
        } catch {
            throw DataDirectoryError(description: "cannot generate the self-signed certificate in \(path): \(error)")
        }
        return (certificatePath, certificateKeyPath)
    }
}

/// Writes `data` to `path` with mode 0600, atomically (temporary file + rename).
func writePrivateFile(_ data: Data, to path: String) throws(DataDirectoryError) {
    let temporary = path + ".tmp-\(getpid())"
    let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
    guard fd >= 0 else { throw DataDirectoryError(description: "cannot write \(path): \(errnoReason())") }
    var ok = true
    data.withUnsafeBytes { raw in
        var offset = 0
        while offset < raw.count {
            let n = write(fd, raw.baseAddress.map { $0 + offset }, raw.count - offset)
            if n <= 0 {
                ok = false
                return
            }
            offset += n
        }
    }
    ok = ok && fsync(fd) == 0
    close(fd)
    guard ok, rename(temporary, path) == 0 else {
        unlink(temporary)
        throw DataDirectoryError(description: "cannot write \(path): \(errnoReason())")
    }
}

func errnoReason() -> String { String(cString: strerror(errno)) }

func randomHex(bytes count: Int) -> String {
    var generator = SystemRandomNumberGenerator()
    return (0..<count).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &generator)) }.joined()
}
