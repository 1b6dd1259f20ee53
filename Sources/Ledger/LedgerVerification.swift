/// The first problem found in a ledger file.
public struct LedgerProblem: Sendable, Hashable, CustomStringConvertible {
    /// A stable classification, e.g. for `commucat ledger verify --json` and for tests.
    public enum Kind: String, Sendable, Hashable, CaseIterable {
        /// A line is not a ledger record: bad JSON, missing members, no newline, over 1 MiB, empty.
        case malformed
        /// `seq` does not follow the previous line's `seq` by one (or a genesis line is not seq 0).
        case seqGap = "seq_gap"
        /// `prev` is not the SHA-256 of the previous line: a line was modified, removed or reordered.
        case prevMismatch = "prev_mismatch"
        /// A line's `hash` does not match its content: the line was modified.
        case hashMismatch = "hash_mismatch"
        /// The head file records a later `seq` than the log's last line: its tail was removed.
        case truncated
        /// The head file is unreadable or disagrees with the log's last line.
        case headMismatch = "head_mismatch"
        /// The file could not be opened or read.
        case unreadable
    }

    public var kind: Kind
    /// 1-based line number; for head problems the log's last line; `nil` for file-level problems.
    public var line: Int?
    /// One human sentence.
    public var message: String

    public init(kind: Kind, line: Int?, message: String) {
        self.kind = kind
        self.line = line
        self.message = message
    }

    public var description: String { "\(kind.rawValue): \(message)" }
}

/// The outcome of ``verifyLedger(at:expectingPrevOfFirst:expectingSeqOfFirst:)``.
public struct LedgerVerification: Sendable, Hashable, CustomStringConvertible {
    /// The path as given.
    public var path: String
    /// Records that verified before the first problem (all of them when intact).
    public var recordCount: Int
    public var firstSeq: UInt64?
    public var lastSeq: UInt64?
    /// The first line's `prev` when it is not 64 zeros: the file continues a rotated predecessor
    /// and was verified from this anchor.
    public var anchor: String?
    /// Whether `anchor` was confirmed against `expectingPrevOfFirst`.
    public var anchorConfirmed: Bool
    /// Whether a `.head` file was present and checked.
    public var headChecked: Bool
    /// Hex SHA-256 of the last verified line: the `prev` the next rotated file starts with.
    public var lastLineDigest: String?
    /// The first problem, or `nil` when the chain is intact.
    public var problem: LedgerProblem?

    public var isIntact: Bool { problem == nil }

    /// One human line, e.g. `ledger.jsonl: 1,204 records, chain intact` or
    /// `ledger.jsonl:17: prev does not match line 16 (modified, removed or reordered line)`.
    public var description: String {
        if let problem {
            let location = problem.line.map { "\(path):\($0)" } ?? path
            return "\(location): \(problem.message)"
        }
        let noun = recordCount == 1 ? "record" : "records"
        var text = "\(path): \(Self.grouped(recordCount)) \(noun)"
        if let anchor, let firstSeq, let lastSeq {
            text += " (seq \(Self.grouped(firstSeq))–\(Self.grouped(lastSeq)))"
            let short = anchor.prefix(12)
            text += anchorConfirmed
                ? ", chain intact from anchor \(short)…"
                : ", chain intact from unconfirmed anchor \(short)… (rotated file; verify its predecessor)"
        } else {
            text += ", chain intact"
        }
        return text
    }

    static func grouped(_ value: some BinaryInteger) -> String {
        let digits = Array(String(value))
        var out = ""
        for (index, digit) in digits.enumerated() {
            if index > 0, (digits.count - index) % 3 == 0 { out.append(",") }
            out.append(digit)
        }
        return out
    }
}

/// Verifies one ledger file: each line parses, `hash` matches each line, `prev` matches the
/// SHA-256 of the previous line, `seq` is contiguous, and `<path>.head` (when present) matches
/// the last line. Reports the first problem. Never traps on any input; an empty file is valid.
///
/// - Parameters:
///   - expectingPrevOfFirst: the hash of the previous file's last line, for a rotated file (see
///     ``LedgerVerification/lastLineDigest``). When `nil`, a first line with a non-zero `prev` is
///     accepted as an anchor and reported as such.
///   - expectingSeqOfFirst: the previous file's last `seq` + 1, when known.
public func verifyLedger(
    at path: String,
    expectingPrevOfFirst: String? = nil,
    expectingSeqOfFirst: UInt64? = nil
) -> LedgerVerification {
    var verifier = LedgerVerifier(path: path, expectingPrev: expectingPrevOfFirst, expectingSeq: expectingSeqOfFirst)
    verifier.run()
    return verifier.result
}

/// Verifies `<path>.1`, `<path>.2`, … and then `path`, each anchored to its predecessor's last
/// line; the first file may start from an unconfirmed anchor when older files were removed.
/// Stops after the first file with a problem.
public func verifyLedgerSeries(at path: String) -> [LedgerVerification] {
    var results: [LedgerVerification] = []
    var expectingPrev: String?
    var expectingSeq: UInt64?
    for file in LedgerRotation.rotatedFiles(of: path).map(\.path) + [path] {
        let result = verifyLedger(at: file, expectingPrevOfFirst: expectingPrev, expectingSeqOfFirst: expectingSeq)
        results.append(result)
        guard result.isIntact else { break }
        if let digest = result.lastLineDigest {
            expectingPrev = digest
            expectingSeq = result.lastSeq.map { $0 &+ 1 }
        }
    }
    return results
}

