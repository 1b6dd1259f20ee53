import SFUWire
import Signalling
import Testing

@Suite struct SDPNegotiatorTests {
    typealias Feedback = MediaCapabilities.FeedbackType

    @Test func aiortcWHIPOfferNegotiatesVP8AndOpus() throws {
        let offer = try SDPNegotiator.negotiate(offer: try Fixtures.sdp("aiortc-whip-offer.sdp"), purpose: .publish)
        #expect(offer.sections.map(\.mid) == ["0", "1"])
        #expect(offer.rejected.isEmpty)
        let video = try #require(offer.section(mid: "0"))
        #expect(video.kind == .video)
        #expect(video.codecs.map(\.payloadType) == [97])
        #expect(video.codecs[0].name == "VP8")
        #expect(video.codecs[0].rtxPayloadType == 98)
        #expect(video.codecs[0].feedback == [Feedback("nack"), Feedback("nack", "pli"), Feedback("goog-remb")])
        #expect(video.headerExtensions == [
            NegotiatedHeaderExtension(id: 1, uri: RTPHeaderExtensionURI.mid),
            NegotiatedHeaderExtension(id: 3, uri: RTPHeaderExtensionURI.absSendTime),
        ])
        #expect(video.encodings == [NegotiatedEncoding(ssrc: 1_989_388_092, rtxSSRC: 3_517_018_959)])
        #expect(video.cname == "d242823c-d1ae-44b9-9773-a400c1bca242")
        let audio = try #require(offer.section(mid: "1"))
        #expect(audio.codecs.map(\.name) == ["opus"])
        #expect(audio.codecs[0].payloadType == 96)
        #expect(audio.headerExtensions.map(\.uri) == [RTPHeaderExtensionURI.mid, RTPHeaderExtensionURI.audioLevel])
        #expect(audio.encodings == [NegotiatedEncoding(ssrc: 3_291_490_201)])
        #expect(offer.transport.iceUfrag == "Wxw3")
        #expect(offer.transport.icePwd == "dPkNtMAG0GhHPGsx6yE3WW")
        #expect(offer.transport.fingerprints.map(\.algorithm) == ["sha-256", "sha-384", "sha-512"])
        #expect(offer.transport.setup == .actpass)
        #expect(offer.localDTLSRole == .server)
        #expect(offer.transport.candidates.count == 2)
        #expect(offer.transport.endOfCandidates)
    }

    @Test func h264IsChosenWithConstrainedBaselineFirst() throws {
        let capabilities = MediaCapabilities(codecs: [.opus, .h264])
        let offer = try SDPNegotiator.negotiate(
            offer: try Fixtures.sdp("aiortc-whip-offer.sdp"), purpose: .publish, capabilities: capabilities
        )
        let video = try #require(offer.section(mid: "0"))
        // 101 is 42e01f (Constrained Baseline), preferred over 99 (42001f, Baseline).
        #expect(video.codecs.map(\.payloadType) == [101])
        #expect(video.codecs[0].h264Profile == .constrainedBaseline)
        #expect(video.codecs[0].rtxPayloadType == 102)
        #expect(video.codecs[0].parameters == "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f")
    }

    @Test func chromeOfferKeepsREDSimulcastAndH264() throws {
        let offer = try SDPNegotiator.negotiate(offer: try Fixtures.sdp("chrome-offer.sdp"), purpose: .publish)
        #expect(offer.extmapAllowMixed)
        let audio = try #require(offer.section(mid: "0"))
        #expect(audio.codecs.map(\.payloadType) == [111, 63])
        #expect(audio.codecs[1].isRED)
        #expect(audio.codecs[0].feedback == [Feedback("transport-cc")])
        #expect(audio.headerExtensions.map(\.id) == [1, 2, 3, 4])
        #expect(audio.rtcpReducedSize)
        let simulcast = try #require(offer.section(mid: "1"))
        #expect(simulcast.codecs.map(\.payloadType) == [96])
        #expect(simulcast.codecs[0].rtxPayloadType == 97)
        #expect(simulcast.codecs[0].feedback == [
            Feedback("goog-remb"), Feedback("transport-cc"), Feedback("ccm", "fir"), Feedback("nack"), Feedback("nack", "pli"),
        ])
        #expect(simulcast.encodings.map(\.rid) == ["q", "h", "f"])
        #expect(simulcast.headerExtensions.map(\.uri) == [
            RTPHeaderExtensionURI.absSendTime, RTPHeaderExtensionURI.transportWideCC, RTPHeaderExtensionURI.mid,
            RTPHeaderExtensionURI.rtpStreamID, RTPHeaderExtensionURI.repairedRTPStreamID,
        ])
        let h264 = try #require(offer.section(mid: "2"))
        #expect(h264.codecs.map(\.payloadType) == [102])
        #expect(h264.encodings == [NegotiatedEncoding(ssrc: 2_882_400_001, rtxSSRC: 2_882_400_002)])
        #expect(h264.msid?.trackID == "33d91808-6edd-47d8-a6e6-1127e26b524a")
    }

    @Test func firefoxSendrecvOfferIsAccepted() throws {
        let offer = try SDPNegotiator.negotiate(offer: try Fixtures.sdp("firefox-offer.sdp"), purpose: .publish)
        let audio = try #require(offer.section(mid: "0"))
        #expect(audio.codecs.map(\.payloadType) == [109])
        #expect(audio.headerExtensions.map(\.uri) == [RTPHeaderExtensionURI.audioLevel, RTPHeaderExtensionURI.mid])
        let video = try #require(offer.section(mid: "1"))
        #expect(video.codecs.map(\.payloadType) == [120])
        #expect(video.codecs[0].rtxPayloadType == 124)
        #expect(video.encodings == [NegotiatedEncoding(ssrc: 2_370_412_003, rtxSSRC: 4_105_321_777)])
        // Session-level fingerprint is used when the media level has none (RFC 8122 §5).
        #expect(offer.transport.fingerprints.count == 1)
        #expect(offer.transport.iceUfrag == "511070a7")
    }

    @Test func aiortcWHEPOfferListsEveryReceivableCodec() throws {
        let offer = try SDPNegotiator.negotiate(offer: try Fixtures.sdp("aiortc-whep-offer.sdp"), purpose: .subscribe)
        let video = try #require(offer.section(mid: "0"))
        #expect(video.direction == .recvonly)
        #expect(video.codecs.map(\.payloadType) == [97, 101, 99])
        #expect(video.encodings.isEmpty)
        #expect(try #require(offer.section(mid: "1")).codecs.map(\.name) == ["opus"])
    }

    @Test func publishOfferMustSend() throws {
        #expect(throws: SDPNegotiationError.self) {
            try SDPNegotiator.negotiate(offer: try Fixtures.sdp("aiortc-whep-offer.sdp"), purpose: .publish)
        }
        let error = try #require(throws: SDPNegotiationError.self) {
            try SDPNegotiator.negotiate(offer: try Fixtures.sdp("aiortc-whep-offer.sdp"), purpose: .publish)
        }
        #expect(error.code == .unsupported)
        #expect(error.reason.contains("recvonly"))
    }

    @Test func offerWithoutBundleIsRefused() throws {
        let text = Fixtures.minimalOffer { $0.removeAll { $0.hasPrefix("a=group") } }
        let error = try #require(throws: SDPNegotiationError.self) { try SDPNegotiator.negotiate(offer: text, purpose: .publish) }
        #expect(error.code == .unsupported)
        #expect(error.reason.contains("BUNDLE"))
    }

    @Test func offerWithoutRTCPMuxIsRefused() throws {
        let text = Fixtures.minimalOffer { lines in
            if let index = lines.lastIndex(of: "a=rtcp-mux") { lines.remove(at: index) }
        }
        let error = try #require(throws: SDPNegotiationError.self) { try SDPNegotiator.negotiate(offer: text, purpose: .publish) }
        #expect(error.code == .unsupported)
        #expect(error.reason.contains("rtcp-mux"))
    }

    @Test func malformedSDPReportsTheLine() throws {
        let text = Fixtures.minimalOffer { $0[14] = "a=rtpmap:111 opus" }
        let error = try #require(throws: SDPNegotiationError.self) { try SDPNegotiator.negotiate(offer: text, purpose: .publish) }
        #expect(error.code == .badSDP)
        #expect(error.line == 15)
        #expect(error.detail.hasPrefix("line 15:"))
    }

    @Test func missingICECredentialsOrFingerprintAreBadSDP() throws {
        let noICE = Fixtures.minimalOffer { $0.removeAll { $0.hasPrefix("a=ice-") } }
        let iceError = try #require(throws: SDPNegotiationError.self) { try SDPNegotiator.negotiate(offer: noICE, purpose: .publish) }
        #expect(iceError.code == .badSDP)
        let noFingerprint = Fixtures.minimalOffer { $0.removeAll { $0.hasPrefix("a=fingerprint") } }
        let dtlsError = try #require(throws: SDPNegotiationError.self) {
            try SDPNegotiator.negotiate(offer: noFingerprint, purpose: .publish)
        }
        #expect(dtlsError.reason.contains("fingerprint"))
        let shortPassword = Fixtures.minimalOffer { lines in lines = lines.map { $0.hasPrefix("a=ice-pwd") ? "a=ice-pwd:short" : $0 } }
        #expect(throws: SDPNegotiationError.self) { try SDPNegotiator.negotiate(offer: shortPassword, purpose: .publish) }
    }

    @Test func unsupportedSectionsAreRejectedOneByOne() throws {
        let text = Fixtures.minimalOffer { lines in
            lines[4] = "a=group:BUNDLE 0 1 2"
            lines += [
                "m=application 9 UDP/DTLS/SCTP webrtc-datachannel", "c=IN IP4 0.0.0.0", "a=mid:2", "a=sctp-port:5000",
            ]
            // Video offers only H.264 packetization-mode 0: no common codec.
            lines = lines.map { $0 == "a=rtpmap:96 VP8/90000" ? "a=rtpmap:96 H264/90000" : $0 }
        }
        let offer = try SDPNegotiator.negotiate(offer: text, purpose: .publish)
        #expect(offer.sections.map(\.mid) == ["0"])
        #expect(offer.rejected.map(\.mid) == ["1", "2"])
        #expect(offer.rejected[0].reason.contains("no common codec"))
        #expect(offer.rejected[1].reason.contains("application"))
    }

    @Test func dtlsRoleFollowsTheOffer() throws {
        let active = try SDPNegotiator.negotiate(
            offer: Fixtures.minimalOffer { $0 = $0.map { $0 == "a=setup:actpass" ? "a=setup:active" : $0 } }, purpose: .publish
        )
        #expect(active.localDTLSRole == .server)
        let passive = try SDPNegotiator.negotiate(
            offer: Fixtures.minimalOffer { $0 = $0.map { $0 == "a=setup:actpass" ? "a=setup:passive" : $0 } }, purpose: .publish
        )
        #expect(passive.localDTLSRole == .client)
        #expect(throws: SDPNegotiationError.self) {
            try SDPNegotiator.negotiate(
                offer: Fixtures.minimalOffer { $0 = $0.map { $0 == "a=setup:actpass" ? "a=setup:holdconn" : $0 } }, purpose: .publish
            )
        }
    }

    @Test func simulcastWithoutRidExtensionIsRejected() throws {
        let text = Fixtures.minimalOffer { lines in
            lines.removeAll { $0.hasPrefix("a=ssrc") }
            lines += ["a=rid:l send", "a=rid:h send", "a=simulcast:send l;h"]
        }
        let offer = try SDPNegotiator.negotiate(offer: text, purpose: .publish)
        #expect(offer.rejected.first?.reason.contains("rtp-stream-id") == true)
    }

    @Test func h264Profiles() {
        #expect(H264Profile(profileLevelID: "42e01f") == .constrainedBaseline)
        #expect(H264Profile(profileLevelID: "42001f") == .baseline)
        #expect(H264Profile(profileLevelID: "4d001f") == .main)
        #expect(H264Profile(profileLevelID: "4d801f") == .constrainedBaseline)
        #expect(H264Profile(profileLevelID: "640c1f") == .constrainedHigh)
        #expect(H264Profile(profileLevelID: "640032") == .high)
        #expect(H264Profile(profileLevelID: "f4001f") == nil)
        #expect(H264Profile(profileLevelID: "42e0") == nil)
        #expect(H264Profile(profileLevelID: "zzzzzz") == nil)
    }
}

