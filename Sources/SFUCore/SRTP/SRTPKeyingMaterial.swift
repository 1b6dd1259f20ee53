/// The SRTP master keys and salts of one DTLS-SRTP association, already split by direction.
///
/// RFC 5764 §4.2: the exporter output is `client_write_SRTP_master_key | server_write_SRTP_master_key
/// | client_write_SRTP_master_salt | server_write_SRTP_master_salt`. "Local" is what this endpoint
/// protects with; "remote" is what it unprotects with. The peer's material is the mirror image.
public struct SRTPKeyingMaterial: Hashable, Sendable, CustomStringConvertible {
    public var profile: SRTPProfile
    public var localMasterKey: [UInt8]
    public var localMasterSalt: [UInt8]
    public var remoteMasterKey: [UInt8]
    public var remoteMasterSalt: [UInt8]

    public init(
        profile: SRTPProfile,
        localMasterKey: [UInt8],
        localMasterSalt: [UInt8],
        remoteMasterKey: [UInt8],
        remoteMasterSalt: [UInt8]
    ) {
        self.profile = profile
        self.localMasterKey = localMasterKey
        self.localMasterSalt = localMasterSalt
        self.remoteMasterKey = remoteMasterKey
        self.remoteMasterSalt = remoteMasterSalt
    }

    /// Splits exporter output (RFC 5764 §4.2 layout) for the given DTLS role. Returns `nil` when the
    /// length is not `profile.keyingMaterialLength`.
    public init?(exported bytes: [UInt8], profile: SRTPProfile, isClient: Bool) {
        guard bytes.count == profile.keyingMaterialLength else { return nil }
        let key = profile.keyLength
        let salt = profile.saltLength
        let clientKey = Array(bytes[0..<key])
        let serverKey = Array(bytes[key..<(2 * key)])
        let clientSalt = Array(bytes[(2 * key)..<(2 * key + salt)])
        let serverSalt = Array(bytes[(2 * key + salt)..<(2 * key + 2 * salt)])
        self.init(
            profile: profile,
            localMasterKey: isClient ? clientKey : serverKey,
            localMasterSalt: isClient ? clientSalt : serverSalt,
            remoteMasterKey: isClient ? serverKey : clientKey,
            remoteMasterSalt: isClient ? serverSalt : clientSalt
        )
    }

    /// The same association seen from the peer: local and remote swapped.
    public var mirrored: SRTPKeyingMaterial {
        SRTPKeyingMaterial(
            profile: profile,
            localMasterKey: remoteMasterKey,
            localMasterSalt: remoteMasterSalt,
            remoteMasterKey: localMasterKey,
            remoteMasterSalt: localMasterSalt
        )
    }

    /// Never prints key bytes.
    public var description: String { "SRTPKeyingMaterial(\(profile), <redacted>)" }
}
