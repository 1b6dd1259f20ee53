import CCP
import ConnectCore
import Foundation
import Hummingbird
import Messaging
import NIOCore
import Redis
import Storage

/// Friends over REST (SPEC §4.4, §5), authenticated by the session bearer:
/// `GET /api/friends`, `PUT /api/friends`, `POST /api/friends/requests/{handle}`,
/// `POST /api/friends/requests/{id}/accept` and `/reject`, `GET /api/friends/requests`.
/// The other side's devices are told with a durable GroupEvent notice.
struct FriendsRoutes: Sendable {
    let service: ConnectService
    let messaging: MessagingService

    func register<Context: RequestContext & RemoteAddressRequestContext>(on router: Router<Context>) {
        let routes = self
        router.get("/api/friends") { request, _ in try await routes.list(request) }
        router.put("/api/friends") { request, context in try await routes.replace(request, context) }
        router.get("/api/friends/requests") { request, _ in try await routes.requests(request) }
        router.post("/api/friends/requests/{target}") { request, context in
            try await routes.request(request, context, target: context.parameters.get("target") ?? "")
        }
        router.post("/api/friends/requests/{target}/accept") { request, context in
            try await routes.answer(request, id: context.parameters.get("target") ?? "", accept: true)
        }
        router.post("/api/friends/requests/{target}/reject") { request, context in
            try await routes.answer(request, id: context.parameters.get("target") ?? "", accept: false)
        }
    }

    // MARK: Handlers

    func list(_ request: Request) async throws -> Response {
        let caller = try await BearerSession.authenticate(request, service: service, now: Date())
        return JSONBody.response(try await document(for: caller.user))
    }

    /// `PUT /api/friends {friends:[handle…]}`: the caller's wanted friend list. Friends not listed are
    /// removed; listed users who are not friends yet get a friend request (consent is never skipped).
    func replace<Context: RequestContext>(_ request: Request, _ context: Context) async throws -> Response {
        let caller = try await BearerSession.authenticate(request, service: service, now: Date())
        let body = try await JSONBody.object(from: request, context: context)
        guard let handles = body["friends"] as? [String], handles.count <= 1000 else {
            throw SignallingAPIError.badRequest("bad_request", "friends must be an array of at most 1000 handles")
        }
        var wanted: [String: UserRecord] = [:]
        for handle in handles {
            guard let user = try await storageCall({ try await service.storage.user(handle: handle.lowercased()) }) else {
                throw SignallingAPIError(.notFound, code: "unknown_user", detail: "no user \(handle)")
            }
            guard user.id != caller.user.id else { throw SignallingAPIError.badRequest("bad_request", "you cannot befriend yourself") }
            wanted[user.id] = user
        }
        let current = try await storageCall { try await service.storage.friends(of: caller.user.id) }
        var removed: [String] = []
        for friend in current where wanted[friend.id] == nil {
            try await storageCall { _ = try await service.storage.removeFriend(caller.user.id, friend.id) }
            removed.append(friend.handle)
        }
        let currentIDs = Set(current.map(\.id))
        var requested: [String] = []
        for (id, user) in wanted.sorted(by: { $0.key < $1.key }) where !currentIDs.contains(id) {
            let created: FriendRequestRecord
            do throws(StorageError) {
                created = try await service.storage.createFriendRequest(from: caller.user.id, to: id, message: nil, now: Date())
            } catch where error.code == .conflict {
                continue
            } catch {
                throw SignallingAPIError.storage(error)
            }
            requested.append(user.handle)
            try? await messaging.notify(userIDs: [id], event: ["type": .string("friend_request"), "request": Self.json(created, from: caller.user, to: user)])
        }
        var document = try await document(for: caller.user)
        document["removed"] = removed
        document["requested"] = requested
        return JSONBody.response(document)
    }

    func requests(_ request: Request) async throws -> Response {
        let caller = try await BearerSession.authenticate(request, service: service, now: Date())
        let incoming = try await storageCall { try await service.storage.incomingFriendRequests(userID: caller.user.id) }
        let outgoing = try await storageCall { try await service.storage.outgoingFriendRequests(userID: caller.user.id) }
        return JSONBody.response(text: JSONText.object(["incoming": try await describe(incoming), "outgoing": try await describe(outgoing)]))
    }

