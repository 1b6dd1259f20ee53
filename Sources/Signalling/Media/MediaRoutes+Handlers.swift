import HTTPTypes
import Hummingbird
import SFUWire

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

extension MediaRoutes {
    /// Rate limit, room name, token, content type and body, in that order: floods are refused
    /// before any crypto, and nothing reaches the backend without a valid token.
    private func admit(
        _ request: Request, room: String, grant: AccessTokens.Grant, endpoint: Endpoint, peer: Peer, contentType: String?
    ) async -> Admission<(AccessTokens.Principal, String)> {
        let cors = configuration.cors
        let decision = await configuration.rateLimit(peer, endpoint)
        guard decision.allowed else {
            return .failure(
                MediaHTTP.problem(
                    .tooManyRequests, code: "rate_limited",
                    detail: "too many media sessions started from this address (limits.whip_per_minute)", cors: cors,
                    retryAfterSeconds: decision.retryAfterSeconds))
        }
        guard Self.isValidRoom(room) else {
            return .failure(MediaHTTP.problem(.badRequest, code: "bad_room", detail: "room names are 1-128 characters of A-Z a-z 0-9 - _ .", cors: cors))
        }
        let principal: AccessTokens.Principal
        do {
            principal = try await configuration.tokens.authorize(
                authorization: request.headers[.authorization], room: room, need: grant,
                allowAnonymous: configuration.allowAnonymous, isLoopback: peer.isLoopback, now: configuration.now()
            )
        } catch {
            return .failure(MediaHTTP.problem(error, cors: cors))
        }
        guard let contentType else { return .success((principal, "")) }
        guard MediaHTTP.hasContentType(request, contentType) else {
            return .failure(MediaHTTP.problem(.unsupportedMediaType, code: "unsupported_media_type", detail: "Content-Type must be \(contentType)", cors: cors))
        }
        do {
            let body = try await request.body.collect(upTo: configuration.maxBodyBytes)
            return .success((principal, String(buffer: body)))
        } catch {
            return .failure(MediaHTTP.problem(.contentTooLarge, code: "body_too_large", detail: "body exceeds \(configuration.maxBodyBytes) bytes", cors: cors))
        }
    }

    func publish(_ request: Request, room: String, peer: Peer) async -> Response {
        let cors = configuration.cors
        let admitted = await admit(request, room: room, grant: .publish, endpoint: .whip, peer: peer, contentType: MediaHTTP.sdpType)
        guard case .success(let (principal, text)) = admitted else { return admitted.response }
        let offer: NegotiatedOffer
        do {
            offer = try SDPNegotiator.negotiate(offer: text, purpose: .publish, capabilities: configuration.capabilities)
        } catch {
            return MediaHTTP.problem(error, cors: cors)
        }
        if let refusal = reserve(principal: principal, peer: peer) { return refusal }
        let session = MediaSessionID(kind: .whip, room: room, id: Self.makeID())
        let local: LocalTransportDescription
        do {
            local = try await backend.publish(PublishRequest(session: session, identity: principal.identity, offer: offer))
        } catch {
            registry.cancel(identity: principal.identity, address: peer.address)
            return MediaHTTP.problem(error, cors: cors)
        }
        let answer = SDPAnswerBuilder.publishAnswer(to: offer, local: local, sessionID: UInt64.random(in: 1...UInt64(Int64.max)))
        return created(session: session, principal: principal, peer: peer, offer: offer, answer: answer)
    }

