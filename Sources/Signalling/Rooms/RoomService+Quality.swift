import enum Simulcast.LayerPreference

extension RoomService {
    // MARK: Simulcast

    /// `set_quality`: which simulcast encoding of another participant's track this participant
    /// receives. Kept per track, so it also holds when the track's consumer is made later.
    func setQuality(room: String, participant id: String, trackID: String, preference: LayerPreference) async {
        guard let participant = rooms[room]?.participants[id] else { return }
        let owner = rooms[room]?.participants.values.first { other in
            other.id != id && other.tracks.contains { $0.info.trackID == trackID }
        }
        guard let track = owner?.tracks.first(where: { $0.info.trackID == trackID }) else {
            participant.send(.error(code: "unknown_track", message: "no track \(trackID) of another participant in this room"))
            return
        }
        rooms[room]?.participants[id]?.qualities[trackID] = preference
        _ = await backend.setLayerPreference(participant.subscriberSession, trackID: trackID, preference: preference)
        let reply: RoomServerMessage
        switch preference {
        case .highest: reply = .qualitySet(trackID: trackID, quality: "high", maxWidth: nil, maxHeight: nil, layers: track.info.layers)
        case .position(0): reply = .qualitySet(trackID: trackID, quality: "low", maxWidth: nil, maxHeight: nil, layers: track.info.layers)
        case .position: reply = .qualitySet(trackID: trackID, quality: "medium", maxWidth: nil, maxHeight: nil, layers: track.info.layers)
        case .maxSize(let width, let height):
            reply = .qualitySet(trackID: trackID, quality: nil, maxWidth: width, maxHeight: height, layers: track.info.layers)
        }
        participant.send(reply)
    }
}
