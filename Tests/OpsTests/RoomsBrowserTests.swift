import Foundation
import Testing

@testable import Ops

/// Multi-party rooms as a person sees them: Debian's headless Chromium opens the demo page three
/// times (alice, bob, carol) against the real `commucat serve` (simulcast, set_quality, then a
/// room with two HTTPS pages and an aiortc client), all inside a private network
/// namespace with only loopback (Tests/Interop/rooms_chromium.py). Bounded by the script's own
/// deadlines and the client's kill timeout.
extension PeerInteropTests {
@Suite(.serialized) struct RoomsBrowserTests {
    static var chromium: String? {
        ["/usr/bin/chromium", "/usr/bin/chromium-browser"].first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// Where the three-party screenshot is kept (a test artifact; README shows a copy).
    static let screenshotPath: String = {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent(".build/artifacts/rooms-three-party.png").path
    }()

    @Test func threeChromiumPagesSeeEachOtherAndLeavingDropsTheTile() async throws {
        guard let binary = CommucatProcessTests.binary, MediaInteropTests.python != nil, Self.chromium != nil else {
            if isCI { Issue.record("needs COMMUCAT_BIN, COMMUCAT_TEST_PYTHON and Debian's chromium") }
            return
        }
        let client = try MediaInteropTests.Client(
            "rooms_chromium.py", ["--bin", binary, "--screenshot", Self.screenshotPath, "--timeout", "120"], name: "chromium rooms")
        let result = try await client.result(timeout: .seconds(420))
        #expect(result.status == 0, "rooms_chromium.py: \(result.json)")
        let checks = result.json["checks"] as? [String: Bool] ?? [:]
        for name in [
            "three_pages_each_show_two_playing_remote_videos", "frames_decoded_rising", "names_shown",
            "garbage_token_refused", "expired_token_refused", "other_room_token_refused", "malformed_message_gets_error", "leave_drops_tile",
            "others_unaffected", "active_speakers_reported", "admin_room_details", "mute_shown_to_others",
            "chromium_pages_decode_aiortc", "socket_drop_resumes_without_leaving",
            "dropped_participant_kept_then_removed", "ice_restart_keeps_media", "aiortc_decodes_chromium_pages",
            "simulcast_two_layers_received", "set_quality_low_then_high", "https_pages_use_wss", "bad_set_quality_gets_error",
        ] {
            #expect(checks[name] == true, "\(name): \(result.json)")
        }
        #expect(FileManager.default.fileExists(atPath: Self.screenshotPath))
    }
}
}