    /// `POST /api/friends/requests/{handle}` (optional `{message}`) → 201 `{request:{…}}`.
    func request<Context: RequestContext>(_ request: Request, _ context: Context, target handle: String) async throws -> Response {
        let caller = try await BearerSession.authenticate(request, service: service, now: Date())
        var body = request
        let buffer = try await body.collectBody(upTo: 16 * 1024)
        var message: String?
        if buffer.readableBytes > 0 {
            guard let object = try? JSONSerialization.jsonObject(with: Data(buffer.readableBytesView)) as? [String: Any] else {
                throw SignallingAPIError.badRequest("bad_json", "body must be a JSON object")
            }
            message = object["message"] as? String
            if let message, message.utf8.count > 1024 { throw SignallingAPIError.badRequest("bad_request", "message is at most 1024 bytes") }
        }
        guard let target = try await storageCall({ try await service.storage.user(handle: handle.lowercased()) }) else {
            throw SignallingAPIError(.notFound, code: "unknown_user", detail: "no user \(handle)")
        }
        guard target.id != caller.user.id else { throw SignallingAPIError.badRequest("bad_request", "you cannot befriend yourself") }
        let created: FriendRequestRecord
        do throws(StorageError) {
            created = try await service.storage.createFriendRequest(from: caller.user.id, to: target.id, message: message, now: Date())
        } catch where error.code == .conflict {
            let already = (try? await service.storage.areFriends(caller.user.id, target.id)) ?? false
            throw SignallingAPIError(
                .conflict, code: already ? "already_friends" : "request_pending",
                detail: already ? "you are already friends with \(target.handle)" : "a request to \(target.handle) is pending")
        } catch {
            throw SignallingAPIError.storage(error)
        }
        let json = Self.json(created, from: caller.user, to: target)
        do throws(MessagingError) {
            try await messaging.notify(userIDs: [target.id], event: ["type": .string("friend_request"), "request": json])
        } catch {
            throw SignallingAPIError(.internalServerError, code: "internal", detail: error.detail)
        }
        return JSONBody.response(text: JSONText.object(["request": json]), status: .created)
    }

    func answer(_ request: Request, id: String, accept: Bool) async throws -> Response {
        let caller = try await BearerSession.authenticate(request, service: service, now: Date())
        let answered = try await respond(id: id, recipientID: caller.user.id, accept: accept)
        let requester = try await storageCall { try await service.storage.user(id: answered.fromUserID) }
        let json = Self.json(answered, from: requester, to: caller.user)
        try? await messaging.notify(
            userIDs: [answered.fromUserID], event: ["type": .string(accept ? "friend_accepted" : "friend_rejected"), "request": json])
        return JSONBody.response(text: JSONText.object(["request": json]))
    }

    private func respond(id: String, recipientID: String, accept: Bool) async throws -> FriendRequestRecord {
        let result: Result<FriendRequestRecord, StorageError>
        if accept {
            do { result = .success(try await service.storage.acceptFriendRequest(id: id, recipientID: recipientID, now: Date())) } catch { result = .failure(error) }
        } else {
            do { result = .success(try await service.storage.rejectFriendRequest(id: id, recipientID: recipientID, now: Date())) } catch { result = .failure(error) }
        }
        switch result {
        case .success(let record): return record
        case .failure(let error) where error.code == .notFound:
            throw SignallingAPIError(.notFound, code: "unknown_request", detail: "no friend request \(id) addressed to you")
        case .failure(let error) where error.code == .conflict:
            throw SignallingAPIError(.conflict, code: "not_pending", detail: "request \(id) was already answered")
        case .failure(let error):
            throw SignallingAPIError.storage(error)
        }
    }

    // MARK: Documents

    /// `{user_id, friends:[{user_id, handle, display_name, devices:[{device_id, public_key, status}]}]}`;
    /// a device's `status` is its presence (`online`, `away`, `offline`).
    func document(for user: UserRecord) async throws -> [String: Any] {
        let friends = try await storageCall { try await service.storage.friends(of: user.id) }
        var list: [[String: Any]] = []
        for friend in friends {
            let devices = try await storageCall { try await service.storage.devices(userID: friend.id) }.filter { (device: DeviceRecord) in device.status == .active }
            let presence = await messaging.presenceStates(ofUser: friend.id)
            var entry: [String: Any] = ["user_id": friend.id, "handle": friend.handle]
            if let name = friend.displayName { entry["display_name"] = name }
            entry["devices"] = devices.map { device -> [String: Any] in
                ["device_id": device.deviceID, "public_key": Hex.encode(device.publicKey), "status": (presence[device.deviceID] ?? PresenceState.offline).rawValue]
            }
            list.append(entry)
        }
        return ["user_id": user.id, "friends": list]
    }

    private func describe(_ requests: [FriendRequestRecord]) async throws -> JSONText {
        var out: [JSONText] = []
        for request in requests {
            let from = try await storageCall { try await service.storage.user(id: request.fromUserID) }
            let to = try await storageCall { try await service.storage.user(id: request.toUserID) }
            out.append(Self.json(request, from: from, to: to))
        }
        return .array(out)
    }

    static func json(_ request: FriendRequestRecord, from: UserRecord?, to: UserRecord?) -> JSONText {
        var object: [String: JSONText] = [
            "id": .string(request.id), "status": .string(request.status.rawValue), "created_at": .string(request.createdAt.rfc3339),
            "from": .object(["user_id": .string(request.fromUserID), "handle": from.map { .string($0.handle) } ?? .null]),
            "to": .object(["user_id": .string(request.toUserID), "handle": to.map { .string($0.handle) } ?? .null]),
        ]
        if let message = request.message { object["message"] = .string(message) }
        if let responded = request.respondedAt { object["responded_at"] = .string(responded.rfc3339) }
        return .object(object)
    }


    private func storageCall<T>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let error as StorageError {
            throw SignallingAPIError.storage(error)
        }
    }
}
