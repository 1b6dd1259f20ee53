import COpenSSL

/// An ECDSA P-256 key and a self-signed X.509 certificate for DTLS-SRTP (RFC 8827 §6.5: WebRTC
/// endpoints use self-signed certificates authenticated by the SDP fingerprint, RFC 5763 §5).
///
/// Owns one `EVP_PKEY` and one `X509`, freed in `deinit`. Immutable after `init`; OpenSSL only reads
/// them (and atomically bumps their reference counts) when a transport loads them, so one
/// certificate may be shared by transports on every event loop.
public final class DTLSCertificate: @unchecked Sendable {
    let privateKey: OpaquePointer
    let certificate: OpaquePointer

    /// The SHA-256 fingerprint CommuCat advertises in `a=fingerprint`.
    public let fingerprint: DTLSFingerprint

    /// Generates a fresh key and certificate: subject and issuer `CN=<commonName>`, a random
    /// positive 63-bit serial, valid from one day ago (clock skew) until `validityDays` from now.
    public init(commonName: String = "commucat", validityDays: Int = 30) throws(DTLSError) {
        defer { ERR_clear_error() }
        guard let key = commucat_EVP_EC_gen("P-256") else {
            throw DTLSError(code: .certificateGeneration, detail: OpenSSLSupport.drainErrors())
        }
        guard let x509 = X509_new() else {
            EVP_PKEY_free(key)
            throw DTLSError(code: .certificateGeneration, detail: OpenSSLSupport.drainErrors())
        }
        var serialBytes = [UInt8](repeating: 0, count: 8)
        var built = RAND_bytes(&serialBytes, 8) == 1
        let serial = serialBytes.reduce(UInt64(0)) { $0 << 8 | UInt64($1) } & 0x7FFF_FFFF_FFFF_FFFF
        let name = X509_get_subject_name(x509)
        let commonNameBytes = Array(commonName.utf8) + [0]
        built = built && X509_set_version(x509, 2) == 1  // X.509 v3
            && ASN1_INTEGER_set_uint64(X509_get_serialNumber(x509), max(serial, 1)) == 1
            && X509_gmtime_adj(X509_getm_notBefore(x509), -86_400) != nil
            && X509_gmtime_adj(X509_getm_notAfter(x509), validityDays * 86_400) != nil
            && X509_set_pubkey(x509, key) == 1
            && X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, commonNameBytes, -1, -1, 0) == 1
            && X509_set_issuer_name(x509, name) == 1
            && X509_sign(x509, key, EVP_sha256()) > 0
        guard built, let fingerprint = OpenSSLSupport.fingerprint(of: x509, algorithm: .sha256) else {
            X509_free(x509)
            EVP_PKEY_free(key)
            throw DTLSError(code: .certificateGeneration, detail: OpenSSLSupport.drainErrors())
        }
        self.privateKey = key
        self.certificate = x509
        self.fingerprint = fingerprint
    }

    deinit {
        X509_free(certificate)
        EVP_PKEY_free(privateKey)
    }

    /// This certificate's fingerprint with another hash (`nil` only if OpenSSL fails).
    public func fingerprint(_ algorithm: DTLSFingerprint.Algorithm) -> DTLSFingerprint? {
        OpenSSLSupport.fingerprint(of: certificate, algorithm: algorithm)
    }

    /// The certificate's DER encoding.
    public var derEncoded: [UInt8] {
        Self.der(of: certificate)
    }

    /// Fingerprint of a peer certificate given as DER, e.g. to check a certificate captured elsewhere
    /// against an SDP fingerprint.
    public static func fingerprint(
        ofDER der: [UInt8],
        algorithm: DTLSFingerprint.Algorithm
    ) throws(DTLSError) -> DTLSFingerprint {
        defer { ERR_clear_error() }
        let parsed: OpaquePointer? = der.withUnsafeBufferPointer { bytes in
            var cursor: UnsafePointer<UInt8>? = bytes.baseAddress
            return d2i_X509(nil, &cursor, bytes.count)
        }
        guard let parsed else {
            throw DTLSError(code: .invalidFingerprint, detail: "not a DER X.509 certificate")
        }
        defer { X509_free(parsed) }
        guard let fingerprint = OpenSSLSupport.fingerprint(of: parsed, algorithm: algorithm) else {
            throw DTLSError(code: .invalidFingerprint, detail: OpenSSLSupport.drainErrors())
        }
        return fingerprint
    }

    static func der(of x509: OpaquePointer) -> [UInt8] {
        let length = i2d_X509(x509, nil)
        guard length > 0 else { return [] }
        var bytes = [UInt8](repeating: 0, count: Int(length))
        let written = bytes.withUnsafeMutableBufferPointer { buffer -> Int32 in
            var cursor: UnsafeMutablePointer<UInt8>? = buffer.baseAddress
            return i2d_X509(x509, &cursor)
        }
        return written == length ? bytes : []
    }
}