/// The verification loop, one line at a time.
struct LedgerVerifier {
    private(set) var result: LedgerVerification
    private let expectingPrev: String?
    private let expectingSeq: UInt64?
    private var lastRecord: LedgerRecord?

    init(path: String, expectingPrev: String?, expectingSeq: UInt64?) {
        self.expectingPrev = expectingPrev
        self.expectingSeq = expectingSeq
        self.result = LedgerVerification(
            path: path, recordCount: 0, firstSeq: nil, lastSeq: nil, anchor: nil, anchorConfirmed: false,
            headChecked: false, lastLineDigest: nil, problem: nil
        )
    }

    private mutating func fail(_ kind: LedgerProblem.Kind, line: Int?, _ message: String) {
        result.problem = LedgerProblem(kind: kind, line: line, message: message)
    }

    mutating func run() {
        let path = result.path
        do {
            guard let fd = try PosixFile.openForReading(path) else {
                return fail(.unreadable, line: nil, "no such file")
            }
            defer { _ = PosixFile.closeDescriptor(fd) }
            var reader = LedgerLineReader(fd: fd, path: path, maxLineBytes: LedgerLineParser.maxLineBytes)
            var number = 0
            while let line = try reader.next() {
                number += 1
                switch line {
                case .tooLong:
                    return fail(.malformed, line: number, "line is longer than \(LedgerLineParser.maxLineBytes) bytes")
                case .unterminated:
                    return fail(.malformed, line: number, "line has no newline (torn write or cut mid-line)")
                case .complete(let bytes):
                    guard check(bytes, number: number) else { return }
                }
            }
        } catch {
            return fail(.unreadable, line: nil, "cannot read: \(error.message)")
        }
        checkHead()
    }

    /// Checks one complete line; `false` after recording a problem.
    private mutating func check(_ bytes: [UInt8], number: Int) -> Bool {
        let record: LedgerRecord
        do {
            record = try LedgerLineParser.parse(bytes)
        } catch {
            switch error {
            case .malformed(let reason):
                fail(.malformed, line: number, "not a ledger record: \(reason)")
            case .hashMismatch:
                fail(.hashMismatch, line: number, "hash does not match the line's content (modified line)")
            }
            return false
        }
        if let previous = lastRecord, let previousDigest = result.lastLineDigest {
            guard record.prev == previousDigest else {
                fail(.prevMismatch, line: number, "prev does not match line \(number - 1) (modified, removed or reordered line)")
                return false
            }
            guard record.seq == previous.seq &+ 1 else {
                fail(.seqGap, line: number, "seq \(record.seq) follows seq \(previous.seq) (expected \(previous.seq &+ 1))")
                return false
            }
        } else if !checkFirst(record) {
            return false
        }
        lastRecord = record
        result.recordCount += 1
        result.firstSeq = result.firstSeq ?? record.seq
        result.lastSeq = record.seq
        result.lastLineDigest = LedgerHash.hex(of: bytes)
        return true
    }

    private mutating func checkFirst(_ record: LedgerRecord) -> Bool {
        if let expectingPrev, record.prev != expectingPrev {
            fail(.prevMismatch, line: 1, "prev does not match the expected anchor (the previous file's last line)")
            return false
        }
        if record.prev == LedgerRecord.genesisPrev {
            guard record.seq == 0 else {
                fail(.seqGap, line: 1, "the first record of the ledger has seq \(record.seq) (expected 0)")
                return false
            }
        } else {
            result.anchor = record.prev
            result.anchorConfirmed = expectingPrev != nil
        }
        if let expectingSeq, record.seq != expectingSeq {
            fail(.seqGap, line: 1, "seq \(record.seq) does not continue the previous file (expected \(expectingSeq))")
            return false
        }
        return true
    }

    private mutating func checkHead() {
        let headPath = LedgerHead.path(for: result.path)
        let bytes: [UInt8]?
        do {
            bytes = try PosixFile.readSmallFile(headPath, limit: LedgerHead.maxFileBytes)
        } catch {
            return fail(.headMismatch, line: lastLineNumber, "the head file cannot be read: \(error.message)")
        }
        guard let bytes else { return }
        result.headChecked = true
        guard let head = LedgerHead(parsing: bytes) else {
            return fail(.headMismatch, line: lastLineNumber, "the head file is not a valid head")
        }
        guard let last = lastRecord else {
            return fail(.truncated, line: nil, "the head file records seq \(head.seq) but the log is empty (truncated)")
        }
        if head.seq > last.seq {
            fail(.truncated, line: lastLineNumber,
                 "the head file records seq \(head.seq) but the log ends here at seq \(last.seq) (tail truncated)")
        } else if head.seq < last.seq {
            fail(.headMismatch, line: lastLineNumber,
                 "the head file records seq \(head.seq) but the log ends at seq \(last.seq) (head not updated: crash, or lines appended by another writer)")
        } else if head.hash != last.hash {
            fail(.headMismatch, line: lastLineNumber,
                 "the head file's hash for seq \(head.seq) differs from the last line (tail replaced)")
        }
    }

    private var lastLineNumber: Int? { result.recordCount > 0 ? result.recordCount : nil }
}
