import Foundation

/// Everything CommuCat keeps durably. One implementation (`SQLStorage`) serves SQLite and PostgreSQL;
/// obtain it from `StorageFactory.open(url:logger:eventLoopGroup:)`.
///
/// Every method is atomic: multi-statement operations run in one transaction on one connection.
/// Callers pass `now` explicitly; storage never reads the clock except to stamp `applied_at` of
/// migrations. Errors are `StorageError` with a stable `code`.
public protocol Storage: Sendable {
    var backend: StorageBackend { get }

    /// Round trip to the database (`/readyz`); fails within about 5 s.
    func ping() async throws(StorageError)
    /// Releases connections; later calls fail with `.internal`.
    func close() async

    // MARK: Migrations
    /// Applies pending migrations in order, each in its own transaction; returns the ones applied
    /// (empty when up to date).
    @discardableResult
    func migrate() async throws(StorageError) -> [MigrationInfo]
    /// Every known migration with its `appliedAt` (nil when pending).
    func migrationStatus() async throws(StorageError) -> [MigrationInfo]

    // MARK: Users
    /// Creates a user with a fresh UUID id. `.conflict` if the handle is taken.
    func createUser(handle: String, displayName: String?, now: Date) async throws(StorageError) -> UserRecord
    func user(id: String) async throws(StorageError) -> UserRecord?
    func user(handle: String) async throws(StorageError) -> UserRecord?

    // MARK: Devices
    /// `.conflict` if the device id or public key exists, `.notFound` if the user does not.
    func registerDevice(_ device: NewDevice, userID: String, now: Date) async throws(StorageError) -> DeviceRecord
    func device(id: String) async throws(StorageError) -> DeviceRecord?
    func device(publicKey: [UInt8]) async throws(StorageError) -> DeviceRecord?
    /// Devices of a user, oldest first (revoked ones included).
    func devices(userID: String) async throws(StorageError) -> [DeviceRecord]
    /// Marks the device revoked and closes its open sessions. Idempotent; `.notFound` if unknown.
    @discardableResult
    func revokeDevice(id: String, now: Date) async throws(StorageError) -> DeviceRecord
    func setDeviceCertificate(id: String, certificate: [UInt8]) async throws(StorageError)
    /// Replaces the device key and records the rotation with its proof, atomically.
    /// `.invalidArgument` if the device is revoked, `.conflict` if the new key belongs to a device.
    @discardableResult
    func rotateDeviceKey(id: String, newPublicKey: [UInt8], proof: [UInt8], now: Date) async throws(StorageError) -> DeviceKeyEvent
    func deviceKeyEvents(deviceID: String) async throws(StorageError) -> [DeviceKeyEvent]

    // MARK: Sessions
    @discardableResult
    func openSession(id: String, deviceID: String, now: Date) async throws(StorageError) -> SessionRecord
    func session(id: String) async throws(StorageError) -> SessionRecord?
    /// Updates `last_seen`; `.notFound` if unknown or closed.
    func touchSession(id: String, now: Date) async throws(StorageError)
    /// Idempotent; `.notFound` if unknown.
    func closeSession(id: String, now: Date) async throws(StorageError)

    // MARK: Pairing
    @discardableResult
    func createPairingCode(_ code: String, userID: String, now: Date, expiresAt: Date) async throws(StorageError) -> PairingCodeRecord
    func pairingCode(_ code: String) async throws(StorageError) -> PairingCodeRecord?
    /// Counts one attempt on the code, then, if it is unexpired, unclaimed and within `maxAttempts`,
    /// registers `device` for the code's user and marks the code claimed, in one transaction.
    func claimPairingCode(_ code: String, device: NewDevice, now: Date, maxAttempts: Int) async throws(StorageError) -> PairingClaimResult
    /// Deletes codes that expired before `now`; returns how many.
    @discardableResult
    func purgeExpiredPairingCodes(now: Date) async throws(StorageError) -> Int

    // MARK: Friends
    /// `.conflict` if already friends or a pending request exists from→to; `.invalidArgument` for self.
    func createFriendRequest(from: String, to: String, message: String?, now: Date) async throws(StorageError) -> FriendRequestRecord
    func friendRequest(id: String) async throws(StorageError) -> FriendRequestRecord?
    /// Pending requests addressed to `userID`, oldest first.
    func incomingFriendRequests(userID: String) async throws(StorageError) -> [FriendRequestRecord]
    func outgoingFriendRequests(userID: String) async throws(StorageError) -> [FriendRequestRecord]
    /// Only the addressee may answer: `.notFound` unless request `id` is addressed to `recipientID`,
    /// `.conflict` if it is no longer pending. Accepting makes both users friends atomically.
    @discardableResult
    func acceptFriendRequest(id: String, recipientID: String, now: Date) async throws(StorageError) -> FriendRequestRecord
    @discardableResult
    func rejectFriendRequest(id: String, recipientID: String, now: Date) async throws(StorageError) -> FriendRequestRecord
    /// Friends of `userID`, by handle.
    func friends(of userID: String) async throws(StorageError) -> [UserRecord]
    func areFriends(_ a: String, _ b: String) async throws(StorageError) -> Bool
    /// Returns false if they were not friends.
    @discardableResult
    func removeFriend(_ a: String, _ b: String) async throws(StorageError) -> Bool

