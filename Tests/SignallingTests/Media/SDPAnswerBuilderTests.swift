import SFUWire
import Signalling
import Testing

@Suite struct SDPAnswerBuilderTests {
    /// Builds the WHIP answer to `fixture` and parses it back with SFUWire.
    func publishAnswer(_ fixture: String) throws -> (NegotiatedOffer, SessionDescription) {
        let offer = try SDPNegotiator.negotiate(offer: try Fixtures.sdp(fixture), purpose: .publish)
        let answer = SDPAnswerBuilder.publishAnswer(to: offer, local: Fixtures.local, sessionID: 42)
        return (offer, try SessionDescription(parsing: answer.serialized))
    }

    @Test func aiortcPublishAnswerCarriesExactlyTheAgreedMedia() throws {
        let (_, answer) = try publishAnswer("aiortc-whip-offer.sdp")
        #expect(answer.isICELite)
        #expect(answer.bundleMids == ["0", "1"])
        #expect(answer.origin.sessionID == "42")
        #expect(answer.media.map(\.mid) == ["0", "1"])
        let video = answer.media[0]
        #expect(video.media == "video")
        #expect(video.port == 50000)
        #expect(video.direction == .recvonly)
        #expect(video.formats == ["97", "98"])
        #expect(video.rtpmaps == [
            SDPRtpmap(payloadType: 97, encodingName: "VP8", clockRate: 90000),
            SDPRtpmap(payloadType: 98, encodingName: "rtx", clockRate: 90000),
        ])
        #expect(video.fmtps == [SDPFmtp(format: "98", parameters: "apt=97")])
        #expect(video.rtcpFeedback.map(\.sdpValue) == ["97 nack", "97 nack pli", "97 goog-remb"])
        #expect(video.extmaps.map(\.sdpValue) == [
            "1 urn:ietf:params:rtp-hdrext:sdes:mid", "3 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time",
        ])
        #expect(video.ssrcs.isEmpty)
        #expect(video.isRTCPMux)
        #expect(video.iceUfrag == "sfuU")
        #expect(video.icePwd == "sfupasswordsfupassword")
        #expect(video.setup == .passive)
        #expect(video.fingerprints == Fixtures.local.fingerprints)
        #expect(video.candidates == Fixtures.local.candidates)
        #expect(video.hasEndOfCandidates)
        let audio = answer.media[1]
        #expect(audio.formats == ["96"])
        #expect(audio.rtpmaps == [SDPRtpmap(payloadType: 96, encodingName: "opus", clockRate: 48000, channels: 2)])
        #expect(audio.extmaps.map(\.id) == [1, 2])
    }

    @Test func chromeAnswerEchoesREDSimulcastAndRsize() throws {
        let (_, answer) = try publishAnswer("chrome-offer.sdp")
        #expect(answer.attributes.contains(.extmapAllowMixed))
        let audio = answer.media[0]
        #expect(audio.formats == ["111", "63"])
        #expect(audio.fmtp(payloadType: 63)?.parameters == "111/111")
        #expect(audio.fmtp(payloadType: 111)?.parameters == "minptime=10;useinbandfec=1")
        #expect(audio.attributes.contains(.rtcpRsize))
        let video = answer.media[1]
        #expect(video.formats == ["96", "97"])
        #expect(video.rids.map(\.sdpValue) == ["q recv", "h recv", "f recv"])
        #expect(video.simulcast?.sdpValue == "recv q;h;f")
        #expect(answer.media[2].formats == ["102", "103"])
        #expect(answer.media[2].fmtp(payloadType: 102)?.parameter("profile-level-id") == "42e01f")
    }

    @Test func rejectedSectionsHavePortZeroAndLeaveTheBundle() throws {
        let text = Fixtures.minimalOffer { lines in
            lines[4] = "a=group:BUNDLE 0 1 2"
            lines += ["m=application 9 UDP/DTLS/SCTP webrtc-datachannel", "c=IN IP4 0.0.0.0", "a=mid:2"]
        }
        let offer = try SDPNegotiator.negotiate(offer: text, purpose: .publish)
        let answer = try SessionDescription(
            parsing: SDPAnswerBuilder.publishAnswer(to: offer, local: Fixtures.local, sessionID: 1).serialized
        )
        #expect(answer.media.count == 3)
        #expect(answer.bundleMids == ["0", "1"])
        #expect(answer.media[2].isRejected)
        #expect(answer.media[2].mid == "2")
        #expect(answer.media[2].formats == ["webrtc-datachannel"])
        #expect(answer.media[2].candidates.isEmpty)
    }

    @Test func whepAnswerAnnouncesSFUSSRCsWithSubscriberPayloadTypes() throws {
        let publish = try SDPNegotiator.negotiate(offer: try Fixtures.sdp("aiortc-whip-offer.sdp"), purpose: .publish)
        let tracks = PublishedTrack.tracks(of: publish, participantID: "pub1")
        #expect(tracks.map(\.trackID) == ["pub1-0", "pub1-1"])
        var subscriberText = try Fixtures.sdp("aiortc-whep-offer.sdp")
        // Renumber the subscriber's VP8 to 120 / rtx 121 to prove the answer uses its payload types.
        subscriberText = subscriberText.replacingOccurrences(of: " 97 98 99", with: " 120 121 99")
            .replacingOccurrences(of: ":97 ", with: ":120 ").replacingOccurrences(of: ":98 ", with: ":121 ")
            .replacingOccurrences(of: "apt=97", with: "apt=120")
        let subscribe = try SDPNegotiator.negotiate(offer: subscriberText, purpose: .subscribe)
        let assignments = SubscriptionPlanner.assign(tracks, to: subscribe)
        #expect(assignments.map(\.mid) == ["0", "1"])
        #expect(assignments[0].codecs.map(\.payloadType) == [120])
        #expect(assignments[0].codecs[0].rtxPayloadType == 121)
        let streams = [
            OutgoingStream(mid: "0", ssrc: 1111, rtxSSRC: 2222, cname: "sfu"),
            OutgoingStream(mid: "1", ssrc: 3333, cname: "sfu"),
        ]
        let answer = try SessionDescription(
            parsing: SDPAnswerBuilder.subscribeAnswer(
                to: subscribe, local: Fixtures.local, sessionID: 7, assignments: assignments, streams: streams
            ).serialized
        )
        let video = answer.media[0]
        #expect(video.direction == .sendonly)
        #expect(video.formats == ["120", "121"])
        #expect(video.fmtp(payloadType: 121)?.parameters == "apt=120")
        #expect(video.msid == SDPMsid(streamID: "pub1", trackID: "pub1-0"))
        #expect(video.ssrcGroups == [SDPSsrcGroup(semantics: "FID", ssrcs: [1111, 2222])])
        #expect(video.ssrcs.map(\.sdpValue) == [
            "1111 cname:sfu", "1111 msid:pub1 pub1-0", "2222 cname:sfu", "2222 msid:pub1 pub1-0",
        ])
        let audio = answer.media[1]
        #expect(audio.direction == .sendonly)
        #expect(audio.formats == ["96"])
        #expect(audio.ssrcs.map(\.ssrc) == [3333, 3333])
    }

    @Test func whepSectionWithoutTrackIsInactive() throws {
        let subscribe = try SDPNegotiator.negotiate(offer: try Fixtures.sdp("aiortc-whep-offer.sdp"), purpose: .subscribe)
        let audioOnly = PublishedTrack(
            trackID: "a", streamID: "p", kind: .audio,
            codecs: [NegotiatedCodec(payloadType: 111, name: "opus", clockRate: 48000, channels: 2)]
        )
        let assignments = SubscriptionPlanner.assign([audioOnly], to: subscribe)
        #expect(assignments.map(\.mid) == ["1"])
        let answer = SDPAnswerBuilder.subscribeAnswer(
            to: subscribe, local: Fixtures.local, sessionID: 7, assignments: assignments,
            streams: [OutgoingStream(mid: "1", ssrc: 5, cname: "x")]
        )
        #expect(answer.media[0].direction == .inactive)
        #expect(answer.media[0].ssrcs.isEmpty)
        #expect(answer.media[0].formats == ["97", "98"])
        #expect(answer.media[1].direction == .sendonly)
    }

    @Test func h264TrackNeedsTheSameProfile() throws {
        let subscribe = try SDPNegotiator.negotiate(offer: try Fixtures.sdp("aiortc-whep-offer.sdp"), purpose: .subscribe)
        let high = PublishedTrack(
            trackID: "v", streamID: "p", kind: .video,
            codecs: [NegotiatedCodec(payloadType: 100, name: "H264", clockRate: 90000, h264Profile: .high)]
        )
        #expect(SubscriptionPlanner.assign([high], to: subscribe).isEmpty)
        let baseline = PublishedTrack(
            trackID: "v", streamID: "p", kind: .video,
            codecs: [NegotiatedCodec(payloadType: 100, name: "H264", clockRate: 90000, h264Profile: .baseline)]
        )
        #expect(SubscriptionPlanner.assign([baseline], to: subscribe).first?.codecs.first?.payloadType == 99)
    }
}

