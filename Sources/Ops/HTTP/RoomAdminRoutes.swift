import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import Signalling

/// `GET /api/rooms` and `GET /api/rooms/{room}`: the rooms of this node with their participants,
/// tracks and received bitrates. Admin token (or loopback when `admin.token` is not set), like
/// `/metrics`.
struct RoomAdminRoutes: Sendable {
    let rooms: RoomService
    let adminToken: String?

    func register(on router: Router<CommuCatRequestContext>) {
        router.get("/api/rooms") { request, context -> Response in
            try OpsRoutes.authorizeAdmin(request, context, adminToken: adminToken)
            struct Listing: Encodable { var rooms: [RoomSummary] }
            return try Self.json(Listing(rooms: await rooms.listRooms()))
        }
        router.get("/api/rooms/:room") { request, context -> Response in
            try OpsRoutes.authorizeAdmin(request, context, adminToken: adminToken)
            let name = context.parameters.get("room") ?? ""
            guard let details = await rooms.describeRoom(name) else {
                throw APIError(.notFound, code: "room_not_found", detail: "no room \(name) on this node")
            }
            return try Self.json(details)
        }
    }

    static func json(_ value: some Encodable) throws -> Response {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = [.sortedKeys]
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: try encoder.encode(value))))
    }
}
