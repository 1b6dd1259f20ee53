import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Redis
import SFUWire
import Signalling
import Testing

@testable import Signalling

/// The limits of issue 14 items 3 and 6: offer size, sessions per identity and address, and the
/// per-address WHIP/WHEP rate limit.
@Suite struct MediaLimitsTests {
    static let now = Date(timeIntervalSince1970: 1_800_000_000)
    let tokens = AccessTokens(apiKey: "key", apiSecret: "0123456789abcdef0123456789abcdef")

    /// An offer with `count` video m-sections (session-level ICE and DTLS).
    static func offer(videoSections count: Int, direction: String = "sendonly") -> String {
        var sdp = "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n"
        sdp += "a=group:BUNDLE " + (0..<count).map(String.init).joined(separator: " ") + "\r\n"
        sdp += "a=ice-ufrag:Wxw3\r\na=ice-pwd:dPkNtMAG0GhHPGsx6yE3WW\r\n"
        sdp += "a=fingerprint:sha-256 20:72:74:24:F6:E0:63:51:D0:B0:5C:B8:7C:5F:F0:AE:C2:97:39:46:32:BC:EC:6E:94:A2:A6:B7:72:C5:D2:1E\r\n"
        sdp += "a=setup:actpass\r\n"
        for index in 0..<count {
            sdp += "m=video 9 UDP/TLS/RTP/SAVPF 97\r\nc=IN IP4 0.0.0.0\r\na=\(direction)\r\na=mid:\(index)\r\na=rtcp-mux\r\n"
            sdp += "a=rtpmap:97 VP8/90000\r\na=rtcp-fb:97 nack\r\na=rtcp-fb:97 nack pli\r\n"
            if direction == "sendonly" { sdp += "a=ssrc:\(1000 + index) cname:attacker\r\n" }
        }
        return sdp
    }

    // MARK: Tracks per offer

