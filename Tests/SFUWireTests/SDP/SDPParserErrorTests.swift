import Testing
@testable import SFUWire

/// Malformed SDP yields a typed error with the offending line number (the WHIP endpoint answers
/// 400 with it).
@Suite struct SDPParserErrorTests {
    static let valid = """
        v=0
        o=- 1 1 IN IP4 127.0.0.1
        s=-
        t=0 0
        a=group:BUNDLE 0
        m=audio 9 UDP/TLS/RTP/SAVPF 111
        c=IN IP4 0.0.0.0
        a=mid:0
        a=rtpmap:111 opus/48000/2
        a=candidate:1 1 udp 2130706431 127.0.0.1 50000 typ host

        """

    func error(_ text: String) -> WireParseError? {
        do {
            _ = try SessionDescription(parsing: text)
            return nil
        } catch {
            return error
        }
    }

    func replacing(line number: Int, with text: String) -> String {
        var lines = Self.valid.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        lines[number - 1] = text
        return lines.joined(separator: "\r\n")
    }

    @Test func validBaselineParses() {
        #expect(error(Self.valid) == nil)
    }

    @Test func missingVersion() {
        let result = error(String(Self.valid.drop { $0 != "\n" }.dropFirst()))
        #expect(result?.code == .sdpMissingVersion)
        #expect(result?.line == 1)
        #expect(error("")?.code == .sdpMissingVersion)
    }

    @Test func badMediaLine() {
        let result = error(replacing(line: 6, with: "m=audio 9 UDP/TLS/RTP/SAVPF"))
        #expect(result?.code == .sdpInvalidMediaLine)
        #expect(result?.line == 6)
    }

    @Test(arguments: ["m=audio 65536 RTP/AVP 0", "m=audio -1 RTP/AVP 0", "m=audio nine RTP/AVP 0", "m=audio 9/0 RTP/AVP 0"])
    func badPort(line: String) {
        let result = error(replacing(line: 6, with: line))
        #expect(result?.code == .sdpInvalidPort)
        #expect(result?.line == 6)
    }

    @Test(arguments: [
        "a=candidate:1 1 udp 2130706431 127.0.0.1 50000 typ",  // too few fields
        "a=candidate:1 1 udp 2130706431 127.0.0.1 70000 typ host",  // port
        "a=candidate:1 1 udp 99999999999 127.0.0.1 50000 typ host",  // priority > 10 digits
        "a=candidate:1 0 udp 1 127.0.0.1 50000 typ host",  // component 0
        "a=candidate:1 1 udp 1 127.0.0.1 50000 type host",  // not "typ"
        "a=candidate:f@o 1 udp 1 127.0.0.1 50000 typ host",  // foundation chars
        "a=candidate:1 1 udp 1 127.0.0.1 50000 typ host generation",  // extension without value
        "a=candidate:1 1 tcp 1 127.0.0.1 9 typ host tcptype sideways",
    ])
    func badCandidate(line: String) {
        let result = error(replacing(line: 10, with: line))
        #expect(result?.code == .sdpInvalidCandidate)
        #expect(result?.line == 10)
    }

    @Test func badAttributesAndLines() {
        #expect(error(replacing(line: 9, with: "a=rtpmap:abc opus/48000"))?.code == .sdpInvalidAttribute)
        #expect(error(replacing(line: 9, with: "a=rtpmap:111 opus"))?.line == 9)
        #expect(error(replacing(line: 8, with: "a=setup:sideways"))?.code == .sdpInvalidAttribute)
        #expect(error(replacing(line: 8, with: "a=extmap:0 urn:x"))?.code == .sdpInvalidAttribute)
        #expect(error(replacing(line: 8, with: "a=fingerprint:sha-256 XYZ"))?.code == .sdpInvalidAttribute)
        #expect(error(replacing(line: 8, with: "a=simulcast:sideways a"))?.code == .sdpInvalidAttribute)
        #expect(error(replacing(line: 8, with: "a=ssrc-group:FID one two"))?.code == .sdpInvalidAttribute)
        #expect(error(replacing(line: 8, with: "no equals sign"))?.code == .sdpInvalidLine)
        #expect(error(replacing(line: 8, with: "x=unknown"))?.code == .sdpInvalidLine)
        #expect(error(replacing(line: 8, with: "t=0 0"))?.code == .sdpUnexpectedLine)
        #expect(error(replacing(line: 2, with: "o=- 1 IN IP4 127.0.0.1"))?.code == .sdpInvalidOrigin)
        #expect(error(replacing(line: 2, with: "s=-"))?.code == .sdpUnexpectedLine)
        #expect(error(replacing(line: 4, with: "t=zero 0"))?.code == .sdpInvalidTiming)
        #expect(error(replacing(line: 7, with: "c=IN IP4"))?.code == .sdpInvalidConnection)
        #expect(error(replacing(line: 1, with: "v=1"))?.code == .sdpInvalidVersion)
        #expect(error(replacing(line: 5, with: "v=0"))?.code == .sdpUnexpectedLine)
    }

    @Test func errorDescriptionNamesLine() {
        let result = error(replacing(line: 6, with: "m=audio 99999 RTP/AVP 0"))
        #expect(result?.description.contains("line 6") == true)
    }
}
