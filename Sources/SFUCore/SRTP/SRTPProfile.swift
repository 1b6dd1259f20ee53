/// The DTLS-SRTP protection profiles CommuCat negotiates (RFC 5764 §4.1.2, RFC 7714 §14.2).
public enum SRTPProfile: Hashable, Sendable, CaseIterable, CustomStringConvertible {
    /// `SRTP_AEAD_AES_128_GCM` (RFC 7714 §14.2): 16-byte key, 12-byte salt, 16-byte tag.
    case aeadAES128GCM
    /// `SRTP_AES128_CM_SHA1_80` (RFC 5764 §4.1.2): 16-byte key, 14-byte salt, 80-bit HMAC-SHA1 tag.
    case aes128CMHMACSHA1_80

    /// The profile id carried in the `use_srtp` extension (RFC 5764 §4.1.2, RFC 7714 §14.2).
    public var id: UInt16 {
        switch self {
        case .aeadAES128GCM: return 0x0007
        case .aes128CMHMACSHA1_80: return 0x0001
        }
    }

    /// The profile's name as OpenSSL's `SSL_CTX_set_tlsext_use_srtp` spells it.
    public var openSSLName: String {
        switch self {
        case .aeadAES128GCM: return "SRTP_AEAD_AES_128_GCM"
        case .aes128CMHMACSHA1_80: return "SRTP_AES128_CM_SHA1_80"
        }
    }

    /// Master key length in bytes.
    public var keyLength: Int { 16 }

    /// Master salt length in bytes.
    public var saltLength: Int {
        switch self {
        case .aeadAES128GCM: return 12
        case .aes128CMHMACSHA1_80: return 14
        }
    }

    /// Bytes exported from DTLS with the label `EXTRACTOR-dtls_srtp` (RFC 5764 §4.2): two keys and
    /// two salts.
    public var keyingMaterialLength: Int { 2 * (keyLength + saltLength) }

    /// Finds a profile by its `use_srtp` id; `nil` for profiles CommuCat does not offer.
    public init?(id: UInt16) {
        guard let profile = Self.allCases.first(where: { $0.id == id }) else { return nil }
        self = profile
    }

    public var description: String { openSSLName }
}