    @Test func anOfferWithMoreSectionsThanTheLimitIsRefusedAsAWhole() throws {
        var capabilities = MediaCapabilities.standard
        capabilities.maxMediaSections = 16
        let accepted = try SDPNegotiator.negotiate(offer: Self.offer(videoSections: 16), purpose: .publish, capabilities: capabilities)
        #expect(accepted.sections.count == 16)
        #expect(throws: SDPNegotiationError.self) {
            try SDPNegotiator.negotiate(offer: Self.offer(videoSections: 17), purpose: .publish, capabilities: capabilities)
        }
        do {
            _ = try SDPNegotiator.negotiate(offer: Self.offer(videoSections: 1000), purpose: .publish, capabilities: capabilities)
            Issue.record("a 1,000-section offer was accepted")
        } catch {
            #expect(error.code == .limitExceeded)
            #expect(error.code.description == "limit_exceeded")
            #expect(error.detail.contains("media.max_tracks_per_offer"))
        }
    }

    // MARK: Sessions per identity and address

    @Test func theRegistryCapsSessionsPerIdentityAndPerAddressAndFreesSlots() {
        let registry = MediaSessionRegistry(capacity: 100, maxPerIdentity: 2, maxPerAddress: 3)
        #expect(registry.reserve(identity: "a", address: "10.0.0.1") == .reserved)
        #expect(registry.reserve(identity: "a", address: "10.0.0.1") == .reserved)
        #expect(registry.reserve(identity: "a", address: "10.0.0.1") == .identityFull(limit: 2))
        #expect(registry.reserve(identity: "b", address: "10.0.0.1") == .reserved)
        #expect(registry.reserve(identity: "c", address: "10.0.0.1") == .addressFull(limit: 3))
        #expect(registry.reserve(identity: "c", address: "10.0.0.2") == .reserved)
        // A failed creation gives its slot back; an ended session too.
        registry.cancel(identity: "a", address: "10.0.0.1")
        #expect(registry.held(identity: "a") == 1)
        #expect(registry.reserve(identity: "a", address: "10.0.0.3") == .reserved)
        let session = MediaSessionID(kind: .whep, room: "r", id: "s1")
        registry.insert(.init(session: session, identity: "a", etag: "e", remoteICEUfrag: "u", address: "10.0.0.3"))
        #expect(registry.reserve(identity: "a", address: "10.0.0.3") == .identityFull(limit: 2))
        _ = registry.remove(id: "s1")
        #expect(registry.held(identity: "a") == 1)
        #expect(registry.reserve(identity: "a", address: "10.0.0.3") == .reserved)
    }

    @Test func theNodeCapacityStillApplies() {
        let registry = MediaSessionRegistry(capacity: 1)
        #expect(registry.reserve(identity: "a", address: nil) == .reserved)
        #expect(registry.reserve(identity: "b", address: nil) == .nodeFull)
    }

    @Test func whepBeyondTheIdentityQuotaGets403LimitExceeded() async throws {
        let backend = FakeMediaBackend()
        let routes = MediaRoutes(
            backend: backend,
            configuration: .init(tokens: tokens, now: { Self.now }, maxSessionsPerIdentity: 2, maxSessionsPerIP: 10))
        let router = Router()
        routes.register(on: router) { _, _ in .init(address: "192.0.2.1", isLoopback: false) }
        let app = Application(router: router)
        let token = try await tokens.issue(identity: "viewer", room: "lobby", publish: false, subscribe: true, ttl: .seconds(600), now: Self.now)
        let offer = try Fixtures.sdp("aiortc-whep-offer.sdp")
        let headers: HTTPFields = [.contentType: "application/sdp", .authorization: "Bearer \(token)"]
        let publisher = try await tokens.issue(identity: "pub", room: "lobby", publish: true, subscribe: false, ttl: .seconds(600), now: Self.now)
        try await app.test(.router) { client in
            try await client.execute(
                uri: "/whip/lobby", method: .post, headers: [.contentType: "application/sdp", .authorization: "Bearer \(publisher)"],
                body: ByteBuffer(string: try Fixtures.sdp("aiortc-whip-offer.sdp"))
            ) { response in #expect(response.status == .created) }
            var statuses: [HTTPResponse.Status] = []
            var codes: [String?] = []
            for _ in 0..<3 {
                try await client.execute(uri: "/whep/lobby", method: .post, headers: headers, body: ByteBuffer(string: offer)) { response in
                    statuses.append(response.status)
                    let object = try? JSONSerialization.jsonObject(with: Data(String(buffer: response.body).utf8)) as? [String: Any]
                    codes.append(object?["code"] as? String)
                }
            }
            #expect(statuses == [.created, .created, .forbidden])
            #expect(codes.last == "limit_exceeded")
        }
        #expect(routes.sessionCount == 3)
    }

    // MARK: Rate limit

    @Test func theRateLimiterCountsPOSTsPerAddressInAFixedWindow() async {
        let clock = ManualEphemeralClock()
        let limiter = MediaRateLimiter(store: InMemoryEphemeralStore(clock: clock), perMinute: 3)
        let peer = MediaPeer(address: "198.51.100.7", isLoopback: false)
        var decisions: [Bool] = []
        for endpoint in [MediaEndpoint.whip, .whep, .whip, .whep] { decisions.append(await limiter.decide(peer, endpoint).allowed) }
        #expect(decisions == [true, true, true, false])
        let refused = await limiter.decide(peer, .whip)
        #expect(!refused.allowed)
        #expect(refused.retryAfterSeconds == 60)
        // PATCH and DELETE are not counted; another address has its own window.
        #expect(await limiter.decide(peer, .patch).allowed)
        #expect(await limiter.decide(peer, .delete).allowed)
        #expect(await limiter.decide(MediaPeer(address: "198.51.100.8", isLoopback: false), .whip).allowed)
        clock.advance(by: .seconds(45))
        #expect(await limiter.decide(peer, .whip).retryAfterSeconds == 15)
        clock.advance(by: .seconds(15))
        #expect(await limiter.decide(peer, .whip).allowed)
    }

    @Test func aDecisionNeverAsksForLessThanOneSecond() {
        #expect(MediaRateDecision.limited(retryAfterSeconds: 0).retryAfterSeconds == 1)
        #expect(MediaRateDecision.allowed.retryAfterSeconds == 0)
    }
}
