import SFUWire
import Signalling

/// A stand-in for the SFU engine: records every call and answers with fixed transports.
actor FakeMediaBackend: MediaRoomBackend {
    enum Call: Hashable {
        case publish(MediaSessionID, identity: String)
        case publisher(room: String, participantID: String?)
        case subscribe(MediaSessionID, publisherID: String, mids: [String])
        case candidates(MediaSessionID, count: Int, end: Bool)
        case close(MediaSessionID)
    }

    private(set) var calls: [Call] = []
    /// Published tracks per room, most recent publisher last.
    private var publishers: [String: [PublisherDescription]] = [:]
    var failPublish: MediaBackendError?

    func setFailPublish(_ error: MediaBackendError?) { failPublish = error }

    func publish(_ request: PublishRequest) async throws(MediaBackendError) -> LocalTransportDescription {
        calls.append(.publish(request.session, identity: request.identity))
        if let failPublish { throw failPublish }
        let description = PublisherDescription(
            participantID: request.session.id, tracks: PublishedTrack.tracks(of: request.offer, participantID: request.session.id)
        )
        publishers[request.session.room, default: []].append(description)
        return Fixtures.local
    }

    func publisher(room: String, participantID: String?) async throws(MediaBackendError) -> PublisherDescription {
        calls.append(.publisher(room: room, participantID: participantID))
        let candidates = publishers[room] ?? []
        let found = participantID.map { id in candidates.last { $0.participantID == id } } ?? candidates.last
        guard let found else { throw MediaBackendError(.publisherNotFound, detail: "no publisher in \(room)") }
        return found
    }

    func subscribe(_ request: SubscribeRequest) async throws(MediaBackendError) -> SubscribeResult {
        calls.append(.subscribe(request.session, publisherID: request.publisherID, mids: request.assignments.map(\.mid)))
        let streams = request.assignments.enumerated().map { index, assignment in
            OutgoingStream(
                mid: assignment.mid, ssrc: UInt32(1000 + index), rtxSSRC: assignment.primaryCodec?.rtxPayloadType == nil ? nil : UInt32(2000 + index),
                cname: "commucat"
            )
        }
        return SubscribeResult(transport: Fixtures.local, streams: streams)
    }

    func addRemoteCandidates(_ candidates: [SDPCandidate], endOfCandidates: Bool, session: MediaSessionID) async throws(MediaBackendError) {
        calls.append(.candidates(session, count: candidates.count, end: endOfCandidates))
    }

    func close(_ session: MediaSessionID) async {
        calls.append(.close(session))
        for room in publishers.keys { publishers[room]?.removeAll { $0.participantID == session.id } }
    }
}
