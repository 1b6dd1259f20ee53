/// Working out where an existing log's chain continues when the file adapter opens it.
enum LedgerResume {
    struct Outcome {
        var tail: LedgerChainTail
        /// The head to (re)write so it matches the log's end; `nil` when it already does.
        var headToWrite: LedgerHead?
    }

    /// - Parameters:
    ///   - size: the current log's size in bytes.
    ///   - newestRotated: the newest `<path>.N`, whose end anchors an empty current log.
    static func resume(path: String, size: Int, newestRotated: String?) throws(LedgerError) -> Outcome {
        let headPath = LedgerHead.path(for: path)
        var head: LedgerHead?
        if let bytes = try PosixFile.readSmallFile(headPath, limit: LedgerHead.maxFileBytes) {
            guard let parsed = LedgerHead(parsing: bytes) else {
                throw LedgerError(code: .headMismatch, message: "the head file is not readable", path: headPath)
            }
            head = parsed
        }

        if size > 0 {
            let lines = try lastLines(of: path)
            guard let last = lines.last else {
                throw LedgerError(code: .malformed, message: "cannot find the last line of the log", path: path)
            }
            let record = try parse(last, path: path)
            let tail = LedgerChainTail(nextSeq: record.seq &+ 1, prev: LedgerHash.hex(of: last))
            guard let head else { return Outcome(tail: tail, headToWrite: LedgerHead(record)) }
            if head == LedgerHead(record) { return Outcome(tail: tail, headToWrite: nil) }
            // A crash between writing a line and replacing the head leaves the head one behind.
            if lines.count == 2, head.seq &+ 1 == record.seq,
               let previous = try? parse(lines[0], path: path), head == LedgerHead(previous) {
                return Outcome(tail: tail, headToWrite: LedgerHead(record))
            }
            throw mismatch(head, found: "seq \(record.seq)", path: path)
        }

        // An empty (or new) log continues from the newest rotated file, if there is one: a crash
        // right after a rotation leaves exactly this.
        if let newestRotated {
            let lines = try lastLines(of: newestRotated)
            guard let last = lines.last else {
                guard head == nil else { throw mismatch(head, found: "an empty log", path: path) }
                return Outcome(tail: .genesis, headToWrite: nil)
            }
            let record = try parse(last, path: newestRotated)
            if let head, head != LedgerHead(record) {
                throw mismatch(head, found: "seq \(record.seq) at the end of \(newestRotated)", path: path)
            }
            return Outcome(tail: LedgerChainTail(nextSeq: record.seq &+ 1, prev: LedgerHash.hex(of: last)), headToWrite: nil)
        }
        if head != nil { throw mismatch(head, found: "an empty log", path: path) }
        return Outcome(tail: .genesis, headToWrite: nil)
    }

    private static func mismatch(_ head: LedgerHead?, found: String, path: String) -> LedgerError {
        let expected = head.map { "seq \($0.seq)" } ?? "nothing"
        return LedgerError(
            code: .headMismatch,
            message: "the head file records \(expected) but found \(found): the log's tail was truncated or replaced;"
                + " run `commucat ledger verify` and move the damaged file aside",
            path: path
        )
    }

    private static func parse(_ line: [UInt8], path: String) throws(LedgerError) -> LedgerRecord {
        do {
            return try LedgerLineParser.parse(line)
        } catch {
            switch error {
            case .malformed(let reason):
                throw LedgerError(code: .malformed, message: "the last line of the log is not a record: \(reason)", path: path)
            case .hashMismatch:
                throw LedgerError(code: .malformed, message: "the last line of the log does not match its hash", path: path)
            }
        }
    }

    /// The last one or two complete lines of a file, read backwards in chunks.
    ///
    /// - Throws: `torn_tail` when the file does not end with a newline.
    static func lastLines(of path: String) throws(LedgerError) -> [[UInt8]] {
        guard let fd = try PosixFile.openForReading(path) else { return [] }
        defer { _ = PosixFile.closeDescriptor(fd) }
        let size = try PosixFile.size(of: fd, path: path)
        guard size > 0 else { return [] }
        let limit = 2 * (LedgerLineParser.maxLineBytes + 1) + 1
        var buffer: [UInt8] = []
        var offset = size
        // Stop once the buffer holds three newlines (two whole lines after the earliest one).
        while offset > 0, buffer.count < limit, buffer.lazy.filter({ $0 == 0x0A }).count < 3 {
            let count = min(65_536, offset)
            offset -= count
            buffer.insert(contentsOf: try PosixFile.read(fd, count: count, at: offset, path: path), at: 0)
        }
        guard buffer.last == 0x0A else {
            throw LedgerError(
                code: .tornTail, message: "the last line of the log has no newline (torn write?)", path: path
            )
        }
        buffer.removeLast()
        var lines = buffer.split(separator: 0x0A, omittingEmptySubsequences: false).map(Array.init)
        // The first piece is partial unless the read reached the start of the file.
        if offset > 0, lines.count > 1 { lines.removeFirst() }
        return Array(lines.suffix(2))
    }
}
