import ICE

import enum Simulcast.LayerPreference

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A message from a participant on `/rtc` (SPEC §3.3): JSON with a `type` field. Unknown fields
/// are ignored; unknown types and missing fields are refused with an `error` message.
struct RoomClientMessage: Decodable, Sendable {
    var type: String
    var sdp: String?
    var trackID: String?
    var muted: Bool?
    /// `trickle`: `publisher` or `subscriber`, and the candidate line (ICE-lite: accepted, unused).
    var target: String?
    var candidate: String?
    /// `set_quality`: `low`, `medium` or `high`, or a largest picture size.
    var quality: String?
    var maxWidth: Int?
    var maxHeight: Int?

    enum CodingKeys: String, CodingKey {
        case type, sdp, muted, target, candidate, quality
        case trackID = "track_id"
        case maxWidth = "max_width"
        case maxHeight = "max_height"
    }
}

/// A track as participants see it.
struct RoomTrackInfo: Encodable, Hashable, Sendable {
    var trackID: String
    var kind: String
    var muted: Bool
    /// Simulcast: the rids of the track's encodings, smallest picture first (empty: one encoding).
    var layers: [String] = []

    enum CodingKeys: String, CodingKey {
        case kind, muted, layers
        case trackID = "track_id"
    }
}

/// A participant as the others see it.
struct RoomParticipantInfo: Encodable, Hashable, Sendable {
    var participantID: String
    var name: String
    var tracks: [RoomTrackInfo]

    enum CodingKeys: String, CodingKey {
        case name, tracks
        case participantID = "participant_id"
    }
}

/// Messages the server sends on `/rtc`.
enum RoomServerMessage: Sendable {
    case joined(
        participantID: String, room: String, name: String, participants: [RoomParticipantInfo], iceServers: [ICEServerEntry],
        resumeToken: String, resumed: Bool)
    case participantJoined(RoomParticipantInfo)
    case participantLeft(participantID: String)
    case trackPublished(participantID: String, track: RoomTrackInfo)
    case trackUnpublished(participantID: String, trackID: String)
    case trackMuted(participantID: String, trackID: String, muted: Bool)
    /// `set_quality` was applied: what was asked and the track's layers.
    case qualitySet(trackID: String, preference: LayerPreference, layers: [String])
    case publishAnswer(sdp: String, tracks: [RoomTrackInfo])
    case subscriberOffer(sdp: String, version: Int)
    case activeSpeakers([String])
    case error(code: String, message: String)
    case left(reason: String)

    /// The JSON text of the message (keys in snake case, `type` first).
    var json: String {
        let object: [String: JSONValue]
        switch self {
        case .joined(let participantID, let room, let name, let participants, let iceServers, let resumeToken, let resumed):
            object = [
                "type": "joined", "participant_id": .string(participantID), "room": .string(room), "name": .string(name),
                "participants": .array(participants.map(JSONValue.participant)),
                "ice_servers": .array(iceServers.map(JSONValue.iceServer)),
                "resume_token": .string(resumeToken), "resumed": .bool(resumed),
            ]
        case .participantJoined(let info):
            object = ["type": "participant_joined", "participant": .participant(info)]
        case .participantLeft(let participantID):
            object = ["type": "participant_left", "participant_id": .string(participantID)]
        case .trackPublished(let participantID, let track):
            object = ["type": "track_published", "participant_id": .string(participantID), "track": .track(track)]
        case .trackUnpublished(let participantID, let trackID):
            object = ["type": "track_unpublished", "participant_id": .string(participantID), "track_id": .string(trackID)]
        case .trackMuted(let participantID, let trackID, let muted):
            object = [
                "type": "track_muted", "participant_id": .string(participantID), "track_id": .string(trackID), "muted": .bool(muted),
            ]
        case .qualitySet(let trackID, let preference, let layers):
            var members: [String: JSONValue] = [
                "type": "quality_set", "track_id": .string(trackID), "layers": .array(layers.map(JSONValue.string)),
            ]
            if case .maxSize(let width, let height) = preference {
                members["max_width"] = .number(width)
                members["max_height"] = .number(height)
            } else if let quality = preference.quality {
                members["quality"] = .string(quality)
            }
            object = members
        case .publishAnswer(let sdp, let tracks):
            object = ["type": "publish_answer", "sdp": .string(sdp), "tracks": .array(tracks.map(JSONValue.track))]
        case .subscriberOffer(let sdp, let version):
            object = ["type": "subscriber_offer", "sdp": .string(sdp), "version": .number(version)]
        case .activeSpeakers(let speakers):
            object = ["type": "active_speakers", "speakers": .array(speakers.map(JSONValue.string))]
        case .error(let code, let message):
            object = ["type": "error", "code": .string(code), "message": .string(message)]
        case .left(let reason):
            object = ["type": "left", "reason": .string(reason)]
        }
        return JSONValue.object(object).text
    }
}

/// A small JSON writer for the messages above (sorted keys, `type` first), so that what the server
/// sends does not depend on an encoder's key order.
enum JSONValue: Sendable, ExpressibleByStringLiteral {
    case string(String)
    case number(Int)
    case bool(Bool)
    case array([JSONValue])
    case object([String: JSONValue])
    case null

    init(stringLiteral value: String) { self = .string(value) }

    static func participant(_ info: RoomParticipantInfo) -> JSONValue {
        .object(["participant_id": .string(info.participantID), "name": .string(info.name), "tracks": .array(info.tracks.map(track))])
    }

    static func track(_ track: RoomTrackInfo) -> JSONValue {
        var object: [String: JSONValue] = ["track_id": .string(track.trackID), "kind": .string(track.kind), "muted": .bool(track.muted)]
        if !track.layers.isEmpty { object["layers"] = .array(track.layers.map(JSONValue.string)) }
        return .object(object)
    }

    static func iceServer(_ entry: ICEServerEntry) -> JSONValue {
        var object: [String: JSONValue] = ["urls": .array(entry.urls.map(JSONValue.string))]
        if let username = entry.username { object["username"] = .string(username) }
        if let credential = entry.credential { object["credential"] = .string(credential) }
        return .object(object)
    }

    var text: String {
        switch self {
        case .string(let value): return Self.quote(value)
        case .number(let value): return String(value)
        case .bool(let value): return value ? "true" : "false"
        case .null: return "null"
        case .array(let values): return "[" + values.map(\.text).joined(separator: ",") + "]"
        case .object(let members):
            let keys = members.keys.sorted { lhs, rhs in lhs == "type" ? rhs != "type" : (rhs == "type" ? false : lhs < rhs) }
            return "{" + keys.map { Self.quote($0) + ":" + (members[$0] ?? .null).text }.joined(separator: ",") + "}"
        }
    }

    /// RFC 8259 §7 string escaping (``MediaHTTP/appendJSONString(_:to:)``).
    static func quote(_ value: String) -> String {
        var out = ""
        MediaHTTP.appendJSONString(value, to: &out)
        return out
    }
}

/// `set_quality`'s names for the preferences, both ways (`medium`: at most the second smallest).
extension LayerPreference {
    init?(quality: String) {
        switch quality {
        case "low": self = .position(0)
        case "medium": self = .position(1)
        case "high": self = .highest
        default: return nil
        }
    }

    /// The name of a quality preference; `nil` for a size.
    var quality: String? {
        switch self {
        case .highest: return "high"
        case .position(0): return "low"
        case .position: return "medium"
        case .maxSize: return nil
        }
    }
}