    func subscribe(_ request: Request, room: String, publisherID: String?, peer: Peer) async -> Response {
        let cors = configuration.cors
        let admitted = await admit(request, room: room, grant: .subscribe, endpoint: .whep, peer: peer, contentType: MediaHTTP.sdpType)
        guard case .success(let (principal, text)) = admitted else { return admitted.response }
        let offer: NegotiatedOffer
        do {
            offer = try SDPNegotiator.negotiate(offer: text, purpose: .subscribe, capabilities: configuration.capabilities)
        } catch {
            return MediaHTTP.problem(error, cors: cors)
        }
        if let refusal = reserve(principal: principal, peer: peer) { return refusal }
        let session = MediaSessionID(kind: .whep, room: room, id: Self.makeID())
        do {
            let publisher = try await backend.publisher(room: room, participantID: publisherID)
            let assignments = SubscriptionPlanner.assign(publisher.tracks, to: offer)
            if assignments.isEmpty && !publisher.tracks.isEmpty {
                registry.cancel(identity: principal.identity, address: peer.address)
                let codecs = publisher.tracks.compactMap { $0.codecs.first?.name }.joined(separator: ", ")
                return MediaHTTP.problem(
                    .badRequest, code: SDPNegotiationError.Code.unsupported.description,
                    detail: "the offer cannot receive any of the publisher's tracks (\(codecs))", cors: cors
                )
            }
            let result = try await backend.subscribe(
                SubscribeRequest(
                    session: session, identity: principal.identity, publisherID: publisher.participantID, offer: offer,
                    assignments: assignments
                )
            )
            let answer = SDPAnswerBuilder.subscribeAnswer(
                to: offer, local: result.transport, sessionID: UInt64.random(in: 1...UInt64(Int64.max)),
                assignments: assignments, streams: result.streams
            )
            return created(session: session, principal: principal, peer: peer, offer: offer, answer: answer)
        } catch {
            registry.cancel(identity: principal.identity, address: peer.address)
            return MediaHTTP.problem(error, cors: cors)
        }
    }

    /// Takes a session slot of the caller's identity and address; the refusal when a quota
    /// (`media.max_sessions_per_identity`, `media.max_sessions_per_ip`) or the node is full.
    private func reserve(principal: AccessTokens.Principal, peer: Peer) -> Response? {
        let cors = configuration.cors
        switch registry.reserve(identity: principal.identity, address: peer.address) {
        case .reserved:
            return nil
        case .nodeFull:
            return MediaHTTP.problem(.serviceUnavailable, code: "capacity", detail: "this node holds its maximum of sessions", cors: cors)
        case .identityFull(let limit):
            MediaLimits.rejected(.sessionsPerIdentity)
            return MediaHTTP.problem(
                .forbidden, code: MediaLimits.code,
                detail: "identity \(principal.identity.prefix(64)) holds its maximum of \(limit) media sessions (media.max_sessions_per_identity)",
                cors: cors)
        case .addressFull(let limit):
            MediaLimits.rejected(.sessionsPerIP)
            return MediaHTTP.problem(
                .forbidden, code: MediaLimits.code,
                detail: "this address holds its maximum of \(limit) media sessions (media.max_sessions_per_ip)", cors: cors)
        }
    }

    /// 201 Created with the answer, Location, ETag and ICE server Links (RFC 9725 §4.2, §4.6).
    private func created(
        session: MediaSessionID, principal: AccessTokens.Principal, peer: Peer, offer: NegotiatedOffer, answer: SessionDescription
    ) -> Response {
        let etag = "\"\(Self.makeID())\""
        let record = MediaSessionRegistry.Record(
            session: session, identity: principal.identity, etag: etag, remoteICEUfrag: offer.transport.iceUfrag,
            address: peer.address
        )
        registry.insert(record)  // in the slot reserve(principal:peer:) took
        var headers = HTTPFields()
        headers[.contentType] = MediaHTTP.sdpType
        headers[.location] = "/\(session.kind.rawValue)/\(session.room)/\(session.id)"
        headers[.eTag] = etag
        for entry in configuration.iceServers(principal.identity, configuration.now()) {
            for value in entry.linkHeaderValues { MediaHTTP.add(&headers, "Link", value) }
        }
        configuration.cors.apply(to: &headers)
        return Response(status: .created, headers: headers, body: .init(byteBuffer: ByteBuffer(string: answer.serialized)))
    }

