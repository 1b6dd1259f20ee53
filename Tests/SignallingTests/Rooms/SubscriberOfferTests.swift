import SFUWire
import Testing

@testable import Signalling

@Suite struct SubscriberOfferTests {
    let local = LocalTransportDescription(
        iceUfrag: "srvU", icePwd: "serverpassword0123456789",
        candidates: [try! SDPCandidate(parsing: "candidate:1 1 UDP 2130706431 127.0.0.1 50000 typ host")],
        fingerprints: [SDPFingerprint(algorithm: "sha-256", value: "AB:CD")])

    func section(_ mid: String, _ kind: MediaKind, codec: NegotiatedCodec, active: Bool = true) -> SubscriberSection {
        SubscriberSection(
            mid: mid, kind: kind, trackID: "pub-\(mid)", participantID: "P1", codec: codec, headerExtensions: [],
            stream: active ? OutgoingStream(mid: mid, ssrc: 1000 + (UInt32(mid) ?? 0), rtxSSRC: 2000, cname: "c") : nil,
            active: active)
    }

    @Test func payloadTypesAreStablePerCodecAndUniqueAcrossTheBundle() {
        var table = PayloadTypeTable()
        let vp8 = NegotiatedCodec(payloadType: 120, name: "VP8", clockRate: 90_000, rtxPayloadType: 121)
        let opus = NegotiatedCodec(payloadType: 111, name: "opus", clockRate: 48_000, channels: 2)
        let first = table.map(vp8)
        let audio = table.map(opus)
        let again = table.map(NegotiatedCodec(payloadType: 96, name: "vp8", clockRate: 90_000, rtxPayloadType: 97))
        #expect(first?.payloadType == 96 && first?.rtxPayloadType == 97)
        #expect(audio?.payloadType == 98 && audio?.rtxPayloadType == nil)
        #expect(again?.payloadType == first?.payloadType && again?.rtxPayloadType == first?.rtxPayloadType)
    }

    @Test func offerIsICELiteActpassSendonlyAndEndedTracksStayInactive() throws {
        let vp8 = NegotiatedCodec(payloadType: 96, name: "VP8", clockRate: 90_000, feedback: [.init("nack")], rtxPayloadType: 97)
        let opus = NegotiatedCodec(payloadType: 98, name: "opus", clockRate: 48_000, channels: 2)
        let offer = SubscriberOfferBuilder.offer(
            local: local, sections: [section("0", .audio, codec: opus), section("1", .video, codec: vp8, active: false)],
            sessionID: 7, version: 3)
        let parsed = try SessionDescription(parsing: offer.serialized)
        #expect(parsed.isICELite)
        #expect(parsed.bundleMids == ["0", "1"])
        #expect(parsed.origin.sessionVersion == 3)
        #expect(parsed.media.map(\.direction) == [.sendonly, .inactive])
        #expect(parsed.media.allSatisfy { $0.setup == .actpass && $0.iceUfrag == "srvU" })
        #expect(parsed.media[0].attributes.contains(.ssrc(SDPSsrc(ssrc: 1000, attribute: "cname", value: "c"))))
        #expect(!parsed.media[1].attributes.contains { if case .ssrc = $0 { true } else { false } })
        #expect(parsed.media[1].formats == ["96", "97"])
    }

    @Test func roomMessagesAreJSONWithTypeFirst() {
        let text = RoomServerMessage.error(code: "bad_message", message: "quote \" and\nnewline").json
        #expect(text == #"{"type":"error","code":"bad_message","message":"quote \" and\nnewline"}"#)
    }

    @Test func simulcastTracksListTheirLayersAndQualityRepliesEchoTheRequest() {
        let track = RoomTrackInfo(trackID: "P1-pub1-1", kind: "video", muted: false, layers: ["q", "f"])
        #expect(RoomServerMessage.trackPublished(participantID: "P1", track: track).json
            == #"{"type":"track_published","participant_id":"P1","track":{"kind":"video","layers":["q","f"],"muted":false,"track_id":"P1-pub1-1"}}"#)
        let audio = RoomTrackInfo(trackID: "P1-pub1-0", kind: "audio", muted: false)
        #expect(!RoomServerMessage.trackPublished(participantID: "P1", track: audio).json.contains("layers"))
        #expect(RoomServerMessage.qualitySet(trackID: "T", preference: .maxSize(width: 640, height: 360), layers: ["q", "f"]).json
            == #"{"type":"quality_set","layers":["q","f"],"max_height":360,"max_width":640,"track_id":"T"}"#)
    }

    @Test func queryItemsDecodeFormEncoding() {
        let items = RoomRoutes.queryItems("/rtc?access_token=a.b.c&name=Ada+L%C3%B6we&room=r1")
        #expect(items == ["access_token": "a.b.c", "name": "Ada Löwe", "room": "r1"])
    }
}
