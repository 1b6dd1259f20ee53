import Testing
@testable import SFUWire

@Suite struct SessionDescriptionTests {
    static let fixtures = ["chrome-offer.sdp", "firefox-offer.sdp", "aiortc-offer.sdp"]

    @Test(arguments: fixtures)
    func fixtureRoundTripsExactly(name: String) throws {
        let text = try fixture(name)
        let crlf = text.replacingOccurrences(of: "\n", with: "\r\n")
        let fromLF = try SessionDescription(parsing: text)
        let fromCRLF = try SessionDescription(parsing: crlf)
        #expect(fromLF == fromCRLF)
        #expect(fromLF.serialized == crlf, "serialisation must reproduce every line, in order, with CRLF")
        #expect(try SessionDescription(parsing: fromLF.serialized) == fromLF)
    }

    @Test func chromeOfferIsUnderstood() throws {
        let offer = try SessionDescription(parsing: try fixture("chrome-offer.sdp"))
        #expect(offer.origin.sessionID == "4611731400430051336")
        #expect(offer.origin.sessionVersion == 2)
        #expect(offer.bundleMids == ["0", "1", "2"])
        #expect(offer.attributes.contains(.extmapAllowMixed))
        #expect(offer.otherAttributes(named: "msid-semantic").count == 1)
        #expect(offer.media.map(\.media) == ["audio", "video", "video"])

        let audio = offer.media[0]
        #expect(audio.mid == "0")
        #expect(audio.port == 9 && audio.proto == "UDP/TLS/RTP/SAVPF")
        #expect(audio.formats == ["111", "63", "9", "0", "8", "13", "110", "126"])
        #expect(audio.direction == .sendonly)
        #expect(audio.isRTCPMux)
        #expect(audio.iceUfrag?.count == 4)
        #expect(audio.icePwd?.count == 24)
        #expect(audio.iceOptions == ["trickle"])
        #expect(audio.setup == .actpass)
        #expect(audio.fingerprints.first?.algorithm == "sha-256")
        #expect(audio.fingerprints.first?.bytes?.count == 32)
        #expect(audio.rtpmap(payloadType: 111) == SDPRtpmap(payloadType: 111, encodingName: "opus", clockRate: 48000, channels: 2))
        #expect(audio.fmtp(payloadType: 111)?.parameter("useinbandfec") == "1")
        #expect(audio.extmaps.first { $0.uri.hasSuffix("transport-wide-cc-extensions-01") }?.id == 3)
        #expect(audio.ssrcs.first?.ssrc == 3_735_928_559)

        let candidates = audio.candidates
        #expect(candidates.count == 5)
        #expect(candidates.map(\.type) == [.host, .host, .host, .serverReflexive, .relay])
        #expect(candidates[1].address.hasSuffix(".local"))
        #expect(candidates[2].isTCP && candidates[2].tcpType == .active && candidates[2].port == 9)
        #expect(candidates[3].relatedAddress == "192.168.1.10" && candidates[3].relatedPort == 54321)
        #expect(candidates[0].extensions.map(\.name) == ["generation", "network-id", "network-cost"])

        let video = offer.media[1]
        #expect(video.rids.map(\.id) == ["q", "h", "f"])
        #expect(video.rids.allSatisfy { $0.direction == .send })
        #expect(video.simulcast == SDPSimulcast(send: [[.init(rid: "q")], [.init(rid: "h")], [.init(rid: "f")]]))
        #expect(video.extmaps.first { $0.uri == "urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id" }?.id == 10)
        #expect(video.fmtp(payloadType: 97)?.parameter("apt") == "96")
        #expect(video.rtcpFeedback.filter { $0.format == "96" }.count == 5)
        #expect(video.candidates.isEmpty)

        let screen = offer.media[2]
        #expect(screen.ssrcGroups == [SDPSsrcGroup(semantics: "FID", ssrcs: [2_882_400_001, 2_882_400_002])])
        #expect(screen.msid?.trackID != nil)
        #expect(offer.media(mid: "2") == screen)
    }

