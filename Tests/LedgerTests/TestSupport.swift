import Foundation
import Testing

@testable import Ledger

/// A fresh directory under the system temporary directory, removed by `cleanup()`.
struct TemporaryDirectory {
    let path: String

    init() throws {
        let base = FileManager.default.temporaryDirectory.path
        path = "\(base)/ledger-tests-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    func file(_ name: String) -> String { "\(path)/\(name)" }

    func cleanup() {
        try? FileManager.default.removeItem(atPath: path)
    }
}

/// A clock that advances 1 ms per reading from a fixed instant.
final class SteppingClock: Sendable {
    private let ticks = LockedCounter()

    var read: @Sendable () -> Date {
        { [ticks] in Date(timeIntervalSince1970: 1_700_000_000 + Double(ticks.next()) / 1000) }
    }
}

final class LockedCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var value = 0

    func next() -> Int {
        lock.lock()
        defer { lock.unlock() }
        value += 1
        return value - 1
    }
}

/// Appends `count` records through a file-backed `Ledger` and closes it.
@discardableResult
func writeLedger(at path: String, count: Int, maxBytes: Int? = nil, startIndex: Int = 0) async throws -> [LedgerRecord] {
    let ledger = Ledger(sink: try FileLedgerSink(path: path, maxBytes: maxBytes), clock: SteppingClock().read)
    var records: [LedgerRecord] = []
    for index in startIndex..<(startIndex + count) {
        let record = try #require(
            ledger.record(
                scope: .delivery, result: index % 7 == 0 ? "failure" : "ok",
                fields: ["message_id": .string("m-\(index)"), "attempt": .int(Int64(index % 3)), "queued": .bool(index % 2 == 0)]
            )
        )
        records.append(record)
    }
    try await ledger.close()
    return records
}

/// The file's lines without newlines (the file must end with one).
func readLines(_ path: String) throws -> [String] {
    let text = try String(contentsOfFile: path, encoding: .utf8)
    var lines = text.components(separatedBy: "\n")
    if lines.last == "" { lines.removeLast() }
    return lines
}

func writeLines(_ lines: [String], to path: String) throws {
    try (lines.map { $0 + "\n" }.joined()).write(toFile: path, atomically: false, encoding: .utf8)
}

func writeBytes(_ bytes: [UInt8], to path: String) throws {
    try Data(bytes).write(to: URL(fileURLWithPath: path))
}

/// A small deterministic generator (SplitMix64) so garbage tests are reproducible.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
