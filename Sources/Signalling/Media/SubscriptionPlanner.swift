import SFUWire

/// A track a publisher sends into the room, as the backend describes it to a new subscriber.
public struct PublishedTrack: Hashable, Sendable {
    /// Stable id of the track (the `a=msid` track id the subscriber will see).
    public var trackID: String
    /// The `a=msid` stream id (usually the publisher's participant id).
    public var streamID: String
    public var kind: MediaKind
    /// The publisher's negotiated codecs for this track (primary first, RED after it for audio).
    public var codecs: [NegotiatedCodec]

    public init(trackID: String, streamID: String, kind: MediaKind, codecs: [NegotiatedCodec]) {
        self.trackID = trackID
        self.streamID = streamID
        self.kind = kind
        self.codecs = codecs
    }

    /// The tracks of a negotiated publish offer, one per accepted m-section, named after
    /// `participantID` and the section's mid.
    public static func tracks(of offer: NegotiatedOffer, participantID: String) -> [PublishedTrack] {
        offer.sections.map { section in
            PublishedTrack(
                trackID: "\(participantID)-\(section.mid)", streamID: participantID, kind: section.kind,
                codecs: section.codecs
            )
        }
    }
}

/// A publisher's track placed in one of the subscriber's m-sections, with the subscriber's
/// payload types (SPEC §3.2: payload types are remapped per subscriber).
public struct TrackAssignment: Hashable, Sendable {
    /// The subscriber's mid that carries the track.
    public var mid: String
    public var track: PublishedTrack
    /// The codecs to send, with the subscriber's payload types and RTX payload type (primary first).
    public var codecs: [NegotiatedCodec]
    /// Header extensions with the subscriber's ids.
    public var headerExtensions: [NegotiatedHeaderExtension]

    public init(mid: String, track: PublishedTrack, codecs: [NegotiatedCodec], headerExtensions: [NegotiatedHeaderExtension]) {
        self.mid = mid
        self.track = track
        self.codecs = codecs
        self.headerExtensions = headerExtensions
    }

    public var primaryCodec: NegotiatedCodec? { codecs.first { !$0.isRED } }
}

/// What the SFU sends in one subscriber m-section: announced in the answer as `a=ssrc` lines with
/// `cname` and `msid` (RFC 5576 §4.1, RFC 8830), and `a=ssrc-group:FID` for RTX (RFC 4588 §8.7).
/// Receivers such as aiortc drop packets from SSRCs the answer did not announce.
public struct OutgoingStream: Hashable, Sendable {
    public var mid: String
    public var ssrc: UInt32
    public var rtxSSRC: UInt32?
    public var cname: String

    public init(mid: String, ssrc: UInt32, rtxSSRC: UInt32? = nil, cname: String) {
        self.mid = mid
        self.ssrc = ssrc
        self.rtxSSRC = rtxSSRC
        self.cname = cname
    }
}

/// Places published tracks into a subscriber's offer. Pure.
public enum SubscriptionPlanner {
    /// Each track goes to the first unused subscriber m-section of its kind that can receive its
    /// primary codec (same name, clock, channels, H.264 profile). RED rides along when both sides
    /// negotiated it. Tracks that fit nowhere are left out (the subscriber offered too few sections
    /// or lacks the codec).
    public static func assign(_ tracks: [PublishedTrack], to offer: NegotiatedOffer) -> [TrackAssignment] {
        var used: Set<String> = []
        var assignments: [TrackAssignment] = []
        for track in tracks {
            guard let primary = track.codecs.first(where: { !$0.isRED }) else { continue }
            for section in offer.sections where section.kind == track.kind && !used.contains(section.mid) {
                guard let receiving = section.codecs.first(where: { !$0.isRED && $0.isSameCodec(as: primary) }) else {
                    continue
                }
                var codecs = [receiving]
                if track.codecs.contains(where: \.isRED), let red = section.codecs.first(where: \.isRED) {
                    var red = red
                    // RFC 2198 fmtp lists the redundant payload type: rewrite to the subscriber's.
                    red.parameters = "\(receiving.payloadType)/\(receiving.payloadType)"
                    codecs.append(red)
                }
                used.insert(section.mid)
                assignments.append(
                    TrackAssignment(mid: section.mid, track: track, codecs: codecs, headerExtensions: section.headerExtensions)
                )
                break
            }
        }
        return assignments
    }
}
