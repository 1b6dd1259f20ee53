import Foundation

// Plain values returned by and passed to `Storage`. Timestamps are `Date`s in the API and are stored
// on both drivers as BIGINT milliseconds since the Unix epoch (UTC), so they compare and index the
// same way everywhere; sub-millisecond precision is dropped.

public struct UserRecord: Sendable, Hashable {
    public var id: String
    public var handle: String
    public var displayName: String?
    public var createdAt: Date

    public init(id: String, handle: String, displayName: String?, createdAt: Date) {
        self.id = id
        self.handle = handle
        self.displayName = displayName
        self.createdAt = createdAt
    }
}

public enum DeviceStatus: String, Sendable, Hashable {
    case active, revoked
}

public struct DeviceRecord: Sendable, Hashable {
    public var deviceID: String
    public var userID: String
    /// Ed25519 public key of the device (32 bytes in CCP-1; not checked here).
    public var publicKey: [UInt8]
    public var name: String?
    public var status: DeviceStatus
    public var createdAt: Date
    public var revokedAt: Date?
    public var certificate: [UInt8]?

    public init(deviceID: String, userID: String, publicKey: [UInt8], name: String?, status: DeviceStatus = .active,
                createdAt: Date, revokedAt: Date? = nil, certificate: [UInt8]? = nil) {
        self.deviceID = deviceID
        self.userID = userID
        self.publicKey = publicKey
        self.name = name
        self.status = status
        self.createdAt = createdAt
        self.revokedAt = revokedAt
        self.certificate = certificate
    }
}

/// One device key rotation, recorded with the proof the device presented.
public struct DeviceKeyEvent: Sendable, Hashable {
    public var id: Int64
    public var deviceID: String
    public var oldPublicKey: [UInt8]
    public var newPublicKey: [UInt8]
    public var proof: [UInt8]
    public var at: Date
}

public struct SessionRecord: Sendable, Hashable {
    public var id: String
    public var deviceID: String
    public var createdAt: Date
    public var lastSeen: Date
    public var closedAt: Date?
}

public struct PairingCodeRecord: Sendable, Hashable {
    public var code: String
    public var userID: String
    public var createdAt: Date
    public var expiresAt: Date
    /// Claim attempts made so far, successful or not.
    public var attempts: Int
    public var claimedAt: Date?
    /// The device registered by the successful claim.
    public var deviceID: String?
}

/// The device a pairing claim registers.
public struct NewDevice: Sendable, Hashable {
    public var deviceID: String
    public var publicKey: [UInt8]
    public var name: String?
    public var certificate: [UInt8]?

    public init(deviceID: String, publicKey: [UInt8], name: String?, certificate: [UInt8]? = nil) {
        self.deviceID = deviceID
        self.publicKey = publicKey
        self.name = name
        self.certificate = certificate
    }
}

/// Outcome of `claimPairingCode`; every outcome except `.notFound` counted one attempt.
public enum PairingClaimResult: Sendable, Hashable {
    case claimed(PairingCodeRecord, DeviceRecord)
    case notFound
    case expired
    case alreadyClaimed
    case tooManyAttempts
}

public enum FriendRequestStatus: String, Sendable, Hashable {
    case pending, accepted, rejected
}

public struct FriendRequestRecord: Sendable, Hashable {
    public var id: String
    public var fromUserID: String
    public var toUserID: String
    public var message: String?
    public var status: FriendRequestStatus
    public var createdAt: Date
    public var respondedAt: Date?
}

public enum GroupRole: String, Sendable, Hashable, CaseIterable {
    case owner, admin, member
}

public struct GroupRecord: Sendable, Hashable {
    public var id: String
    public var name: String?
    public var createdBy: String?
    public var createdAt: Date
}

public struct GroupMember: Sendable, Hashable {
    public var groupID: String
    public var userID: String
    public var role: GroupRole
    public var joinedAt: Date

    public init(groupID: String, userID: String, role: GroupRole, joinedAt: Date) {
        self.groupID = groupID
        self.userID = userID
        self.role = role
        self.joinedAt = joinedAt
    }
}

/// One entry of a device's durable inbox (SPEC §4.4).
public struct RelayEntry: Sendable, Hashable {
    public var deviceID: String
    /// The device's inbox sequence, assigned once at enqueue time (starts at 1, never reused).
    public var sequence: Int64
    public var envelopeID: String
    public var channelID: UInt32
    public var frameType: UInt8
    public var payload: [UInt8]
    public var createdAt: Date
    public var expiresAt: Date
}

/// A versioned server Noise static key (SPEC §5 `noise_keys`).
public struct ServerSecretRecord: Sendable, Hashable {
    public var version: Int64
    public var privateKey: [UInt8]
    public var publicKey: [UInt8]
    public var validAfter: Date
    public var rotatesAt: Date
    public var expiresAt: Date

    public init(version: Int64, privateKey: [UInt8], publicKey: [UInt8], validAfter: Date, rotatesAt: Date, expiresAt: Date) {
        self.version = version
        self.privateKey = privateKey
        self.publicKey = publicKey
        self.validAfter = validAfter
        self.rotatesAt = rotatesAt
        self.expiresAt = expiresAt
    }
}

public enum FederationPeerStatus: String, Sendable, Hashable {
    case allowed, blocked
}

public struct FederationPeerRecord: Sendable, Hashable {
    public var domain: String
    /// nil for a domain blocked before it was ever added.
    public var endpoint: String?
    public var publicKey: [UInt8]?
    public var status: FederationPeerStatus
    public var createdAt: Date
    public var updatedAt: Date
}

public struct FederationOutboxEvent: Sendable, Hashable {
    public var eventID: String
    public var destination: String
    public var payload: [UInt8]
    public var attempts: Int
    public var createdAt: Date
    public var nextAttemptAt: Date
    public var deliveredAt: Date?
    public var lastError: String?
}

public struct MigrationInfo: Sendable, Hashable {
    public var version: Int
    public var name: String
    /// nil while pending.
    public var appliedAt: Date?
}

public enum StorageBackend: String, Sendable, Hashable {
    case sqlite, postgres
}

/// One frame to append to a device's inbox (`Storage.enqueue(batch:now:)`).
public struct InboxAppend: Sendable, Hashable {
    public var deviceID: String
    public var envelopeID: String
    public var channelID: UInt32
    public var frameType: UInt8
    public var payload: [UInt8]
    public var expiresAt: Date

    public init(deviceID: String, envelopeID: String, channelID: UInt32, frameType: UInt8, payload: [UInt8], expiresAt: Date) {
        self.deviceID = deviceID
        self.envelopeID = envelopeID
        self.channelID = channelID
        self.frameType = frameType
        self.payload = payload
        self.expiresAt = expiresAt
    }
}
