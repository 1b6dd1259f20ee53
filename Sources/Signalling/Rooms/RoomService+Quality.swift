import enum Simulcast.LayerPreference

extension RoomService {
    // MARK: Simulcast

    /// `set_quality`: which simulcast encoding of another participant's track this participant
    /// receives. Kept per track (until the track ends), so it also holds when the request came
    /// before the track's consumer was made.
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
        participant.send(.qualitySet(trackID: trackID, preference: preference, layers: track.info.layers))
    }
}
