import Testing

@testable import Signalling

@Suite struct ActiveSpeakersTests {
    let step: Duration = .milliseconds(100)

    @Test func aSteadyTalkerBecomesSpeakerAfterTheHysteresisAndSilenceEndsIt() {
        var detector = ActiveSpeakerDetector()
        var changes: [(Int, [String])] = []
        for tick in 0..<30 {
            let talking = tick < 15
            if let list = detector.update(levels: ["a": talking ? 110 : 0, "b": 5], elapsed: step) {
                changes.append((tick, list))
            }
        }
        #expect(changes.map(\.1) == [["a"], []])
        // Smoothing plus ≥ 300 ms above the threshold: not before the 4th sample.
        #expect((changes.first?.0 ?? 0) >= 3)
        #expect((changes.last?.0 ?? 0) >= 17)  // three samples (300 ms) below the threshold
    }

    @Test func aShortClickDoesNotFlipTheList() {
        var detector = ActiveSpeakerDetector()
        var changed = false
        for tick in 0..<20 {
            let level: UInt8 = tick == 5 || tick == 6 ? 127 : 0
            if detector.update(levels: ["a": level], elapsed: step) != nil { changed = true }
        }
        #expect(!changed)
    }

    @Test func loudestFirstAndLeaversForgotten() {
        var detector = ActiveSpeakerDetector()
        for _ in 0..<10 { _ = detector.update(levels: ["a": 100, "b": 120], elapsed: step) }
        #expect(detector.speakers == ["b", "a"])
        var list: [String]?
        for _ in 0..<10 { list = detector.update(levels: ["a": 100], elapsed: step) ?? list }
        #expect(list == ["a"])
    }
}