@Suite struct SDPNegotiatorEdgeTests {
    @Test func offererDisabledSectionWithoutMidIsRejectedNotAnError() throws {
        let text = Fixtures.minimalOffer { lines in lines += ["m=video 0 UDP/TLS/RTP/SAVPF 96", "c=IN IP4 0.0.0.0", "a=rtpmap:96 VP8/90000"] }
        let offer = try SDPNegotiator.negotiate(offer: text, purpose: .publish)
        #expect(offer.sections.map(\.mid) == ["0", "1"])
        #expect(offer.rejected == [RejectedMediaSection(index: 2, mid: nil, reason: "disabled by the offerer (port 0)")])
        let answer = SDPAnswerBuilder.publishAnswer(to: offer, local: Fixtures.local, sessionID: 3)
        #expect(answer.media.count == 3)
        #expect(answer.media[2].port == 0)
    }

    @Test func bundleOnlySectionIsLive() throws {
        let text = Fixtures.minimalOffer { lines in
            lines = lines.map { $0 == "m=video 9 UDP/TLS/RTP/SAVPF 96 97" ? "m=video 0 UDP/TLS/RTP/SAVPF 96 97" : $0 }
            lines.insert("a=bundle-only", at: lines.firstIndex(of: "a=mid:1") ?? lines.count)
        }
        let offer = try SDPNegotiator.negotiate(offer: text, purpose: .publish)
        #expect(offer.sections.map(\.mid) == ["0", "1"])
    }

