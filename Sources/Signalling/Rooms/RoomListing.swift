#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

extension RoomService {
    // MARK: Listing (admin API)

    /// Every room on this node: name, participants, tracks, creation time.
    public func listRooms() -> [RoomSummary] {
        rooms.map { name, room in
            RoomSummary(
                room: name, participants: room.participants.count,
                tracks: room.participants.values.reduce(0) { $0 + $1.tracks.count }, createdAt: room.createdAt)
        }.sorted { $0.room < $1.room }
    }

    /// One room's participants with their tracks and received bitrates; `nil` when unknown.
    public func describeRoom(_ name: String) -> RoomDetails? {
        guard let room = rooms[name] else { return nil }
        let participants = room.order.compactMap { room.participants[$0] }.map { participant in
            RoomDetails.Participant(
                participantID: participant.id, name: participant.name, identity: participant.identity,
                joinedAt: participant.joinedAt,
                tracks: participant.tracks.map {
                    RoomDetails.Track(trackID: $0.info.trackID, kind: $0.info.kind, muted: $0.info.muted, bitrate: Int($0.bitrate))
                },
                activeSpeaker: room.speakers.speakers.contains(participant.id))
        }
        return RoomDetails(room: name, createdAt: room.createdAt, participants: participants)
    }

}

/// A room in `GET /api/rooms`.
public struct RoomSummary: Encodable, Sendable {
    public var room: String
    public var participants: Int
    public var tracks: Int
    public var createdAt: Date

    enum CodingKeys: String, CodingKey {
        case room, participants, tracks
        case createdAt = "created_at"
    }
}

/// A room in `GET /api/rooms/{room}`.
public struct RoomDetails: Encodable, Sendable {
    public struct Track: Encodable, Sendable {
        public var trackID: String
        public var kind: String
        public var muted: Bool
        /// Received bitrate over the last second, bit/s.
        public var bitrate: Int

        enum CodingKeys: String, CodingKey {
            case kind, muted
            case trackID = "track_id"
            case bitrate = "bitrate_bps"
        }
    }

    public struct Participant: Encodable, Sendable {
        public var participantID: String
        public var name: String
        public var identity: String
        public var joinedAt: Date
        public var tracks: [Track]
        public var activeSpeaker: Bool

        enum CodingKeys: String, CodingKey {
            case name, identity, tracks
            case participantID = "participant_id"
            case joinedAt = "joined_at"
            case activeSpeaker = "active_speaker"
        }
    }

    public var room: String
    public var createdAt: Date
    public var participants: [Participant]

    enum CodingKeys: String, CodingKey {
        case room, participants
        case createdAt = "created_at"
    }
}
