// A one-line progress bar on stderr, drawn only when stderr is a terminal.
import Foundation

/// Reports progress of the benchmark; silent unless stderr is a TTY.
public final class BenchProgress: @unchecked Sendable {
    private let enabled: Bool
    private var label = ""
    private var codecIndex = 0
    private var codecCount = 1
    private var lastDrawn = ContinuousClock.now - .seconds(1)

    public init(enabled: Bool = isatty(STDERR_FILENO) == 1) {
        self.enabled = enabled
    }

    func begin(codec index: Int, of count: Int) {
        codecIndex = index
        codecCount = max(1, count)
    }

    /// `fraction` is progress within the current codec (0...1), each codec counting twice (CommuCat, ffmpeg).
    func update(_ label: String, _ fraction: Double) {
        guard enabled else { return }
        let now = ContinuousClock.now
        guard now - lastDrawn > .milliseconds(100) || fraction >= 1 else { return }
        lastDrawn = now
        let total = (Double(codecIndex) + min(1, max(0, fraction))) / Double(codecCount)
        let width = 30
        let filled = Int(total * Double(width))
        let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
        let text = "\r[\(bar)] \(Int(total * 100))% \(label)".padding(toLength: 70, withPad: " ", startingAt: 0)
        FileHandle.standardError.write(Data(text.utf8))
    }

    func finish() {
        guard enabled else { return }
        FileHandle.standardError.write(Data(("\r" + String(repeating: " ", count: 70) + "\r").utf8))
    }
}
