import Foundation
import Testing

@testable import Ops

/// Issue 14 items 3 and 6 against the real binary: memory amplification through WHIP/WHEP (an
/// offer with 1,000 video m-lines, then WHEP sessions with a subscribe-only token) and the
/// per-address WHIP/WHEP rate limit.
@Suite("Attack: media", .serialized, .enabled(if: Attack.enabled))
struct MediaAttackTests {
    /// An offer with `count` video m-sections modelled on the aiortc/Chromium fixtures
    /// (Tests/SignallingTests/Fixtures): VP8 + RTX, nack/pli, BUNDLE, rtcp-mux, session-level ICE.
    /// `compact`: the smallest section the negotiator accepts (VP8 with nack only), so that 1,000 of
    /// them fit in the 256 KiB WHIP body limit, as in the probe.
    static func offer(videoSections count: Int, direction: String, ufrag: String, compact: Bool = false) -> String {
        var sdp = "v=0\r\no=- 4004566202 4004566202 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n"
        sdp += "a=group:BUNDLE " + (0..<count).map(String.init).joined(separator: " ") + "\r\n"
        sdp += "a=ice-ufrag:\(ufrag)\r\na=ice-pwd:dPkNtMAG0GhHPGsx6yE3WW\r\n"
        sdp += "a=fingerprint:sha-256 20:72:74:24:F6:E0:63:51:D0:B0:5C:B8:7C:5F:F0:AE:C2:97:39:46:32:BC:EC:6E:94:A2:A6:B7:72:C5:D2:1E\r\n"
        sdp += "a=setup:actpass\r\n"
        for index in 0..<count where compact {
            sdp += "m=video 9 UDP/TLS/RTP/SAVPF 97\r\na=\(direction)\r\na=mid:\(index)\r\na=rtcp-mux\r\n"
            sdp += "a=rtpmap:97 VP8/90000\r\na=rtcp-fb:97 nack\r\na=ssrc:\(100_000 + index) cname:x\r\n"
        }
        for index in 0..<count where !compact {
            sdp += "m=video 9 UDP/TLS/RTP/SAVPF 97 98\r\nc=IN IP4 127.0.0.1\r\na=\(direction)\r\na=mid:\(index)\r\n"
            sdp += "a=extmap:1 urn:ietf:params:rtp-hdrext:sdes:mid\r\na=rtcp-mux\r\n"
            sdp += "a=rtpmap:97 VP8/90000\r\na=rtcp-fb:97 nack\r\na=rtcp-fb:97 nack pli\r\n"
            sdp += "a=rtpmap:98 rtx/90000\r\na=fmtp:98 apt=97\r\n"
            if direction == "sendonly" {
                let ssrc = 100_000 + index * 2
                sdp += "a=ssrc-group:FID \(ssrc) \(ssrc + 1)\r\na=ssrc:\(ssrc) cname:attacker\r\na=ssrc:\(ssrc + 1) cname:attacker\r\n"
            }
        }
        return sdp
    }

    static func token(_ server: AttackServer, room: String, identity: String, grant: String) async throws -> String {
        let result = try await runProcess(
            try Attack.binary(), ["token", "--room", room, "--identity", identity, grant], environment: server.environment,
            timeout: .seconds(30))
        #expect(result.status == 0, "commucat token failed: \(result.stderr)")
        return result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    static func problemCode(_ body: String) -> String? {
        let object = try? JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any]
        return object?["code"] as? String
    }

    static func post(_ url: String, token: String?, sdp: String) async throws -> FetchedResponse {
        var headers = [("Content-Type", "application/sdp")]
        if let token { headers.append(("Authorization", "Bearer \(token)")) }
        return try await fetch(url, method: .POST, headers: headers, body: sdp)
    }

