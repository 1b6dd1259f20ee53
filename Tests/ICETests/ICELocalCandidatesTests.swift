import SFUWire
import Testing
@testable import ICE

@Suite struct ICELocalCandidatesTests {
    @Test func publicIPsWinOverTheBoundAddress() throws {
        let candidates = ICELocalCandidates.host(
            boundIP: "0.0.0.0", port: 3478, publicIPs: ["198.51.100.4", "2001:db8::4", "198.51.100.4", "bogus"]
        )
        #expect(candidates.map(\.address) == ["198.51.100.4", "2001:db8::4"])
        let first = try #require(candidates.first)
        // RFC 8445 §5.1.2.1: 2^24·126 + 2^8·65535 + (256 − 1).
        #expect(first.priority == 2_130_706_431)
        #expect(first.sdpValue.hasSuffix("UDP 2130706431 198.51.100.4 3478 typ host"))
        #expect(candidates[1].priority < first.priority)
        #expect(candidates[0].foundation != candidates[1].foundation)
        // The text parses back with SFUWire's SDP parser.
        let parsed = try SDPCandidate(parsing: first.attributeText)
        #expect(parsed == first)
    }

    @Test func boundAddressIsUsedWithoutPublicIPsButNeverUnspecified() {
        #expect(ICELocalCandidates.host(boundIP: "192.0.2.8", port: 40000).map(\.address) == ["192.0.2.8"])
        #expect(ICELocalCandidates.host(boundIP: "0.0.0.0", port: 40000).isEmpty)
        #expect(ICELocalCandidates.host(boundIP: "::", port: 40000).isEmpty)
    }

    @Test func tcpPassiveCandidatesAreOptional() throws {
        let candidates = ICELocalCandidates.host(boundIP: "192.0.2.8", port: 40000, tcpPassivePort: 443)
        #expect(candidates.count == 2)
        let tcp = candidates[1]
        #expect(tcp.tcpType == .passive)
        #expect(tcp.port == 443)
        #expect(tcp.priority < candidates[0].priority)
        #expect(tcp.sdpValue.contains("TCP"))
        #expect(tcp.sdpValue.hasSuffix("typ host tcptype passive"))
        #expect(try SDPCandidate(parsing: tcp.attributeText) == tcp)
    }
}
