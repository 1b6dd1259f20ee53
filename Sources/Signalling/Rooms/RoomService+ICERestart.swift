import ICE
import SFUWire

extension RoomService {
    // MARK: ICE restart

    /// ICE restart (RFC 8445 §9; JSEP `iceRestart`) of the publish connection: `sdp` is the client's
    /// restart offer (the same tracks with new credentials). The server takes the new remote
    /// credentials, makes new local ones, and answers with its previous answer carrying them;
    /// producers, DTLS and SRTP stay, so nobody else notices.
    func restartPublisherICE(room: String, participant id: String, sdp: String) async {
        guard let participant = rooms[room]?.participants[id] else { return }
        guard let session = participant.publishSession, let previous = participant.publishAnswer else {
            participant.send(.error(code: "bad_message", message: "ice_restart of the publisher needs a published connection"))
            return
        }
        let offer: SessionDescription
        do {
            offer = try SessionDescription(parsing: sdp)
        } catch {
            participant.send(.error(code: "bad_sdp", message: "the restart offer is not valid SDP: \(error)"))
            return
        }
        let first = offer.media.first { !$0.isRejected }
        guard let ufrag = first?.iceUfrag ?? offer.iceUfrag, let pwd = first?.icePwd ?? offer.icePwd else {
            participant.send(.error(code: "bad_sdp", message: "the restart offer has no a=ice-ufrag/a=ice-pwd"))
            return
        }
        let local: LocalTransportDescription
        do {
            local = try await backend.restartPublisherICE(session, remote: ICECredentials(ufrag: ufrag, password: pwd))
        } catch {
            participant.send(.error(code: error.code.description, message: error.detail))
            return
        }
        let answer = Self.replacingICECredentials(in: previous, ufrag: local.iceUfrag, pwd: local.icePwd)
        rooms[room]?.participants[id]?.publishAnswer = answer
        participant.send(.publishAnswer(sdp: answer, tracks: participant.tracks.map(\.info)))
    }

    /// ICE restart of the subscriber connection: new local credentials, then a new
    /// `subscriber_offer` carrying them; the answer's new credentials are applied when it arrives.
    func restartSubscriberICE(room: String, participant id: String) async {
        guard let participant = rooms[room]?.participants[id] else { return }
        guard participant.subscriberLocal != nil else {
            participant.send(.error(code: "bad_message", message: "there is no subscriber connection to restart yet"))
            return
        }
        let local: LocalTransportDescription
        do {
            local = try await backend.restartSubscriberICE(participant.subscriberSession)
        } catch {
            participant.send(.error(code: error.code.description, message: error.detail))
            return
        }
        rooms[room]?.participants[id]?.subscriberLocal = local
        rooms[room]?.participants[id]?.needsOffer = true
        negotiate(room: room, participant: id)
    }
}