    @Test func aThousandMLineOfferIsRefusedAndWHEPSessionsWithASubscribeTokenStayBounded() async throws {
        let server = try await AttackServer(extra: [
            "COMMUCAT_LIMITS_WHIP_PER_MINUTE": "1000", "COMMUCAT_MEDIA_MAX_SESSIONS_PER_IDENTITY": "6",
        ])
        defer { Task { await server.stop() } }
        let room = "attack-media"
        let publisher = try await Self.token(server, room: room, identity: "mallory-pub", grant: "--publish")
        let viewer = try await Self.token(server, room: room, identity: "mallory", grant: "--subscribe")
        let baseline = server.residentBytes()

        // 1. The 1,000-m-line publisher offer is refused as a whole (media.max_tracks_per_offer = 16).
        let huge = try await Self.post(
            server.base + "/whip/\(room)", token: publisher, sdp: Self.offer(videoSections: 1000, direction: "sendonly", ufrag: "Wxw3", compact: true))
        #expect(Self.offer(videoSections: 1000, direction: "sendonly", ufrag: "Wxw3", compact: true).utf8.count < 256 * 1024)
        #expect(huge.status == 403)
        #expect(Self.problemCode(huge.body) == "limit_exceeded")
        #expect(huge.body.contains("media.max_tracks_per_offer"))

        // 2. The most an offer may hold (16 video tracks) is accepted.
        let allowed = try await Self.post(
            server.base + "/whip/\(room)", token: publisher, sdp: Self.offer(videoSections: 16, direction: "sendonly", ufrag: "Wxw3"))
        #expect(allowed.status == 201, "\(allowed.body)")

        // 3. WHEP with the subscribe-only token: 6 sessions of 16 consumers each, then 403.
        var locations: [String] = []
        var refusal: FetchedResponse?
        for index in 0..<8 {
            let response = try await Self.post(
                server.base + "/whep/\(room)", token: viewer,
                sdp: Self.offer(videoSections: 16, direction: "recvonly", ufrag: "v\(index)aa"))
            if response.status == 201, let location = response.headers.first(name: "Location") {
                locations.append(location)
            } else {
                refusal = response
            }
        }
        #expect(locations.count == 6)
        #expect(refusal?.status == 403)
        #expect(refusal.map { Self.problemCode($0.body) } == "limit_exceeded")
        let held = server.residentBytes()
        #expect(held - baseline < 200 << 20, "RSS grew from \(baseline >> 20) MB to \(held >> 20) MB")

        // 4. DELETE gives the slots (and the consumers) back: a new session is accepted again.
        for location in locations {
            let deleted = try await fetch(server.base + location, method: .DELETE, headers: [("Authorization", "Bearer \(viewer)")])
            #expect(deleted.status == 200)
        }
        let again = try await Self.post(
            server.base + "/whep/\(room)", token: viewer, sdp: Self.offer(videoSections: 16, direction: "recvonly", ufrag: "zzzz"))
        #expect(again.status == 201, "\(again.body)")
        let after = server.residentBytes()
        #expect(after - baseline < 200 << 20, "RSS after DELETE: \(after >> 20) MB (baseline \(baseline >> 20) MB)")
        #expect(try await server.metric("commucat_media_limit_rejections_total{limit=\"max_tracks_per_offer\"}") >= 1)
        #expect(try await server.metric("commucat_media_limit_rejections_total{limit=\"max_sessions_per_identity\"}") >= 2)
        #expect(try await server.metric("commucat_sfu_retransmission_bytes") < Double(200 << 20))
        await server.stop()
    }

    @Test func oneAddressGets429RateLimitedAfterLimitsWhipPerMinute() async throws {
        let server = try await AttackServer(extra: ["COMMUCAT_LIMITS_WHIP_PER_MINUTE": "10"])
        defer { Task { await server.stop() } }
        var statuses: [Int] = []
        var retryAfter: String?
        var code: String?
        let started = ContinuousClock.now
        for _ in 0..<150 where ContinuousClock.now - started < .seconds(20) {
            // No token: the rate limit is checked first, so a flood costs no crypto.
            let response = try await Self.post(server.base + "/whip/flood", token: nil, sdp: "v=0\r\n")
            statuses.append(response.status)
            if response.status == 429 {
                retryAfter = response.headers.first(name: "Retry-After")
                code = Self.problemCode(response.body)
            }
        }
        #expect(statuses.count == 150)
        #expect(statuses.prefix(10).allSatisfy { $0 == 401 })
        #expect(statuses.dropFirst(10).allSatisfy { $0 == 429 })
        #expect(code == "rate_limited")
        #expect(retryAfter.flatMap(Int.init).map { (1...60).contains($0) } == true)
        // WHEP POSTs from the same address share the window.
        let whep = try await Self.post(server.base + "/whep/flood", token: nil, sdp: "v=0\r\n")
        #expect(whep.status == 429)
        #expect(try await server.metric("commucat_media_limit_rejections_total{limit=\"whip_per_minute\"}") >= 141)
        await server.stop()
    }
}
