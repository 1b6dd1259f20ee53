import Foundation
import SFUWire
import Signalling

/// SDP fixtures: browser captures shared with SFUWireTests, and aiortc WHIP/WHEP offers generated
/// by Tests/Interop/make_fixture_offers.py.
enum Fixtures {
    static let testsDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    static func sdp(_ name: String) throws -> String {
        let own = testsDirectory.appendingPathComponent("SignallingTests/Fixtures/\(name)")
        let shared = testsDirectory.appendingPathComponent("SFUWireTests/Fixtures/\(name)")
        let url = FileManager.default.fileExists(atPath: own.path) ? own : shared
        return try String(contentsOf: url, encoding: .utf8)
    }

    /// A local transport as the SFU would describe it.
    static let local = LocalTransportDescription(
        iceUfrag: "sfuU", icePwd: "sfupasswordsfupassword",
        candidates: [
            SDPCandidate(
                foundation: "1", priority: SDPCandidate.priority(typePreference: 126, localPreference: 65535, component: 1),
                address: "127.0.0.1", port: 50000, type: .host
            )
        ],
        fingerprints: [SDPFingerprint(algorithm: "sha-256", digest: (0..<32).map { UInt8($0) })]
    )

    /// A minimal valid WHIP offer; `mutate` edits its lines before joining.
    static func minimalOffer(_ mutate: (inout [String]) -> Void = { _ in }) -> String {
        var lines = [
            "v=0", "o=- 1 1 IN IP4 0.0.0.0", "s=-", "t=0 0", "a=group:BUNDLE 0 1",
            "m=audio 9 UDP/TLS/RTP/SAVPF 111", "c=IN IP4 0.0.0.0", "a=mid:0", "a=sendonly", "a=rtcp-mux",
            "a=ice-ufrag:abcd", "a=ice-pwd:0123456789012345678901",
            "a=fingerprint:sha-256 AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99",
            "a=setup:actpass", "a=rtpmap:111 opus/48000/2", "a=ssrc:11 cname:c",
            "m=video 9 UDP/TLS/RTP/SAVPF 96 97", "c=IN IP4 0.0.0.0", "a=mid:1", "a=sendonly", "a=rtcp-mux",
            "a=ice-ufrag:abcd", "a=ice-pwd:0123456789012345678901",
            "a=fingerprint:sha-256 AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99",
            "a=setup:actpass", "a=rtpmap:96 VP8/90000", "a=rtpmap:97 rtx/90000", "a=fmtp:97 apt=96",
            "a=ssrc-group:FID 21 22", "a=ssrc:21 cname:c", "a=ssrc:22 cname:c",
        ]
        mutate(&lines)
        return lines.joined(separator: "\r\n") + "\r\n"
    }
}
