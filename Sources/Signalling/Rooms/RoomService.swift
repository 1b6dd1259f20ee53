import ICE
import Logging
import SFUWire

import struct SFUCore.RTPStreamStats
import enum Simulcast.LayerPreference

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Multi-party rooms for the `/rtc` room protocol (SPEC §3.3). Each participant has a publish
/// connection (the participant offers, as with WHIP) and a subscriber connection that the SFU
/// offers and renegotiates as tracks come and go: one m-section per remote track, ended tracks
/// kept `inactive`. A room's media lives in ``SFURoomBackend`` (one router per room); this actor
/// holds who is in which room and drives the signalling.
///
/// Reentrancy: every method re-reads state after each `await`, so a participant that left while
/// its call was suspended is simply skipped.
public actor RoomService {
    public struct Configuration: Sendable {
        public var capabilities: MediaCapabilities
        public var maxParticipants: Int
        /// `rooms.max_participants_per_identity`: participants of one identity in all rooms.
        public var maxParticipantsPerIdentity: Int
        public var iceServers: @Sendable (_ identity: String, _ now: Date) -> [ICEServerEntry]

        public init(
            capabilities: MediaCapabilities = .standard, maxParticipants: Int = 50, maxParticipantsPerIdentity: Int = 8,
            iceServers: @escaping @Sendable (_ identity: String, _ now: Date) -> [ICEServerEntry] = { _, _ in [] }
        ) {
            self.capabilities = capabilities
            self.maxParticipants = maxParticipants
            self.maxParticipantsPerIdentity = max(1, maxParticipantsPerIdentity)
            self.iceServers = iceServers
        }
    }

    struct Track {
        var info: RoomTrackInfo
        var published: PublishedTrack
        /// Received bitrate over the last second, and the byte count it was computed from.
        var bitrate: Double = 0
        var lastBytes: UInt64 = 0
        /// Simulcast: the same per encoding (by rid), with the encodings' last statistics.
        var layerBitrates: [String: Double] = [:]
        var lastLayerBytes: [String: UInt64] = [:]
        var layerStats: [RTPStreamStats] = []
    }

    struct Participant {
        let id: String
        let name: String
        let identity: String
        let canPublish: Bool
        let joinedAt = Date()
        /// Sends to the participant's current WebSocket (a no-op while it is detached).
        var send: @Sendable (RoomServerMessage) -> Void
        /// Proves a reconnecting socket is this participant (`joined.resume_token`).
        let resumeToken = RoomService.makeSecret()
        /// Counts the participant's sockets; a socket's end detaches only if it is still current.
        var connection = 0
        var detached = false
        var publishSession: MediaSessionID?
        var publishCount = 0
        var tracks: [Track] = []
        // The subscriber connection.
        let subscriberSession: MediaSessionID
        var subscriberLocal: LocalTransportDescription?
        var subscriberOpening: Task<Result<LocalTransportDescription, MediaBackendError>, Never>?
        var sections: [SubscriberSection] = []
        /// `set_quality` per remote track id, applied to the track's consumer when it is created.
        var qualities: [String: LayerPreference] = [:]
        var payloadTypes = PayloadTypeTable()
        var offerVersion = 0
        var awaitingAnswer = false
        var needsOffer = false
        /// The ICE ufrag of the subscriber answer last applied (a new one after an ICE restart).
        var remoteUfrag: String?
        /// The last `publish_answer`, kept so that an ICE restart can answer with new credentials.
        var publishAnswer: String?
        let sdpSessionID = UInt64.random(in: 1...UInt64(Int64.max))

        var info: RoomParticipantInfo { RoomParticipantInfo(participantID: id, name: name, tracks: tracks.map(\.info)) }
    }

    struct Room {
        var participants: [String: Participant] = [:]
        /// Join order, for `joined` listings.
        var order: [String] = []
        var speakers = ActiveSpeakerDetector()
        let createdAt = Date()
        /// Set when the last participant left: the room is forgotten ``emptyRoomGrace`` later
        /// unless somebody joins again (same room, same creation time, same listing).
        var emptySince: ContinuousClock.Instant?
    }

    /// How long an empty room is kept (SPEC-silent; LiveKit's default empty timeout is similar).
    static let emptyRoomGrace: Duration = .seconds(30)

    /// How often audio levels are read for active-speaker detection.
    static let speakerInterval: Duration = .milliseconds(200)

    public let backend: SFURoomBackend
    public let configuration: Configuration
    private let logger: Logger
    /// Mutated only by the actor's own files (`RoomService*.swift`).
    var rooms: [String: Room] = [:]
    private var lastBitrateSample = ContinuousClock.now
    private var speakerTask: Task<Void, Never>?

    public init(backend: SFURoomBackend, configuration: Configuration, logger: Logger = Logger(label: "commucat.rooms")) {
        self.backend = backend
        self.configuration = configuration
        self.logger = logger
    }

    /// Participants per room, for stats and tests.
    public func participantCount(room: String) -> Int { rooms[room]?.participants.count ?? 0 }

    // MARK: Joining and leaving

    /// Adds a participant and tells it who is there (`joined`), tells the others, and offers it the
    /// room's tracks. Returns its participant id, or an error message to send before closing.
    func join(
        room: String, name: String, identity: String, canPublish: Bool, send: @escaping @Sendable (RoomServerMessage) -> Void
    ) async -> Result<String, RoomError> {
        let state = rooms[room] ?? Room()
        guard state.participants.count < configuration.maxParticipants else {
            return .failure(RoomError("room_full", "room \(room) holds its maximum of \(configuration.maxParticipants) participants"))
        }
        let held = rooms.values.reduce(0) { total, room in total + room.participants.values.count { $0.identity == identity } }
        guard held < configuration.maxParticipantsPerIdentity else {
            MediaLimits.rejected(.participantsPerIdentity)
            return .failure(
                RoomError(
                    MediaLimits.code,
                    "identity \(identity.prefix(64)) is already \(held) participants (rooms.max_participants_per_identity)"))
        }
        let id = Self.makeID()
        let participant = Participant(
            id: id, name: name, identity: identity, canPublish: canPublish, send: send,
            subscriberSession: MediaSessionID(kind: .whep, room: room, id: "\(id)-sub"))
        let others = state.order.compactMap { state.participants[$0]?.info }
        rooms[room, default: Room()].participants[id] = participant
        rooms[room]?.emptySince = nil
        rooms[room, default: Room()].order.append(id)
        sendJoined(participant, room: room, others: others, speakers: state.speakers.speakers, resumed: false)
        startSpeakerDetection()
        broadcast(room: room, except: id, .participantJoined(participant.info))
        logger.info("participant joined", metadata: ["room": "\(room)", "participant": "\(id)"])
        // Offer the tracks already published.
        for other in state.order {
            for track in state.participants[other]?.tracks ?? [] {
                await addTrack(track, publisher: other, to: id, room: room)
            }
        }
        negotiate(room: room, participant: id)
        return .success(id)
    }

    /// How long a participant whose WebSocket dropped stays in the room, its media flowing, for
    /// it to reconnect with its `resume_token`.
    static let reconnectGrace: Duration = .seconds(20)

    /// The participant's socket `connection` ended without `leave`: keep it (and its media) for
    /// ``reconnectGrace``, then remove it unless it resumed.
    func detach(room: String, participant id: String, connection: Int) {
        guard let participant = rooms[room]?.participants[id], participant.connection == connection else { return }
        rooms[room]?.participants[id]?.detached = true
        rooms[room]?.participants[id]?.send = { _ in }
        logger.info("participant detached", metadata: ["room": "\(room)", "participant": "\(id)"])
        Task { [weak self] in
            try? await Task.sleep(for: RoomService.reconnectGrace)
            await self?.expire(room: room, participant: id, connection: connection)
        }
    }

    private func expire(room: String, participant id: String, connection: Int) async {
        guard let participant = rooms[room]?.participants[id], participant.detached, participant.connection == connection
        else { return }
        await leave(room: room, participant: id)
    }

    /// A reconnecting participant: the new socket replaces the old one, `joined` is sent again
    /// (`resumed: true`) and an offer that was waiting for its answer is made again. Returns the
    /// socket's connection number.
    func resume(
        room: String, participant id: String, resumeToken: String, send: @escaping @Sendable (RoomServerMessage) -> Void
    ) -> Result<Int, RoomError> {
        guard let participant = rooms[room]?.participants[id],
            Self.constantTimeEquals(participant.resumeToken, resumeToken)
        else { return .failure(RoomError("resume_failed", "no participant \(id) to resume in room \(room)")) }
        let connection = participant.connection + 1
        rooms[room]?.participants[id]?.connection = connection
        rooms[room]?.participants[id]?.detached = false
        rooms[room]?.participants[id]?.send = send
        let state = rooms[room] ?? Room()
        let others = state.order.filter { $0 != id }.compactMap { state.participants[$0]?.info }
        sendJoined(participant, room: room, others: others, speakers: state.speakers.speakers, resumed: true, via: send)
        if participant.awaitingAnswer {
            rooms[room]?.participants[id]?.awaitingAnswer = false
            rooms[room]?.participants[id]?.needsOffer = true
        }
        negotiate(room: room, participant: id)
        logger.info("participant resumed", metadata: ["room": "\(room)", "participant": "\(id)"])
        return .success(connection)
    }

    /// `joined` (first join or resume), then the current speakers if there are any. `via`
    /// overrides the participant's stored sender (a resuming socket's, not yet stored in the copy).
    private func sendJoined(
        _ participant: Participant, room: String, others: [RoomParticipantInfo], speakers: [String], resumed: Bool,
        via send: (@Sendable (RoomServerMessage) -> Void)? = nil
    ) {
        let send = send ?? participant.send
        send(
            .joined(
                participantID: participant.id, room: room, name: participant.name, participants: others,
                iceServers: configuration.iceServers(participant.identity, Date()), resumeToken: participant.resumeToken,
                resumed: resumed))
        if !speakers.isEmpty { send(.activeSpeakers(speakers)) }
    }

    /// Removes a participant: its tracks end for everybody, its connections close. Idempotent.
    func leave(room: String, participant id: String) async {
        guard let participant = rooms[room]?.participants.removeValue(forKey: id) else { return }
        rooms[room]?.order.removeAll { $0 == id }
        for track in participant.tracks {
            broadcast(room: room, except: id, .trackUnpublished(participantID: id, trackID: track.info.trackID))
        }
        broadcast(room: room, except: id, .participantLeft(participantID: id))
        if let session = participant.publishSession { await backend.close(session) }
        await backend.close(participant.subscriberSession)
        await removeTracks(participant.tracks.map(\.info.trackID), room: room)
        if rooms[room]?.participants.isEmpty == true { rooms[room]?.emptySince = ContinuousClock.now }
        logger.info("participant left", metadata: ["room": "\(room)", "participant": "\(id)"])
    }

    // MARK: Publishing

    /// A publish offer: negotiated like WHIP; the answer goes back as `publish_answer`, the tracks
    /// are announced and offered to every other participant. A new offer replaces the previous
    /// publish connection and its tracks.
    func publish(room: String, participant id: String, sdp: String) async {
        guard let participant = rooms[room]?.participants[id] else { return }
        guard participant.canPublish else {
            participant.send(.error(code: "token_grant", message: "the access token does not grant publish"))
            return
        }
        let offer: NegotiatedOffer
        do {
            offer = try SDPNegotiator.negotiate(offer: sdp, purpose: .publish, capabilities: configuration.capabilities)
        } catch {
            participant.send(.error(code: error.code.description, message: error.detail))
            return
        }
        if let previous = participant.publishSession {
            await unpublish(room: room, participant: id, session: previous)
        }
        let count = (rooms[room]?.participants[id]?.publishCount ?? 0) + 1
        rooms[room]?.participants[id]?.publishCount = count
        let session = MediaSessionID(kind: .whip, room: room, id: "\(id)-pub\(count)")
        let local: LocalTransportDescription
        do {
            local = try await backend.publish(PublishRequest(session: session, identity: participant.identity, offer: offer))
        } catch {
            participant.send(.error(code: error.code.description, message: error.detail))
            return
        }
        guard rooms[room]?.participants[id] != nil else {
            await backend.close(session)
            return
        }
        let tracks = zip(offer.sections, PublishedTrack.tracks(of: offer, participantID: session.id)).map { section, published in
            let rids = section.encodings.compactMap(\.rid)
            return Track(
                info: RoomTrackInfo(
                    trackID: published.trackID, kind: published.kind.rawValue, muted: false, layers: rids.count > 1 ? rids : []),
                published: published)
        }
        let answer = SDPAnswerBuilder.publishAnswer(to: offer, local: local, sessionID: UInt64.random(in: 1...UInt64(Int64.max)))
        participant.send(.publishAnswer(sdp: answer.serialized, tracks: tracks.map(\.info)))
        rooms[room]?.participants[id]?.publishAnswer = answer.serialized
        rooms[room]?.participants[id]?.publishSession = session
        rooms[room]?.participants[id]?.tracks = tracks
        for track in tracks {
            broadcast(room: room, except: id, .trackPublished(participantID: id, track: track.info))
        }
        for other in rooms[room]?.order ?? [] where other != id {
            for track in tracks { await addTrack(track, publisher: id, to: other, room: room) }
            negotiate(room: room, participant: other)
        }
    }

    private func unpublish(room: String, participant id: String, session: MediaSessionID) async {
        let tracks = rooms[room]?.participants[id]?.tracks ?? []
        rooms[room]?.participants[id]?.publishSession = nil
        rooms[room]?.participants[id]?.tracks = []
        for track in tracks {
            broadcast(room: room, except: id, .trackUnpublished(participantID: id, trackID: track.info.trackID))
        }
        await backend.close(session)
        await removeTracks(tracks.map(\.info.trackID), room: room)
    }

    /// Mute or unmute one of the participant's own tracks: forwarding pauses, the others are told.
    func mute(room: String, participant id: String, trackID: String, muted: Bool) async {
        guard let participant = rooms[room]?.participants[id] else { return }
        guard let index = participant.tracks.firstIndex(where: { $0.info.trackID == trackID }) else {
            participant.send(.error(code: "unknown_track", message: "no track \(trackID) of yours in this room"))
            return
        }
        rooms[room]?.participants[id]?.tracks[index].info.muted = muted
        await backend.setTrackPaused(room: room, trackID: trackID, paused: muted)
        broadcast(room: room, except: id, .trackMuted(participantID: id, trackID: trackID, muted: muted))
    }

    // MARK: Active speakers

    private func startSpeakerDetection() {
        guard speakerTask == nil else { return }
        speakerTask = Task { [weak self] in
            var previous = ContinuousClock.now
            var tick = 0
            while !Task.isCancelled {
                try? await Task.sleep(for: RoomService.speakerInterval)
                let now = ContinuousClock.now
                guard let self else { return }
                await self.detectSpeakers(elapsed: now - previous)
                tick += 1
                if tick % 5 == 0 { await self.sampleBitrates(now: now) }
                previous = now
                if await self.stopWhenIdle() { return }
            }
        }
    }

    /// Forgets rooms empty for ``emptyRoomGrace``; stops the ticker when no room is left.
    private func stopWhenIdle(now: ContinuousClock.Instant = .now) -> Bool {
        for (name, room) in rooms {
            if let since = room.emptySince, now - since >= Self.emptyRoomGrace { rooms[name] = nil }
        }
        guard rooms.isEmpty else { return false }
        speakerTask = nil
        return true
    }

    /// Updates every track's received bitrate (once a second).
    private func sampleBitrates(now: ContinuousClock.Instant) async {
        let elapsed = now - lastBitrateSample
        lastBitrateSample = now
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        func rate(_ total: UInt64, _ last: UInt64) -> Double {
            seconds > 0 && total >= last ? Double(total - last) * 8 / seconds : 0
        }
        for room in Array(rooms.keys) {
            let streams = await backend.trackStreams(room: room)
            for id in rooms[room]?.order ?? [] {
                guard var tracks = rooms[room]?.participants[id]?.tracks else { continue }
                for index in tracks.indices {
                    guard let layers = streams[tracks[index].info.trackID] else { continue }
                    let total = layers.reduce(0) { $0 + $1.bytesReceived }
                    tracks[index].bitrate = rate(total, tracks[index].lastBytes)
                    tracks[index].lastBytes = total
                    tracks[index].layerStats = layers
                    for layer in layers where tracks[index].info.layers.count > 1 {
                        guard let rid = layer.rid else { continue }
                        tracks[index].layerBitrates[rid] = rate(layer.bytesReceived, tracks[index].lastLayerBytes[rid] ?? 0)
                        tracks[index].lastLayerBytes[rid] = layer.bytesReceived
                    }
                }
                // No suspension since `tracks` was read: nothing else changed them.
                rooms[room]?.participants[id]?.tracks = tracks
            }
        }
    }

    /// Reads every room's audio levels and sends `active_speakers` where the list changed.
    private func detectSpeakers(elapsed: Duration) async {
        for room in Array(rooms.keys) {
            let levels = await backend.audioLevels(room: room)
            guard let state = rooms[room] else { continue }
            var byParticipant: [String: UInt8] = [:]
            for (id, participant) in state.participants {
                guard let session = participant.publishSession, let level = levels[session.id] else { continue }
                byParticipant[id] = level
            }
            guard let changed = rooms[room]?.speakers.update(levels: byParticipant, elapsed: elapsed) else { continue }
            broadcast(room: room, except: nil, .activeSpeakers(changed))
        }
    }

    // MARK: The subscriber connection

    /// The participant's answer to the SFU's latest offer.
    func subscriberAnswer(room: String, participant id: String, sdp: String) async {
        guard let participant = rooms[room]?.participants[id] else { return }
        guard participant.awaitingAnswer else {
            participant.send(.error(code: "unexpected_answer", message: "no subscriber offer is waiting for an answer"))
            return
        }
        let answer: SessionDescription
        do {
            answer = try SessionDescription(parsing: sdp)
        } catch {
            participant.send(.error(code: "bad_sdp", message: "the subscriber answer is not valid SDP: \(error)"))
            return
        }
        let first = answer.media.first { !$0.isRejected }
        guard let ufrag = first?.iceUfrag ?? answer.iceUfrag, let pwd = first?.icePwd ?? answer.icePwd else {
            participant.send(.error(code: "bad_sdp", message: "the subscriber answer has no a=ice-ufrag/a=ice-pwd"))
            return
        }
        let fingerprints = (first?.fingerprints).flatMap { $0.isEmpty ? nil : $0 } ?? answer.fingerprints
        let setup = first?.setup ?? answer.setup
        // We offered actpass and act as the DTLS server: the answerer must be active (RFC 8842 §5.3).
        guard setup == nil || setup == .active else {
            participant.send(.error(code: "bad_sdp", message: "the subscriber answer must use a=setup:active"))
            return
        }
        if participant.remoteUfrag != ufrag {
            do {
                try await backend.setSubscriberRemote(
                    participant.subscriberSession, ice: ICECredentials(ufrag: ufrag, password: pwd), fingerprints: fingerprints)
            } catch {
                participant.send(.error(code: error.code.description, message: error.detail))
                return
            }
            rooms[room]?.participants[id]?.remoteUfrag = ufrag
        }
        rooms[room]?.participants[id]?.awaitingAnswer = false
        negotiate(room: room, participant: id)
    }

    /// Adds a section carrying `track` to `subscriber`'s connection (opening it on first use).
    private func addTrack(_ track: Track, publisher: String, to subscriber: String, room: String) async {
        guard let participant = rooms[room]?.participants[subscriber] else { return }
        guard await openSubscriber(room: room, participant: subscriber) != nil else { return }
        guard let primary = track.published.codecs.first(where: { !$0.isRED }) else { return }
        var codec = primary
        codec.feedback = SubscriberOfferBuilder.feedback(for: track.published.kind)
        codec.rtxPayloadType = track.published.kind == .video ? primary.payloadType : nil  // any value: "wants RTX"
        guard let mapped = rooms[room]?.participants[subscriber]?.payloadTypes.map(codec) else {
            participant.send(.error(code: "capacity", message: "no payload type left for \(codec.name)"))
            return
        }
        let mid = String(rooms[room]?.participants[subscriber]?.sections.count ?? 0)
        let stream: OutgoingStream
        do {
            guard let publisherSession = rooms[room]?.participants[publisher]?.publishSession else { return }
            stream = try await backend.consumeTrack(
                participant.subscriberSession, publisherID: publisherSession.id, trackID: track.info.trackID,
                codecs: [mapped], headerExtensions: [], mid: mid)
        } catch {
            logger.warning("cannot subscribe", metadata: ["room": "\(room)", "track": "\(track.info.trackID)", "error": "\(error)"])
            if let refusal = (error as any Error) as? MediaBackendError, refusal.code == .limitExceeded {
                participant.send(.error(code: refusal.code.description, message: "track \(track.info.trackID): \(refusal.detail)"))
            }
            return
        }
        guard rooms[room]?.participants[subscriber] != nil else { return }
        let section = SubscriberSection(
            mid: String(rooms[room]?.participants[subscriber]?.sections.count ?? 0), kind: track.published.kind,
            trackID: track.info.trackID, participantID: publisher, codec: mapped, headerExtensions: [], stream: stream,
            active: true)
        rooms[room]?.participants[subscriber]?.sections.append(section)
        rooms[room]?.participants[subscriber]?.needsOffer = true
        if track.info.muted { await backend.setTrackPaused(room: room, trackID: track.info.trackID, paused: true) }
        if let preference = rooms[room]?.participants[subscriber]?.qualities[track.info.trackID] {
            _ = await backend.setLayerPreference(participant.subscriberSession, trackID: track.info.trackID, preference: preference)
        }
    }

    /// Ends the sections of `trackIDs` in every participant's subscriber connection.
    private func removeTracks(_ trackIDs: [String], room: String) async {
        guard !trackIDs.isEmpty else { return }
        for id in rooms[room]?.order ?? [] {
            guard let participant = rooms[room]?.participants[id] else { continue }
            for trackID in trackIDs { rooms[room]?.participants[id]?.qualities[trackID] = nil }
            for (index, section) in participant.sections.enumerated() where section.active && trackIDs.contains(section.trackID) {
                await backend.stopConsuming(participant.subscriberSession, trackID: section.trackID)
                rooms[room]?.participants[id]?.sections[index].active = false
                rooms[room]?.participants[id]?.sections[index].stream = nil
                rooms[room]?.participants[id]?.needsOffer = true
            }
            negotiate(room: room, participant: id)
        }
    }

    private func openSubscriber(room: String, participant id: String) async -> LocalTransportDescription? {
        guard let participant = rooms[room]?.participants[id] else { return nil }
        if let local = participant.subscriberLocal { return local }
        let task: Task<Result<LocalTransportDescription, MediaBackendError>, Never>
        if let opening = participant.subscriberOpening {
            task = opening
        } else {
            let backend = self.backend
            let session = participant.subscriberSession
            task = Task { () async -> Result<LocalTransportDescription, MediaBackendError> in
                do throws(MediaBackendError) {
                    return .success(try await backend.openSubscriber(session))
                } catch {
                    return .failure(error)
                }
            }
            rooms[room]?.participants[id]?.subscriberOpening = task
        }
        switch await task.value {
        case .success(let local):
            guard rooms[room]?.participants[id] != nil else {
                await backend.close(participant.subscriberSession)
                return nil
            }
            rooms[room]?.participants[id]?.subscriberLocal = local
            rooms[room]?.participants[id]?.subscriberOpening = nil
            return local
        case .failure(let error):
            rooms[room]?.participants[id]?.subscriberOpening = nil
            participant.send(.error(code: error.code.description, message: error.detail))
            return nil
        }
    }

    /// Sends a new subscriber offer when something changed and no offer is waiting for its answer
    /// (one offer at a time, RFC 8829 §4.1.8: a new one only from the stable state).
    func negotiate(room: String, participant id: String) {
        guard let participant = rooms[room]?.participants[id], participant.needsOffer, !participant.awaitingAnswer,
            let local = participant.subscriberLocal
        else { return }
        let version = participant.offerVersion + 1
        let offer = SubscriberOfferBuilder.offer(
            local: local, sections: participant.sections, sessionID: participant.sdpSessionID, version: version)
        rooms[room]?.participants[id]?.offerVersion = version
        rooms[room]?.participants[id]?.awaitingAnswer = true
        rooms[room]?.participants[id]?.needsOffer = false
        participant.send(.subscriberOffer(sdp: offer.serialized, version: version))
    }

    private func broadcast(room: String, except: String?, _ message: RoomServerMessage) {
        guard let state = rooms[room] else { return }
        for (id, participant) in state.participants where id != except {
            participant.send(message)
        }
    }

}
