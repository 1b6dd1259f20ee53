import Testing
@testable import SFUWire

@Suite struct SDPFragmentTests {
    /// The trickle example shape of RFC 8840 §9 / RFC 9725 §4.3.1.
    static let patch = """
        a=ice-options:trickle
        a=ice-ufrag:EsAw
        a=ice-pwd:P2uYro0UCOQ4zxjKXaWCBui1
        m=audio 9 UDP/TLS/RTP/SAVPF 111
        a=mid:0
        a=candidate:1387637174 1 udp 2122260223 192.0.2.1 61764 typ host generation 0 ufrag EsAw network-id 1
        a=candidate:3471623853 1 udp 2122194687 198.51.100.2 61765 typ host generation 0 ufrag EsAw network-id 2
        a=end-of-candidates

        """

    @Test func parsesTrickleFragment() throws {
        let fragment = try SDPFragment(parsing: Self.patch)
        #expect(fragment.iceUfrag == "EsAw")
        #expect(fragment.icePwd == "P2uYro0UCOQ4zxjKXaWCBui1")
        #expect(fragment.media.count == 1)
        #expect(fragment.candidates.map(\.mid) == ["0", "0"])
        #expect(fragment.candidates.map(\.candidate.port) == [61764, 61765])
        #expect(fragment.media[0].hasEndOfCandidates)
        #expect(fragment.serialized == Self.patch.replacingOccurrences(of: "\n", with: "\r\n"))
    }

    @Test func rejectsSessionLinesAndBadCandidates() {
        #expect { try SDPFragment(parsing: "v=0\r\n") } throws: { ($0 as? WireParseError)?.code == .sdpUnexpectedLine }
        #expect { try SDPFragment(parsing: "m=audio 9 RTP/AVP 0\r\na=candidate:1 1 udp\r\n") } throws: {
            let error = $0 as? WireParseError
            return error?.code == .sdpInvalidCandidate && error?.line == 2
        }
    }

    @Test func simulcastSSRCGroupParses() throws {
        let attribute = try SDPAttribute(parsing: "ssrc-group:SIM 1 2 3")
        #expect(attribute == .ssrcGroup(SDPSsrcGroup(semantics: "SIM", ssrcs: [1, 2, 3])))
    }
}