@Suite struct CodecIdentityTests {
    @Test func vp9AndAV1ProfilesAreDistinctCodecs() {
        let vp9p0 = NegotiatedCodec(payloadType: 98, name: "VP9", clockRate: 90000, parameters: "profile-id=0")
        let vp9p2 = NegotiatedCodec(payloadType: 100, name: "VP9", clockRate: 90000, parameters: "profile-id=2")
        let vp9Default = NegotiatedCodec(payloadType: 101, name: "vp9", clockRate: 90000)
        #expect(!vp9p0.isSameCodec(as: vp9p2))
        #expect(vp9p0.isSameCodec(as: vp9Default))
        let av1 = NegotiatedCodec(payloadType: 45, name: "AV1", clockRate: 90000, parameters: "level-idx=5;profile=0;tier=0")
        let av1High = NegotiatedCodec(payloadType: 46, name: "AV1", clockRate: 90000, parameters: "profile=1")
        #expect(!av1.isSameCodec(as: av1High))
        let opus = NegotiatedCodec(payloadType: 111, name: "opus", clockRate: 48000, channels: 2, parameters: "useinbandfec=1")
        #expect(opus.isSameCodec(as: NegotiatedCodec(payloadType: 96, name: "OPUS", clockRate: 48000, channels: 2)))
    }
}