    // MARK: Groups
    /// Creates the group (fresh UUID when `id` is nil) with `ownerID` as `owner` plus `members`
    /// (an entry for the owner is ignored). `.conflict` if the id exists.
    func createGroup(id: String?, name: String?, ownerID: String, members: [String: GroupRole], now: Date) async throws(StorageError) -> GroupRecord
    func group(id: String) async throws(StorageError) -> GroupRecord?
    func renameGroup(id: String, name: String?) async throws(StorageError)
    /// Deletes the group and its memberships; `.notFound` if unknown.
    func deleteGroup(id: String) async throws(StorageError)
    /// Groups `userID` belongs to.
    func groups(userID: String) async throws(StorageError) -> [GroupRecord]
    func groupMembers(groupID: String) async throws(StorageError) -> [GroupMember]
    func groupMember(groupID: String, userID: String) async throws(StorageError) -> GroupMember?
    /// `.conflict` if already a member, `.notFound` if group or user is unknown.
    func addGroupMember(groupID: String, userID: String, role: GroupRole, now: Date) async throws(StorageError)
    func setGroupMemberRole(groupID: String, userID: String, role: GroupRole) async throws(StorageError)
    /// Returns false if the user was not a member.
    @discardableResult
    func removeGroupMember(groupID: String, userID: String) async throws(StorageError) -> Bool

    // MARK: Relay queue (durable per-device inbox, SPEC §4.4)
    /// Appends to the device's inbox and returns its inbox sequence, assigned atomically from the
    /// device's counter in the same transaction. Idempotent by `envelopeID` per device: a repeat
    /// returns the original sequence and stores nothing. `.notFound` if the device is unknown.
    func enqueue(deviceID: String, envelopeID: String, channelID: UInt32, frameType: UInt8, payload: [UInt8],
                 now: Date, expiresAt: Date) async throws(StorageError) -> Int64
    /// Appends every entry in one transaction (group commit) and returns their sequences in order.
    /// Each entry behaves as in `enqueue(deviceID:…)`: its sequence comes from its device's counter,
    /// and a repeat of an unacknowledged envelope id for that device returns the original sequence.
    /// Any failure (`.notFound` for an unknown device) rolls back the whole batch.
    func enqueue(batch: [InboxAppend], now: Date) async throws(StorageError) -> [Int64]
    /// Unacknowledged, unexpired-or-not entries in sequence order, at most `limit`, after `afterSequence`.
    func pending(deviceID: String, after afterSequence: Int64, limit: Int) async throws(StorageError) -> [RelayEntry]
    /// Removes `sequence` and every earlier entry of the device; returns how many were removed.
    @discardableResult
    func ack(deviceID: String, upTo sequence: Int64) async throws(StorageError) -> Int
    /// Removes entries with `expiresAt <= now`; returns how many.
    @discardableResult
    func purgeExpired(now: Date) async throws(StorageError) -> Int

    // MARK: Server secrets (Noise static keys)
    /// `.conflict` if the version exists.
    func insertServerSecret(_ secret: ServerSecretRecord) async throws(StorageError)
    /// All versions, oldest first.
    func serverSecrets() async throws(StorageError) -> [ServerSecretRecord]
    /// Deletes versions with `expiresAt <= now`; returns how many.
    @discardableResult
    func purgeExpiredServerSecrets(now: Date) async throws(StorageError) -> Int

    // MARK: Federation
    /// Inserts or updates the peer and marks it `allowed`.
    @discardableResult
    func upsertFederationPeer(domain: String, endpoint: String, publicKey: [UInt8], now: Date) async throws(StorageError) -> FederationPeerRecord
    func federationPeer(domain: String) async throws(StorageError) -> FederationPeerRecord?
    /// All peers by domain.
    func federationPeers() async throws(StorageError) -> [FederationPeerRecord]
    /// Returns false if the domain was unknown.
    @discardableResult
    func removeFederationPeer(domain: String) async throws(StorageError) -> Bool
    /// Marks the domain blocked, adding it if unknown.
    @discardableResult
    func blockFederationPeer(domain: String, now: Date) async throws(StorageError) -> FederationPeerRecord
    /// Idempotent by `eventID`: returns false (and changes nothing) if the event was already queued.
    @discardableResult
    func enqueueFederationEvent(eventID: String, destination: String, payload: [UInt8], now: Date) async throws(StorageError) -> Bool
    /// Undelivered events with `nextAttemptAt <= now`, earliest first.
    func dueFederationEvents(now: Date, limit: Int) async throws(StorageError) -> [FederationOutboxEvent]
    func federationEvent(id: String) async throws(StorageError) -> FederationOutboxEvent?
    func markFederationEventDelivered(eventID: String, at: Date) async throws(StorageError)
    /// Counts one attempt and reschedules the event.
    func markFederationEventFailed(eventID: String, nextAttemptAt: Date, error: String?) async throws(StorageError)
}