    /// The session behind a resource URL, if the caller may act on it (same identity as its creator).
    private func owned(
        _ request: Request, kind: MediaSessionID.Kind, room: String, id: String, endpoint: Endpoint, peer: Peer, contentType: String?
    ) async -> Admission<(MediaSessionRegistry.Record, String)> {
        let cors = configuration.cors
        let grant: AccessTokens.Grant = kind == .whip ? .publish : .subscribe
        let admitted = await admit(request, room: room, grant: grant, endpoint: endpoint, peer: peer, contentType: contentType)
        guard case .success(let (principal, body)) = admitted else { return .failure(admitted.response) }
        guard let record = registry.record(kind: kind, room: room, id: id) else {
            return .failure(MediaHTTP.problem(.notFound, code: "session_not_found", detail: "no \(kind.rawValue) session \(id) in room \(room)", cors: cors))
        }
        guard record.identity == principal.identity else {
            return .failure(MediaHTTP.problem(.forbidden, code: AccessTokenError.Code.missingGrant.description, detail: "the session belongs to another identity", cors: cors))
        }
        return .success((record, body))
    }

    /// Trickle ICE (RFC 9725 §4.3.1, RFC 8840): candidates for the session; ICE restarts
    /// (`If-Match: *` or a new ufrag) are not supported and get 422.
    func patch(_ request: Request, kind: MediaSessionID.Kind, room: String, id: String, peer: Peer) async -> Response {
        let cors = configuration.cors
        let owned = await owned(request, kind: kind, room: room, id: id, endpoint: .patch, peer: peer, contentType: MediaHTTP.sdpFragmentType)
        guard case .success(let (record, body)) = owned else { return owned.response }
        if let match = request.headers[.ifMatch] {
            if match.trimmingSpaces == "*" {
                return MediaHTTP.problem(.unprocessableContent, code: "ice_restart_unsupported", detail: "ICE restarts are not supported; start a new session", cors: cors)
            }
            guard match.split(separator: ",").contains(where: { String($0).trimmingSpaces == record.etag }) else {
                return MediaHTTP.problem(.preconditionFailed, code: "etag_mismatch", detail: "If-Match does not name this session's ETag", cors: cors)
            }
        }
        let fragment: SDPFragment
        do {
            fragment = try SDPFragment(parsing: body)
        } catch {
            return MediaHTTP.problem(SDPNegotiationError(parsing: error), cors: cors)
        }
        if let ufrag = fragment.iceUfrag ?? fragment.media.lazy.compactMap(\.iceUfrag).first, ufrag != record.remoteICEUfrag {
            return MediaHTTP.problem(
                .unprocessableContent, code: "ice_restart_unsupported",
                detail: "ice-ufrag \(ufrag) does not match the session (ICE restarts are not supported)", cors: cors
            )
        }
        let endOfCandidates = fragment.attributes.contains(.endOfCandidates) || fragment.media.contains { $0.hasEndOfCandidates }
        do {
            try await backend.addRemoteCandidates(fragment.candidates.map(\.candidate), endOfCandidates: endOfCandidates, session: record.session)
        } catch {
            return MediaHTTP.problem(error, cors: cors)
        }
        var headers = HTTPFields()
        cors.apply(to: &headers)
        return Response(status: .noContent, headers: headers)
    }

    /// RFC 9725 §4.4: DELETE ends the session; the publisher leaves.
    func delete(_ request: Request, kind: MediaSessionID.Kind, room: String, id: String, peer: Peer) async -> Response {
        let owned = await owned(request, kind: kind, room: room, id: id, endpoint: .delete, peer: peer, contentType: nil)
        guard case .success(let (record, _)) = owned else { return owned.response }
        if registry.remove(id: record.session.id) != nil { await backend.close(record.session) }
        var headers = HTTPFields()
        configuration.cors.apply(to: &headers)
        return Response(status: .ok, headers: headers)
    }
}

/// The outcome of the checks before a handler's work: go on with a value, or answer now.
enum Admission<Value> {
    case success(Value)
    case failure(Response)

    /// The refusal (callers check `.success` first).
    var response: Response {
        switch self {
        case .failure(let response): return response
        case .success: return Response(status: .internalServerError)
        }
    }
}

extension String {
    fileprivate var trimmingSpaces: String {
        String(drop { $0 == " " }.reversed().drop { $0 == " " }.reversed())
    }
}
