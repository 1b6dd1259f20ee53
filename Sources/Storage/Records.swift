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
    /// The device that sent the relayed frame; nil for server notices.
    public var senderDeviceID: String? = nil
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

/// One frame to append to a device's inbox (`Storage.append(batch:quota:now:)`).
public struct InboxAppend: Sendable, Hashable {
    public var deviceID: String
    public var envelopeID: String
    public var channelID: UInt32
    public var frameType: UInt8
    public var payload: [UInt8]
    public var expiresAt: Date
    /// The device that sent the relayed frame (nil for server notices); told to receivers that ask.
    public var senderDeviceID: String?
    /// Until when the envelope id is remembered after the device acknowledged the entry, so that a
    /// sender's retry is not stored again (nil: forgotten at the Ack, as for server notices).
    public var dedupUntil: Date?

    public init(
        deviceID: String, envelopeID: String, channelID: UInt32, frameType: UInt8, payload: [UInt8], expiresAt: Date,
        senderDeviceID: String? = nil, dedupUntil: Date? = nil
    ) {
        self.deviceID = deviceID
        self.envelopeID = envelopeID
        self.channelID = channelID
        self.frameType = frameType
        self.payload = payload
        self.expiresAt = expiresAt
        self.senderDeviceID = senderDeviceID
        self.dedupUntil = dedupUntil
    }
}

/// Per-device inbox limits for `Storage.append(batch:quota:now:)`: unacknowledged entries and their
/// payload bytes. A value ≤ 0 means no limit.
public struct InboxQuota: Sendable, Hashable {
    public var maxEntries: Int64
    public var maxBytes: Int64

    public init(maxEntries: Int64, maxBytes: Int64) {
        self.maxEntries = maxEntries
        self.maxBytes = maxBytes
    }

    public static let unlimited = InboxQuota(maxEntries: 0, maxBytes: 0)

    /// Whether an inbox holding `entries` entries of `bytes` bytes may take one more of `adding` bytes.
    public func admits(entries: Int64, bytes: Int64, adding: Int64) -> Bool {
        (maxEntries <= 0 || entries + 1 <= maxEntries) && (maxBytes <= 0 || bytes + adding <= maxBytes)
    }
}

/// What happened to one `InboxAppend`.
public enum InboxAppendResult: Sendable, Hashable {
    /// Stored with this inbox sequence.
    case stored(Int64)
    /// The device already holds this envelope id (unacknowledged, or acknowledged within its
    /// `dedupUntil`): nothing stored; the original sequence.
    case duplicate(Int64)
    /// The device's inbox is at its quota: nothing stored.
    case inboxFull
    /// No such device: nothing stored.
    case unknownDevice

    /// The sequence of a stored or duplicate entry.
    public var sequence: Int64? {
        switch self {
        case .stored(let sequence), .duplicate(let sequence): sequence
        case .inboxFull, .unknownDevice: nil
        }
    }
}
