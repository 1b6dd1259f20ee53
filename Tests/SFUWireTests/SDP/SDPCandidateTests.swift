import Testing
@testable import SFUWire

@Suite struct SDPCandidateTests {
    @Test(arguments: [
        "candidate:842163049 1 udp 1686052607 203.0.113.5 54321 typ srflx raddr 192.168.1.10 rport 54321 generation 0 network-id 1",
        "candidate:2 1 TCP 2105524479 192.168.1.20 9 typ host tcptype active",
        "candidate:7 1 tcp 1518280447 10.0.0.1 443 typ host tcptype passive",
        "candidate:3 1 udp 41885439 198.51.100.20 61234 typ relay raddr 203.0.113.5 rport 54321",
        "candidate:a+/b 256 UDP 1 2001:db8::1 1 typ prflx",
        "candidate:1 1 udp 1 host.local 1 typ custom ext value",
    ])
    func roundTrips(text: String) throws {
        let candidate = try SDPCandidate(parsing: text)
        #expect(candidate.attributeText == text)
        #expect(try SDPCandidate(parsing: "a=" + text + "\r\n") == candidate)
        #expect(try SDPCandidate(parsing: candidate.sdpValue) == candidate)
    }

    @Test func fieldsAreTyped() throws {
        let candidate = try SDPCandidate(parsing: "candidate:7 1 tcp 1518280447 10.0.0.1 443 typ host tcptype passive")
        #expect(candidate.foundation == "7")
        #expect(candidate.component == 1)
        #expect(candidate.isTCP)
        #expect(candidate.priority == 1_518_280_447)
        #expect(candidate.address == "10.0.0.1")
        #expect(candidate.port == 443)
        #expect(candidate.type == .host)
        #expect(candidate.tcpType == .passive)
    }

    /// RFC 8445 §5.1.2.1 priority formula.
    @Test func priorityFormula() {
        #expect(SDPCandidate.priority(typePreference: 126, localPreference: 65535, component: 1) == 2_130_706_431)
        #expect(SDPCandidate.priority(typePreference: 0, localPreference: 0, component: 1) == 255)
    }
}
