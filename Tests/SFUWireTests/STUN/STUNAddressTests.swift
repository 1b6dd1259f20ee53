import Testing
@testable import SFUWire

@Suite struct STUNAddressTests {
    @Test func parsesAndFormatsIPv4() throws {
        let address = try #require(STUNAddress(ipAddress: "192.0.2.1", port: 3478))
        #expect(address.ip == .v4(0xC000_0201))
        #expect(address.description == "192.0.2.1:3478")
        #expect(address.familyCode == 1)
    }

    @Test func parsesAndFormatsIPv6Canonically() throws {
        let cases: [(String, String)] = [
            ("2001:0db8:0000:0000:0000:0000:0000:0001", "2001:db8::1"),
            ("::1", "::1"),
            ("::", "::"),
            ("[fe80::1:2]", "fe80::1:2"),
            ("2001:db8:0:1:0:0:0:1", "2001:db8:0:1::1"),
            ("::ffff:192.0.2.128", "::ffff:c000:280"),
        ]
        for (input, canonical) in cases {
            let address = try #require(STUNAddress(ipAddress: input, port: 1))
            #expect(address.ipString == canonical)
            #expect(STUNAddress(ipAddress: canonical, port: 1) == address)
        }
    }

    @Test func rejectsMalformedAddresses() {
        for text in ["", "1.2.3", "1.2.3.256", "1.2.3.4.5", "01234.1.1.1", "1::2::3", "12345::", "g::1", "1:2:3:4:5:6:7:8:9", "a.b.c.d"] {
            #expect(STUNAddress(ipAddress: text, port: 1) == nil, "\(text)")
        }
    }
}
