import Foundation
import HTTPTypes
import Hummingbird
import Storage

/// The caller of a REST endpoint, from `Authorization: Bearer <session>` (the Ack's `session`).
struct BearerSession: Sendable {
    var session: SessionRecord
    var device: DeviceRecord
    var user: UserRecord

    /// Valid while the session is open (its `/connect` stream has not ended), the device is active
    /// and the session was seen within `sessionTTL`. A closed session is refused like an unknown one.
    static func authenticate(_ request: Request, service: ConnectService, now: Date) async throws -> BearerSession {
        guard let header = request.headers[.authorization], header.lowercased().hasPrefix("bearer ") else {
            throw SignallingAPIError.unauthorized("Authorization: Bearer <session> required")
        }
        let token = header.dropFirst("bearer ".count).trimmingCharacters(in: .whitespaces)
        guard !token.isEmpty, token.utf8.count <= 128 else { throw SignallingAPIError.unauthorized("malformed session") }
        do {
            guard let session = try await service.storage.session(id: token), session.closedAt == nil,
                now.timeIntervalSince(session.lastSeen) < ServerKeyring.seconds(service.configuration.sessionTTL),
                let device = try await service.storage.device(id: session.deviceID), device.status == .active,
                let user = try await service.storage.user(id: device.userID)
            else { throw SignallingAPIError.unauthorized("unknown, expired or revoked session") }
            return BearerSession(session: session, device: device, user: user)
        } catch let error as StorageError {
            throw SignallingAPIError.storage(error)
        }
    }
}
