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

    /// One room's participants with their tracks and received bitrates, and what their subscriber
    /// connections send; `nil` when unknown.
    public func describeRoom(_ name: String) async -> RoomDetails? {
        guard let room = rooms[name] else { return nil }
        var participants: [RoomDetails.Participant] = []
        for participant in room.order.compactMap({ room.participants[$0] }) {
            let subscriptions = await backend.subscriptionStats(participant.subscriberSession).map { entry in
                RoomDetails.Subscription(
                    trackID: entry.trackID, packetsSent: Int(clamping: entry.stats.packetsSent), bytesSent: Int(clamping: entry.stats.bytesSent),
                    nacksReceived: Int(clamping: entry.stats.nacksReceived), retransmissionsSent: Int(clamping: entry.stats.retransmissionsSent),
                    keyframeRequestsReceived: Int(clamping: entry.stats.keyframeRequestsReceived), paused: entry.stats.paused,
                    waitingForKeyframe: entry.stats.waitingForKeyframe, layer: entry.stats.rid, switchingTo: entry.stats.switchingToRID)
            }
            participants.append(
                RoomDetails.Participant(
                    participantID: participant.id, name: participant.name, identity: participant.identity,
                    joinedAt: participant.joinedAt,
                    tracks: participant.tracks.map { track in
                        RoomDetails.Track(
                            trackID: track.info.trackID, kind: track.info.kind, muted: track.info.muted, bitrate: Int(track.bitrate),
                            layers: track.info.layers.count > 1
                                ? track.layerStats.compactMap { stats in
                                    stats.rid.map { rid in
                                        RoomDetails.Layer(
                                            rid: rid, active: stats.active, bitrate: Int(track.layerBitrates[rid] ?? 0), width: stats.width,
                                            height: stats.height, packetsReceived: Int(clamping: stats.packetsReceived))
                                    }
                                } : nil)
                    },
                    activeSpeaker: room.speakers.speakers.contains(participant.id), subscriptions: subscriptions))
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
        /// Simulcast tracks: each encoding the publisher has sent, in the publisher's order.
        public var layers: [Layer]?

        enum CodingKeys: String, CodingKey {
            case kind, muted, layers
            case trackID = "track_id"
            case bitrate = "bitrate_bps"
        }
    }

    /// One simulcast encoding of a track.
    public struct Layer: Encodable, Sendable {
        public var rid: String
        /// Media arrived in the last 1.5 s.
        public var active: Bool
        public var bitrate: Int
        /// The picture size of its last keyframe (VP8, VP9), when known.
        public var width: Int?
        public var height: Int?
        public var packetsReceived: Int

        enum CodingKeys: String, CodingKey {
            case rid, active, width, height
            case bitrate = "bitrate_bps"
            case packetsReceived = "packets_received"
        }
    }

    public struct Participant: Encodable, Sendable {
        public var participantID: String
        public var name: String
        public var identity: String
        public var joinedAt: Date
        public var tracks: [Track]
        public var activeSpeaker: Bool
        /// What the participant's subscriber connection sends, per remote track.
        public var subscriptions: [Subscription]

        enum CodingKeys: String, CodingKey {
            case name, identity, tracks, subscriptions
            case participantID = "participant_id"
            case joinedAt = "joined_at"
            case activeSpeaker = "active_speaker"
        }
    }

    /// One forwarded track of a subscriber connection (the SFU consumer's counters).
    public struct Subscription: Encodable, Sendable {
        public var trackID: String
        public var packetsSent: Int
        public var bytesSent: Int
        public var nacksReceived: Int
        public var retransmissionsSent: Int
        public var keyframeRequestsReceived: Int
        public var paused: Bool
        public var waitingForKeyframe: Bool
        /// Simulcast: the rid of the encoding forwarded, and of the one being switched to.
        public var layer: String?
        public var switchingTo: String?

        enum CodingKeys: String, CodingKey {
            case paused, layer
            case switchingTo = "switching_to"
            case trackID = "track_id"
            case packetsSent = "packets_sent"
            case bytesSent = "bytes_sent"
            case nacksReceived = "nacks_received"
            case retransmissionsSent = "retransmissions_sent"
            case keyframeRequestsReceived = "keyframe_requests_received"
            case waitingForKeyframe = "waiting_for_keyframe"
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
