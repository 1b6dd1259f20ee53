import Testing
@testable import ICE

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

@Suite struct TURNCredentialsTests {
    @Test func restAPICredentialsMatchAnIndependentHMAC() {
        // Expected credential computed with Python: base64(hmac.new(b"north", b"1700086400:alice", sha1)).
        let credentials = TURNCredentials.make(
            secret: "north", identity: "alice", ttl: .seconds(86400), now: Date(timeIntervalSince1970: 1_700_000_000.7)
        )
        #expect(credentials.username == "1700086400:alice")
        #expect(credentials.credential == "SXua5ne/+mDhiHTp0pQJzRO4ESg=")
        #expect(credentials.expiresAt == 1_700_086_400)
    }

    @Test func linkHeadersFollowRFC9725() {
        let credentials = TURNCredentials(username: "1700086400:alice", credential: "abc=", expiresAt: 1_700_086_400)
        let turn = ICEServerEntry(
            urls: ["turn:turn.example.net:3478?transport=udp", "turns:turn.example.net:5349?transport=tcp"],
            credentials: credentials
        )
        #expect(turn.linkHeaderValues == [
            #"<turn:turn.example.net:3478?transport=udp>; rel="ice-server"; username="1700086400:alice"; credential="abc="; credential-type="password""#,
            #"<turns:turn.example.net:5349?transport=tcp>; rel="ice-server"; username="1700086400:alice"; credential="abc="; credential-type="password""#,
        ])
        let stun = ICEServerEntry(urls: ["stun:stun.example.net"])
        #expect(stun.linkHeaderValues == [#"<stun:stun.example.net>; rel="ice-server""#])
        let odd = ICEServerEntry(urls: ["turn:h"], username: #"a"b\c"#, credential: "x")
        #expect(odd.linkHeaderValues.first?.contains(#"username="a\"b\\c""#) == true)
    }
}
