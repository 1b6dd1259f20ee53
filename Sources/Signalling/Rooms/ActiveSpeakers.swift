/// Active-speaker detection for one room from the RFC 6464 audio levels of its publishers. Pure:
/// the caller feeds one sample per participant and the time since the previous sample.
///
/// Each participant's loudness (0 = silence … 127 = 0 dBov, the mean over the interval) is
/// smoothed with an exponential moving average (time constant ``smoothing``). A participant
/// becomes a speaker after its smoothed loudness stayed above ``threshold`` for ``hysteresis``,
/// and stops being one after it stayed below for ``hysteresis``, so a breath or a click does not
/// flip the list. The list is ordered loudest first.
struct ActiveSpeakerDetector: Sendable {
    /// Loudness above which a participant counts as talking: 127 − 50 = −50 dBov.
    var threshold: Double = 77
    var hysteresis: Duration = .milliseconds(300)
    var smoothing: Duration = .milliseconds(300)

    private struct Entry {
        var smoothed: Double = 0
        var speaking = false
        /// How long the smoothed level has been on the other side of the threshold.
        var pending: Duration = .zero
    }

    private var entries: [String: Entry] = [:]
    private(set) var speakers: [String] = []

    /// Feeds one interval. `levels` holds the participants that publish audio (absent ones are
    /// forgotten). Returns the new speaker list when it changed.
    mutating func update(levels: [String: UInt8], elapsed: Duration) -> [String]? {
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        let tau = Double(smoothing.components.seconds) + Double(smoothing.components.attoseconds) / 1e18
        let alpha = seconds <= 0 ? 0 : min(1, seconds / max(tau, 1e-3))
        for id in entries.keys where levels[id] == nil { entries[id] = nil }
        for (id, loudness) in levels {
            var entry = entries[id] ?? Entry()
            entry.smoothed += alpha * (Double(loudness) - entry.smoothed)
            let above = entry.smoothed > threshold
            if above != entry.speaking {
                entry.pending += elapsed
                if entry.pending >= hysteresis {
                    entry.speaking = above
                    entry.pending = .zero
                }
            } else {
                entry.pending = .zero
            }
            entries[id] = entry
        }
        let current = entries.filter(\.value.speaking).sorted { lhs, rhs in
            lhs.value.smoothed != rhs.value.smoothed ? lhs.value.smoothed > rhs.value.smoothed : lhs.key < rhs.key
        }.map(\.key)
        // Order changes alone are not news; membership changes are.
        guard Set(current) != Set(speakers) else { return nil }
        speakers = current
        return current
    }
}
