import Logging
import SFUCore
import SFUWire

import struct ICE.ICECredentials
import enum Simulcast.LayerPreference

/// The ``MediaRoomBackend`` of a node: rooms are SFUCore routers on one ``MediaWorker``; a WHIP
/// session is a transport with one producer per accepted m-section, a WHEP session a transport
/// with one consumer per assignment. Maps the negotiated SDP values to `RTPParameters` (see
/// `SFUCore/Engine/RTPParameters.swift` for the table) and nothing else: no RTP passes here.
///
/// Sessions the media plane ends on its own (ICE consent lost, DTLS failed or closed by the peer)
/// are dropped from the room and reported through ``setSessionEndedHandler(_:)`` so the HTTP
/// resource goes away too. A room's router closes with its last session.
public actor SFURoomBackend: MediaRoomBackend {
    private struct PublishedSession {
        let identity: String
        let transport: WebRTCTransport
        let tracks: [(track: PublishedTrack, producer: Producer)]
    }

    private struct SubscribedSession {
        let transport: WebRTCTransport
        /// The watched publisher (WHEP), or empty for a room participant's subscriber connection.
        let publisherID: String
        var consumers: [Consumer]
        /// Room subscriber connections: the consumer of each track id.
        var tracks: [String: Consumer] = [:]
    }

    private struct Room {
        let router: Router
        var publishers: [String: PublishedSession] = [:]
        /// Publisher ids, oldest first: the last one is the room's most recent publisher.
        var publisherOrder: [String] = []
        var subscribers: [String: SubscribedSession] = [:]

        var isEmpty: Bool { publishers.isEmpty && subscribers.isEmpty }
    }

    public let worker: MediaWorker
    private let logger: Logger
    private var rooms: [String: Room] = [:]
    /// Rooms being created (router creation is async; concurrent first joins share it).
    private var pendingRouters: [String: Task<Router, any Error>] = [:]
    private var sessionEnded: (@Sendable (MediaSessionID) -> Void)?
    private let maxRooms: Int

    public init(worker: MediaWorker, maxRooms: Int = 10_000, logger: Logger = Logger(label: "commucat.media")) {
        self.worker = worker
        self.maxRooms = maxRooms
        self.logger = logger
    }

    /// Called when the media plane ended a session by itself (not for ``close(_:)``).
    public func setSessionEndedHandler(_ handler: @escaping @Sendable (MediaSessionID) -> Void) {
        sessionEnded = handler
    }

    /// Rooms with at least one session.
    public var roomCount: Int { rooms.count }

    /// The producers of a publisher, for stats and tests.
    public func producers(room: String, participantID: String) -> [Producer] {
        rooms[room]?.publishers[participantID]?.tracks.map(\.producer) ?? []
    }

    /// The consumers of a WHEP session, for stats and tests.
    public func consumers(room: String, sessionID: String) -> [Consumer] {
        rooms[room]?.subscribers[sessionID]?.consumers ?? []
    }

    // MARK: MediaRoomBackend

    public func publish(_ request: PublishRequest) async throws(MediaBackendError) -> LocalTransportDescription {
        let room = request.session.room
        let router = try await router(for: room)
        let transport = try await makeTransport(router: router, offer: request.offer)
        var tracks: [(track: PublishedTrack, producer: Producer)] = []
        let published = PublishedTrack.tracks(of: request.offer, participantID: request.session.id)
        do {
            for (section, track) in zip(request.offer.sections, published) {
                let parameters = Self.producerParameters(section)
                let producer = try await transport.produce(kind: Self.engineKind(section.kind), parameters: parameters)
                tracks.append((track, producer))
            }
        } catch {
            await transport.close()
            await dropRoomIfEmpty(room)
            throw MediaBackendError(.rejected, detail: "the media engine refused the offer: \(error)")
        }
        rooms[room]?.publishers[request.session.id] = PublishedSession(
            identity: request.identity, transport: transport, tracks: tracks)
        rooms[room]?.publisherOrder.append(request.session.id)
        await watch(transport, session: request.session)
        logger.info(
            "publisher joined",
            metadata: ["room": "\(room)", "session": "\(request.session.id)", "tracks": "\(tracks.count)"])
        return Self.describe(transport)
    }

    public func publisher(room: String, participantID: String?) async throws(MediaBackendError) -> PublisherDescription {
        guard let state = rooms[room] else {
            throw MediaBackendError(.roomNotFound, detail: "no room \(room) on this node")
        }
        let id: String
        if let participantID {
            id = participantID
        } else if let latest = state.publisherOrder.last {
            id = latest
        } else {
            throw MediaBackendError(.publisherNotFound, detail: "room \(room) has no publisher")
        }
        guard let publisher = state.publishers[id] else {
            throw MediaBackendError(.publisherNotFound, detail: "no publisher \(id) in room \(room)")
        }
        return PublisherDescription(participantID: id, tracks: publisher.tracks.map(\.track))
    }

    public func subscribe(_ request: SubscribeRequest) async throws(MediaBackendError) -> SubscribeResult {
        let room = request.session.room
        guard let state = rooms[room] else { throw MediaBackendError(.roomNotFound, detail: "no room \(room) on this node") }
        guard let publisher = state.publishers[request.publisherID] else {
            throw MediaBackendError(.publisherNotFound, detail: "no publisher \(request.publisherID) in room \(room)")
        }
        let transport = try await makeTransport(router: state.router, offer: request.offer)
        var consumers: [Consumer] = []
        var streams: [OutgoingStream] = []
        do {
            for assignment in request.assignments {
                guard let producer = publisher.tracks.first(where: { $0.track.trackID == assignment.track.trackID })?.producer
                else { continue }
                let kind = Self.engineKind(assignment.track.kind)
                let consumer = try await transport.consume(
                    producer: producer, codecs: assignment.codecs.map { Self.codecParameters($0, kind: kind) },
                    headerExtensions: Self.extensionParameters(assignment.headerExtensions))
                consumers.append(consumer)
                streams.append(
                    OutgoingStream(
                        mid: assignment.mid, ssrc: consumer.ssrc, rtxSSRC: consumer.rtxSSRC,
                        cname: consumer.rtpParameters.cname ?? request.publisherID))
            }
        } catch {
            await transport.close()
            throw Self.consumeError(error)
        }
        // The publisher may have left while the consumers were being made.
        guard rooms[room]?.publishers[request.publisherID] != nil else {
            await transport.close()
            await dropRoomIfEmpty(room)
            throw MediaBackendError(.publisherNotFound, detail: "publisher \(request.publisherID) left room \(room)")
        }
        rooms[room]?.subscribers[request.session.id] = SubscribedSession(
            transport: transport, publisherID: request.publisherID, consumers: consumers)
        await watch(transport, session: request.session)
        logger.info(
            "subscriber joined",
            metadata: [
                "room": "\(room)", "session": "\(request.session.id)", "publisher": "\(request.publisherID)",
                "tracks": "\(consumers.count)",
            ])
        return SubscribeResult(transport: Self.describe(transport), streams: streams)
    }

    /// ICE-lite: the SFU never sends checks, so remote candidates are not needed; the peer's
    /// checks reveal its address. Accepted for any live session.
    public func addRemoteCandidates(
        _ candidates: [SDPCandidate], endOfCandidates: Bool, session: MediaSessionID
    ) async throws(MediaBackendError) {
        guard let state = rooms[session.room] else {
            throw MediaBackendError(.sessionNotFound, detail: "no room \(session.room)")
        }
        let live = session.kind == .whip ? state.publishers[session.id] != nil : state.subscribers[session.id] != nil
        guard live else { throw MediaBackendError(.sessionNotFound, detail: "session \(session) ended") }
    }

    public func close(_ session: MediaSessionID) async {
        guard let transport = remove(session) else { return }
        await transport.close()
        logger.info("session closed", metadata: ["session": "\(session)"])
        await dropRoomIfEmpty(session.room)
    }

    /// Closes every room (server shutdown).
    public func closeAll() async {
        let routers = rooms.values.map(\.router)
        rooms.removeAll()
        for router in routers { await router.close() }
    }

    // MARK: Room subscriber connections (/rtc: the SFU offers, the participant answers)

    /// Opens a participant's subscriber connection: a transport that waits for the peer's ICE
    /// credentials and fingerprints (``setSubscriberRemote(_:ice:fingerprints:)``). The SFU offers
    /// `a=setup:actpass`; browsers answer `active`, so the SFU is the DTLS server (RFC 8842 §5.2).
    public func openSubscriber(_ session: MediaSessionID) async throws(MediaBackendError) -> LocalTransportDescription {
        let router = try await router(for: session.room)
        let transport: WebRTCTransport
        do {
            transport = try await router.createWebRTCTransport(remoteICE: nil, remoteFingerprints: [], dtlsRole: .server)
        } catch {
            await dropRoomIfEmpty(session.room)
            throw MediaBackendError(.internalError, detail: "cannot create a transport: \(error)")
        }
        rooms[session.room]?.subscribers[session.id] = SubscribedSession(transport: transport, publisherID: "", consumers: [])
        await watch(transport, session: session)
        return Self.describe(transport)
    }

    /// ICE restart of a room participant's subscriber connection: new local credentials.
    public func restartSubscriberICE(_ session: MediaSessionID) async throws(MediaBackendError) -> LocalTransportDescription {
        guard let transport = rooms[session.room]?.subscribers[session.id]?.transport else {
            throw MediaBackendError(.sessionNotFound, detail: "session \(session) ended")
        }
        do {
            return Self.describe(try await transport.restartICE())
        } catch {
            throw MediaBackendError(.rejected, detail: "cannot restart ICE: \(error)")
        }
    }

    /// ICE restart of a publish connection: the peer's new credentials, and new local ones.
    public func restartPublisherICE(_ session: MediaSessionID, remote: ICECredentials) async throws(MediaBackendError) -> LocalTransportDescription {
        guard let transport = rooms[session.room]?.publishers[session.id]?.transport else {
            throw MediaBackendError(.sessionNotFound, detail: "session \(session) ended")
        }
        do {
            let info = try await transport.restartICE()
            try await transport.setRemoteICE(remote)
            return Self.describe(info)
        } catch {
            throw MediaBackendError(.rejected, detail: "cannot restart ICE: \(error)")
        }
    }

    /// The peer's answer arrived: its ICE credentials and DTLS fingerprints.
    public func setSubscriberRemote(
        _ session: MediaSessionID, ice: ICECredentials, fingerprints: [SDPFingerprint]
    ) async throws(MediaBackendError) {
        guard let transport = rooms[session.room]?.subscribers[session.id]?.transport else {
            throw MediaBackendError(.sessionNotFound, detail: "session \(session) ended")
        }
        let parsed = fingerprints.compactMap { try? DTLSFingerprint(algorithm: $0.algorithm, hex: $0.value) }
        guard !parsed.isEmpty else { throw MediaBackendError(.rejected, detail: "no a=fingerprint with a supported hash function") }
        do {
            try await transport.setRemoteICE(ice)
            try await transport.setRemoteFingerprints(parsed)
        } catch {
            throw MediaBackendError(.rejected, detail: "cannot use the answer's transport: \(error)")
        }
    }

    /// Adds a consumer of `publisherID`'s track `trackID` to a subscriber connection, sending with
    /// `codecs` (the payload types the SFU's offer announces). Returns what the offer announces.
    public func consumeTrack(
        _ session: MediaSessionID, publisherID: String, trackID: String, codecs: [NegotiatedCodec],
        headerExtensions: [NegotiatedHeaderExtension], mid: String
    ) async throws(MediaBackendError) -> OutgoingStream {
        guard let subscriber = rooms[session.room]?.subscribers[session.id] else {
            throw MediaBackendError(.sessionNotFound, detail: "session \(session) ended")
        }
        guard let published = rooms[session.room]?.publishers[publisherID]?.tracks.first(where: { $0.track.trackID == trackID })
        else { throw MediaBackendError(.publisherNotFound, detail: "no track \(trackID) in room \(session.room)") }
        let kind = Self.engineKind(published.track.kind)
        let consumer: Consumer
        do {
            consumer = try await subscriber.transport.consume(
                producer: published.producer, codecs: codecs.map { Self.codecParameters($0, kind: kind) },
                headerExtensions: Self.extensionParameters(headerExtensions))
        } catch {
            throw Self.consumeError(error)
        }
        guard rooms[session.room]?.subscribers[session.id] != nil else {
            await consumer.close()
            throw MediaBackendError(.sessionNotFound, detail: "session \(session) ended")
        }
        rooms[session.room]?.subscribers[session.id]?.consumers.append(consumer)
        rooms[session.room]?.subscribers[session.id]?.tracks[trackID] = consumer
        return OutgoingStream(mid: mid, ssrc: consumer.ssrc, rtxSSRC: consumer.rtxSSRC, cname: consumer.rtpParameters.cname ?? publisherID)
    }

    /// Closes the consumer of `trackID` on a subscriber connection (the track was unpublished).
    public func stopConsuming(_ session: MediaSessionID, trackID: String) async {
        guard let consumer = rooms[session.room]?.subscribers[session.id]?.tracks.removeValue(forKey: trackID) else { return }
        rooms[session.room]?.subscribers[session.id]?.consumers.removeAll { $0 === consumer }
        await consumer.close()
    }

    /// What a room participant's subscriber connection sends, per track id (admin listing).
    public func subscriptionStats(_ session: MediaSessionID) async -> [(trackID: String, stats: ConsumerStats)] {
        guard let tracks = rooms[session.room]?.subscribers[session.id]?.tracks else { return [] }
        var out: [(trackID: String, stats: ConsumerStats)] = []
        for (trackID, consumer) in tracks.sorted(by: { $0.key < $1.key }) { out.append((trackID, await consumer.stats())) }
        return out
    }

    /// Which simulcast encoding a participant's subscriber connection forwards of `trackID`
    /// (`set_quality`). Returns `false` when the connection does not consume that track.
    public func setLayerPreference(_ session: MediaSessionID, trackID: String, preference: LayerPreference) async -> Bool {
        guard let consumer = rooms[session.room]?.subscribers[session.id]?.tracks[trackID] else { return false }
        await consumer.setLayerPreference(preference)
        return true
    }

    /// Pauses or resumes every consumer of a track in the room (mute, SPEC §3.3).
    public func setTrackPaused(room: String, trackID: String, paused: Bool) async {
        let consumers = rooms[room]?.subscribers.values.compactMap { $0.tracks[trackID] } ?? []
        for consumer in consumers {
            if paused { await consumer.pause() } else { await consumer.resume() }
        }
    }

    /// The receive statistics of every published track of `room`, one entry per encoding (in the
    /// producer's order; encodings not heard from yet are left out), keyed by track id.
    public func trackStreams(room: String) async -> [String: [RTPStreamStats]] {
        guard let publishers = rooms[room]?.publishers else { return [:] }
        var streams: [String: [RTPStreamStats]] = [:]
        for session in publishers.values {
            for (track, producer) in session.tracks { streams[track.trackID] = await producer.stats() }
        }
        return streams
    }

    /// The loudness (RFC 6464, 0…127) each publisher of `room` sent since the last call, keyed by
    /// publisher session id; publishers without the audio-level extension are left out.
    public func audioLevels(room: String) async -> [String: UInt8] {
        guard let publishers = rooms[room]?.publishers else { return [:] }
        var levels: [String: UInt8] = [:]
        for (id, session) in publishers {
            for (track, producer) in session.tracks where track.kind == .audio {
                guard let level = await producer.takeAudioLevel() else { continue }
                levels[id] = max(levels[id] ?? 0, level.packets > 0 ? level.loudness : 0)
            }
        }
        return levels
    }

    // MARK: Internals

    private func router(for room: String) async throws(MediaBackendError) -> Router {
        if let existing = rooms[room] { return existing.router }
        if let pending = pendingRouters[room] {
            do { return try await pending.value } catch { throw MediaBackendError(.internalError, detail: "\(error)") }
        }
        guard rooms.count < maxRooms else { throw MediaBackendError(.capacity, detail: "this node holds its maximum of rooms") }
        let worker = self.worker
        let task = Task { () throws -> Router in try await worker.createRouter() }
        pendingRouters[room] = task
        defer { pendingRouters[room] = nil }
        do {
            let router = try await task.value
            if let existing = rooms[room] {
                await router.close()
                return existing.router
            }
            rooms[room] = Room(router: router)
            return router
        } catch {
            throw MediaBackendError(.internalError, detail: "cannot create the room's router: \(error)")
        }
    }

    private func makeTransport(router: Router, offer: NegotiatedOffer) async throws(MediaBackendError) -> WebRTCTransport {
        var fingerprints: [DTLSFingerprint] = []
        for fingerprint in offer.transport.fingerprints {
            // Unknown hash functions are skipped; the negotiator already required a usable one.
            if let parsed = try? DTLSFingerprint(algorithm: fingerprint.algorithm, hex: fingerprint.value) {
                fingerprints.append(parsed)
            }
        }
        guard !fingerprints.isEmpty else {
            throw MediaBackendError(.rejected, detail: "no a=fingerprint with a supported hash function")
        }
        let remote = ICECredentials(ufrag: offer.transport.iceUfrag, password: offer.transport.icePwd)
        let role: SFUCore.DTLSRole = offer.localDTLSRole == .server ? .server : .client
        do {
            return try await router.createWebRTCTransport(remoteICE: remote, remoteFingerprints: fingerprints, dtlsRole: role)
        } catch {
            throw MediaBackendError(.internalError, detail: "cannot create a transport: \(error)")
        }
    }

    /// Removes the session from its room and returns its transport.
    private func remove(_ session: MediaSessionID) -> WebRTCTransport? {
        guard var state = rooms[session.room] else { return nil }
        let transport: WebRTCTransport?
        switch session.kind {
        case .whip:
            transport = state.publishers.removeValue(forKey: session.id)?.transport
            state.publisherOrder.removeAll { $0 == session.id }
            // Subscribers of that publisher keep their transports (their tracks end with an RTCP
            // BYE when the producers close) until they DELETE or their ICE consent runs out.
        case .whep:
            transport = state.subscribers.removeValue(forKey: session.id)?.transport
        }
        rooms[session.room] = state
        return transport
    }

    private func dropRoomIfEmpty(_ room: String) async {
        guard let state = rooms[room], state.isEmpty, pendingRouters[room] == nil else { return }
        rooms[room] = nil
        await state.router.close()
    }

    /// Reports sessions the engine ends by itself.
    private func watch(_ transport: WebRTCTransport, session: MediaSessionID) async {
        await transport.onClose { [weak self] state in
            guard let self else { return }
            Task { await self.transportEnded(session: session, transport: transport, state: state) }
        }
    }

    private func transportEnded(session: MediaSessionID, transport: WebRTCTransport, state: WebRTCTransport.State) async {
        guard let room = rooms[session.room] else { return }
        let current = session.kind == .whip ? room.publishers[session.id]?.transport : room.subscribers[session.id]?.transport
        guard current === transport else { return }  // closed through close(_:)
        _ = remove(session)
        logger.info("session ended by the media plane", metadata: ["session": "\(session)", "state": "\(state)"])
        sessionEnded?(session)
        await dropRoomIfEmpty(session.room)
    }

    /// A refused consumer: `limit_exceeded` when the worker's retransmission budget is exhausted.
    static func consumeError(_ error: any Error) -> MediaBackendError {
        if let engine = error as? SFUError, engine.code == .limitExceeded {
            MediaLimits.rejected(.retransmissionBudget)
            return MediaBackendError(.limitExceeded, detail: "\(engine.detail) (media.retransmission_budget_bytes)")
        }
        return MediaBackendError(.rejected, detail: "the media engine refused the subscription: \(error)")
    }

    // MARK: SDP values → RTP parameters

    static func engineKind(_ kind: MediaKind) -> SFUCore.MediaKind {
        kind == .audio ? .audio : .video
    }

    static func producerParameters(_ section: NegotiatedMediaSection) -> RTPParameters {
        let kind = engineKind(section.kind)
        var encodings = section.encodings.map { RTPEncodingParameters(ssrc: $0.ssrc, rtxSSRC: $0.rtxSSRC, rid: $0.rid) }
        // No a=ssrc and no rids: the producer learns its SSRC from the first packet (mid extension).
        if encodings.isEmpty { encodings = [RTPEncodingParameters()] }
        return RTPParameters(
            mid: section.mid, codecs: section.codecs.map { codecParameters($0, kind: kind) },
            headerExtensions: extensionParameters(section.headerExtensions), encodings: encodings, cname: section.cname)
    }

    static func codecParameters(_ codec: NegotiatedCodec, kind: SFUCore.MediaKind) -> RTPCodecParameters {
        var parameters: [String: String] = [:]
        if let text = codec.parameters {
            for (key, value) in SDPFmtp(format: String(codec.payloadType), parameters: text).parameterList {
                parameters[key] = value
            }
        }
        return RTPCodecParameters(
            mimeType: "\(kind.rawValue)/\(codec.name)", payloadType: codec.payloadType, clockRate: codec.clockRate,
            channels: codec.channels.map { UInt8(clamping: $0) }, parameters: parameters,
            rtcpFeedback: codec.feedback.map { RTCPFeedback(type: $0.type, parameter: $0.parameter) },
            rtxPayloadType: codec.rtxPayloadType)
    }

    /// Ids above 255 cannot be written in RTP (RFC 8285 §4.3); the negotiator never accepts them.
    static func extensionParameters(_ extensions: [NegotiatedHeaderExtension]) -> [RTPHeaderExtensionParameters] {
        extensions.compactMap { item in
            guard (1...255).contains(item.id) else { return nil }
            return RTPHeaderExtensionParameters(uri: item.uri, id: UInt8(item.id))
        }
    }

    static func describe(_ transport: WebRTCTransport) -> LocalTransportDescription {
        describe(transport.info)
    }

    static func describe(_ info: WebRTCTransportInfo) -> LocalTransportDescription {
        LocalTransportDescription(
            iceUfrag: info.localICE.ufrag, icePwd: info.localICE.password, candidates: info.candidates,
            fingerprints: [SDPFingerprint(algorithm: info.fingerprint.algorithm.rawValue, value: info.fingerprint.hexValue)],
            iceLite: info.iceLite)
    }
}