    @Test func duplicateMidIsBadSDP() throws {
        let text = Fixtures.minimalOffer { lines in lines = lines.map { $0 == "a=mid:1" ? "a=mid:0" : $0 } }
        let error = try #require(throws: SDPNegotiationError.self) { try SDPNegotiator.negotiate(offer: text, purpose: .publish) }
        #expect(error.code == .badSDP)
    }

    @Test func randomMutationsNeverCrash() throws {
        // Bounded: 300 single-line mutations of a real offer, each must either negotiate or throw.
        let base = try Fixtures.sdp("chrome-offer.sdp").split(separator: "\r\n", omittingEmptySubsequences: false).map(String.init)
        var generator = SystemRandomNumberGenerator()
        let junk = ["a=rtpmap:", "m=video x", "a=fmtp:96", "a=ssrc-group:FID", "a=rid:", "a=simulcast:send ;;", "a=extmap:0 x", "", "a=setup:", "c=IN"]
        for _ in 0..<300 {
            var lines = base
            let index = Int.random(in: 0..<lines.count, using: &generator)
            lines[index] = junk.randomElement(using: &generator) ?? ""
            _ = try? SDPNegotiator.negotiate(offer: lines.joined(separator: "\r\n"), purpose: .publish)
            _ = try? SDPNegotiator.negotiate(offer: lines.joined(separator: "\r\n"), purpose: .subscribe)
        }
    }
}
