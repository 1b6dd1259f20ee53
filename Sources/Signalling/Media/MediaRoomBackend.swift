import SFUWire

/// Identifies one WHIP or WHEP session: the resource behind `Location: /whip/{room}/{id}`.
/// For a publisher the id is also its participant id (what `/whep/{room}/{participant}` names).
public struct MediaSessionID: Hashable, Sendable, CustomStringConvertible {
    public enum Kind: String, Hashable, Sendable { case whip, whep }

    public var kind: Kind
    public var room: String
    public var id: String

    public init(kind: Kind, room: String, id: String) {
        self.kind = kind
        self.room = room
        self.id = id
    }

    public var description: String { "\(kind.rawValue)/\(room)/\(id)" }
}

/// A publish request handed to the backend once the offer negotiated.
public struct PublishRequest: Sendable {
    public var session: MediaSessionID
    /// The token's `sub` (or `anonymous`).
    public var identity: String
    public var offer: NegotiatedOffer

    public init(session: MediaSessionID, identity: String, offer: NegotiatedOffer) {
        self.session = session
        self.identity = identity
        self.offer = offer
    }
}

/// A subscribe request: the subscriber's negotiated offer and where the publisher's tracks go.
public struct SubscribeRequest: Sendable {
    public var session: MediaSessionID
    public var identity: String
    /// The participant id of the publisher being watched.
    public var publisherID: String
    public var offer: NegotiatedOffer
    /// One entry per subscriber m-section that will carry a track (from ``SubscriptionPlanner``).
    public var assignments: [TrackAssignment]

    public init(
        session: MediaSessionID, identity: String, publisherID: String, offer: NegotiatedOffer, assignments: [TrackAssignment]
    ) {
        self.session = session
        self.identity = identity
        self.publisherID = publisherID
        self.offer = offer
        self.assignments = assignments
    }
}

/// A publisher and its tracks, as a subscriber sees them.
public struct PublisherDescription: Hashable, Sendable {
    public var participantID: String
    public var tracks: [PublishedTrack]

    public init(participantID: String, tracks: [PublishedTrack]) {
        self.participantID = participantID
        self.tracks = tracks
    }
}

/// The backend's answer to a subscribe: its transport and the SSRCs it will send per mid.
public struct SubscribeResult: Sendable {
    public var transport: LocalTransportDescription
    public var streams: [OutgoingStream]

    public init(transport: LocalTransportDescription, streams: [OutgoingStream]) {
        self.transport = transport
        self.streams = streams
    }
}

/// Why the backend refused; mapped to HTTP by ``MediaRoutes``.
public struct MediaBackendError: Error, Hashable, Sendable, CustomStringConvertible {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        public let description: String
        private init(_ text: String) { description = text }

        /// 404 `room_not_found`.
        public static let roomNotFound = Code("room_not_found")
        /// 404 `publisher_not_found`: no publisher in the room, or not the named one.
        public static let publisherNotFound = Code("publisher_not_found")
        /// 404 `session_not_found`: the WHIP/WHEP resource is gone.
        public static let sessionNotFound = Code("session_not_found")
        /// 503 `capacity`: the node cannot take more sessions.
        public static let capacity = Code("capacity")
        /// 400 `media_rejected`: the backend cannot use the negotiated parameters.
        public static let rejected = Code("media_rejected")
        /// 403 `limit_exceeded`: a resource limit of the node (the media worker's retransmission
        /// budget) is reached.
        public static let limitExceeded = Code("limit_exceeded")
        /// 500 `internal`.
        public static let internalError = Code("internal")
        /// 307 with `Location`: the room lives on another node (SPEC §8).
        public static let redirect = Code("redirect")
    }

    public var code: Code
    public var detail: String
    /// For ``Code/redirect``: the absolute URL of the same endpoint on the owning node.
    public var location: String?

    public init(_ code: Code, detail: String) {
        self.code = code
        self.detail = detail
    }

    /// Redirects the client to `location` (the same WHIP/WHEP URL on the room's node, SPEC §8).
    public static func redirect(to location: String) -> MediaBackendError {
        var error = MediaBackendError(.redirect, detail: "the room is served by another node")
        error.location = location
        return error
    }

    public var description: String { "MediaBackendError(\(code): \(detail))" }
}

/// What Signalling needs from the SFU engine. The integrator implements it with `Room`/`Router`
/// (`createWebRTCTransport`, `produce`, `consume`): Signalling never sees RTP, the engine never
/// sees SDP (STYLE §1). Every method is called from the HTTP control plane, never per packet.
public protocol MediaRoomBackend: Sendable {
    /// Creates a WebRTC transport for the publisher (remote ICE credentials and fingerprints are in
    /// `request.offer.transport`; the SFU's DTLS role is `request.offer.localDTLSRole`) and a
    /// producer per accepted section of `request.offer.sections`. Returns the SFU's transport for
    /// the answer. The publisher becomes the room's most recent publisher.
    func publish(_ request: PublishRequest) async throws(MediaBackendError) -> LocalTransportDescription

    /// The publisher `participantID`, or the room's most recent publisher when `nil`.
    func publisher(room: String, participantID: String?) async throws(MediaBackendError) -> PublisherDescription

    /// Creates the subscriber's transport and a consumer per assignment, sending with the
    /// assignment's payload types and header extension ids; returns the SSRCs it will use.
    func subscribe(_ request: SubscribeRequest) async throws(MediaBackendError) -> SubscribeResult

    /// Trickled remote candidates (RFC 8840) for a session; an ICE-lite SFU may ignore them.
    func addRemoteCandidates(_ candidates: [SDPCandidate], endOfCandidates: Bool, session: MediaSessionID) async throws(MediaBackendError)

    /// Ends the session: the publisher leaves (its producers close, subscribers are told) or the
    /// subscriber's consumers close. Idempotent.
    func close(_ session: MediaSessionID) async
}
