import SFUCore
import Testing

@Suite("DTLSCertificate and DTLSFingerprint")
struct DTLSCertificateTests {
    @Test("a generated certificate has an SDP-form SHA-256 fingerprint of its DER")
    func fingerprintForm() throws {
        let certificate = try DTLSCertificate()
        let fingerprint = certificate.fingerprint
        #expect(fingerprint.algorithm == .sha256)
        #expect(fingerprint.digest.count == 32)
        #expect(fingerprint.sdpValue.hasPrefix("sha-256 "))
        #expect(fingerprint.hexValue.count == 32 * 3 - 1)
        #expect(fingerprint.hexValue == fingerprint.hexValue.uppercased())
        #expect(try DTLSFingerprint(sdpValue: fingerprint.sdpValue) == fingerprint)
        let der = certificate.derEncoded
        #expect(der.first == 0x30)
        #expect(try DTLSCertificate.fingerprint(ofDER: der, algorithm: .sha256) == fingerprint)
    }

    @Test("sha-1/384/512 fingerprints have their digest lengths", arguments: DTLSFingerprint.Algorithm.allCases)
    func otherAlgorithms(algorithm: DTLSFingerprint.Algorithm) throws {
        let certificate = try DTLSCertificate()
        let fingerprint = try #require(certificate.fingerprint(algorithm))
        #expect(fingerprint.digest.count == algorithm.digestLength)
        #expect(try DTLSCertificate.fingerprint(ofDER: certificate.derEncoded, algorithm: algorithm) == fingerprint)
    }

    @Test("two certificates differ")
    func fresh() throws {
        #expect(try DTLSCertificate().fingerprint != DTLSCertificate().fingerprint)
    }

    @Test("fingerprint parsing is case-insensitive in the hash name and strict in the hex")
    func parsing() throws {
        let hex = (0..<20).map { _ in "AB" }.joined(separator: ":")
        #expect(try DTLSFingerprint(sdpValue: "SHA-1 \(hex)").algorithm == .sha1)
        #expect(try DTLSFingerprint(sdpValue: "sha-1 \(hex.lowercased())").digest == [UInt8](repeating: 0xAB, count: 20))
        for bad in ["sha-1", "md5 \(hex)", "sha-256 \(hex)", "sha-1 \(hex):", "sha-1 \(hex.dropLast())Z", ""] {
            #expect(throws: DTLSError.self) { try DTLSFingerprint(sdpValue: bad) }
            do { _ = try DTLSFingerprint(sdpValue: bad) } catch { #expect(error.code == .invalidFingerprint) }
        }
        #expect(throws: DTLSError.self) { try DTLSCertificate.fingerprint(ofDER: [0x30, 0x03, 1, 2, 3], algorithm: .sha256) }
    }
}
