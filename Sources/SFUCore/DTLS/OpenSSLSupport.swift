import COpenSSL

/// Small helpers shared by the OpenSSL owners in this folder. None of them lets an OpenSSL return
/// code escape: callers turn failures into ``DTLSError``.
enum OpenSSLSupport {
    /// Drains OpenSSL's thread-local error queue into one line (for `DTLSError.detail`).
    static func drainErrors() -> String? {
        var messages: [String] = []
        while true {
            let code = ERR_get_error()
            if code == 0 || messages.count >= 8 { break }
            var text = [CChar](repeating: 0, count: 256)
            ERR_error_string_n(code, &text, text.count)
            let bytes = text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
            messages.append(String(decoding: bytes, as: UTF8.self))
        }
        ERR_clear_error()
        return messages.isEmpty ? nil : messages.joined(separator: "; ")
    }

    static func digest(_ algorithm: DTLSFingerprint.Algorithm) -> OpaquePointer? {
        switch algorithm {
        case .sha1: return EVP_sha1()
        case .sha256: return EVP_sha256()
        case .sha384: return EVP_sha384()
        case .sha512: return EVP_sha512()
        }
    }

    /// Fingerprint of a certificate: the hash over its DER encoding (RFC 8122 §5).
    static func fingerprint(of x509: OpaquePointer, algorithm: DTLSFingerprint.Algorithm) -> DTLSFingerprint? {
        var bytes = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        guard let md = digest(algorithm), X509_digest(x509, md, &bytes, &length) == 1 else {
            ERR_clear_error()
            return nil
        }
        return DTLSFingerprint(algorithm: algorithm, digest: Array(bytes.prefix(Int(length))))
    }
}