    @Test func firefoxOfferIsUnderstood() throws {
        let offer = try SessionDescription(parsing: try fixture("firefox-offer.sdp"))
        #expect(offer.origin.username == "mozilla...THIS_IS_SDPARTA-128.0")
        #expect(offer.fingerprints.count == 1)  // session level
        #expect(offer.media[0].fingerprints.isEmpty)
        #expect(offer.media[0].connections == [SDPConnection(address: "192.168.1.20")])
        #expect(offer.media[0].hasEndOfCandidates)
        #expect(offer.media[0].candidates.map(\.transport) == ["UDP", "TCP", "UDP"])
        #expect(offer.media[0].extmaps[1] == SDPExtmap(id: 2, direction: .recvonly, uri: "urn:ietf:params:rtp-hdrext:csrc-audio-level"))
        #expect(offer.media[0].rtpmap(payloadType: 9)?.channels == 1)
        #expect(offer.media[1].ssrcGroups.first?.semantics == "FID")
        #expect(offer.media[1].direction == .sendrecv)
    }

    @Test func aiortcOfferIsUnderstood() throws {
        let offer = try SessionDescription(parsing: try fixture("aiortc-offer.sdp"))
        let video = offer.media[1]
        #expect(video.fingerprints.map(\.algorithm) == ["sha-256", "sha-384", "sha-512"])
        #expect(video.fingerprints.map { $0.bytes?.count } == [32, 48, 64])
        #expect(video.candidates.first?.priority == 2_130_706_431)
        #expect(video.candidates.first?.foundation.count == 32)
        #expect(!video.extmaps.contains { $0.uri.contains("transport-wide") })
        #expect(video.rtpmaps.filter { $0.encodingName == "rtx" }.count == 3)
    }

    @Test func buildsAnswerFromScratch() throws {
        var answer = SessionDescription(origin: SDPOrigin(sessionID: "1", sessionVersion: 1))
        answer.attributes = [.group(SDPGroup(semantics: "BUNDLE", mids: ["0"])), .iceLite]
        var audio = SDPMediaDescription(
            media: "audio", port: 9, proto: "UDP/TLS/RTP/SAVPF", formats: ["111"],
            connections: [SDPConnection(address: "0.0.0.0")]
        )
        audio.attributes = [
            .mid("0"), .direction(.recvonly), .rtcpMux, .iceUfrag("abcd"), .icePwd("0123456789abcdefghijkl"),
            .fingerprint(SDPFingerprint(algorithm: "sha-256", digest: [0x0A, 0xFF])), .setup(.passive),
            .rtpmap(SDPRtpmap(payloadType: 111, encodingName: "opus", clockRate: 48000, channels: 2)),
            .candidate(SDPCandidate(foundation: "1", priority: 2_130_706_431, address: "203.0.113.1", port: 50000, type: .host)),
            .endOfCandidates,
        ]
        answer.media = [audio]
        let text = answer.serialized
        #expect(text.hasPrefix("v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0\r\na=ice-lite\r\nm=audio 9"))
        #expect(text.contains("a=fingerprint:sha-256 0A:FF\r\n"))
        #expect(text.contains("a=candidate:1 1 UDP 2130706431 203.0.113.1 50000 typ host\r\n"))
        #expect(text.hasSuffix("a=end-of-candidates\r\n"))
        let reparsed = try SessionDescription(parsing: text)
        #expect(reparsed == answer)
        #expect(reparsed.isICELite)
    }

    @Test func simulcastGrammar() throws {
        let value = try SDPAttribute(parsing: "simulcast:send 1,~4;2;3 recv c")
        guard case .simulcast(let simulcast) = value else {
            Issue.record("not simulcast")
            return
        }
        #expect(simulcast.send?.count == 3)
        #expect(simulcast.send?[0] == [.init(rid: "1"), .init(rid: "4", paused: true)])
        #expect(simulcast.receive == [[.init(rid: "c")]])
        #expect(value.sdpText == "simulcast:send 1,~4;2;3 recv c")
        #expect(simulcast.reversed.sdpValue == "send c recv 1,~4;2;3")
    }

    @Test func directionReversal() {
        #expect(SDPDirection.sendonly.reversed == .recvonly)
        #expect(SDPDirection.sendrecv.reversed == .sendrecv)
    }
}
