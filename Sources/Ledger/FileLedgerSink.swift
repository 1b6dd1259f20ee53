import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The `file` adapter (SPEC §6): an append-only JSON Lines file.
///
/// - The file and its directory are created; the file is mode 0600.
/// - On open, the last line is read to resume `seq` and `prev`, and checked against `<path>.head`.
/// - Every line is written with one `write(2)` of the full line and its newline, so the kernel has
///   it when ``append(_:line:)`` returns; ``flush()`` adds `fsync(2)`.
/// - After each append `<path>.head` is replaced atomically (temporary file + `rename(2)`) with the
///   line's `seq` and `hash`, so removing lines from the end of the log is detectable.
/// - Size-based rotation: when a line would take the file past `maxBytes`, the file is renamed to
///   `<path>.N` and a new file is started. `N` counts up from 1: `.1` is the oldest file, the
///   highest number the newest; older files are never renamed or deleted. The chain and `seq`
///   continue across files: the new file's first `prev` is the hash of the old file's last line.
public final class FileLedgerSink: LedgerSink {
    /// The default rotation size: 64 MiB.
    public static let defaultMaxBytes = 64 << 20

    /// The current log file.
    public let path: String
    /// `<path>.head`.
    public let headPath: String
    /// Rotate before a line would make the file larger than this; `nil` never rotates.
    public let maxBytes: Int?
    /// `fsync(2)` the log and head after every append (durable, slower).
    public let syncEachAppend: Bool
    /// Where the chain continued when the sink was opened.
    public let tail: LedgerChainTail

    private struct State {
        /// `nil` after `close()`, or after a rotation failed half-way (then reopened on demand).
        var fd: Int32?
        var closed = false
        var size: Int
        var nextRotationIndex: Int
        /// Set when the head could not be replaced after a successful append; retried on the
        /// next append and reported by `flush()`.
        var staleHead: LedgerHead?
        /// A durability failure after a line was written (fsync with `syncEachAppend`), reported
        /// once by `flush()`.
        var deferredError: LedgerError?
    }

    private let state: Mutex<State>

    /// Opens (or creates) the log at `path` and resumes its chain.
    ///
    /// - Throws: `io` when the directory or file cannot be created or read; `torn_tail` when the
    ///   last line has no newline; `malformed` when the last line is not a valid record;
    ///   `head_mismatch` when `<path>.head` does not match the end of the log (its tail was
    ///   truncated or replaced; appending would hide that), `invalid_configuration` for a
    ///   `maxBytes` below 1 KiB.
    public init(path: String, maxBytes: Int? = FileLedgerSink.defaultMaxBytes, syncEachAppend: Bool = false)
        throws(LedgerError)
    {
        if let maxBytes, maxBytes < 1024 {
            throw LedgerError(code: .invalidConfiguration, message: "maxBytes must be at least 1024", path: path)
        }
        guard !path.isEmpty else {
            throw LedgerError(code: .invalidConfiguration, message: "the ledger path is empty")
        }
        self.path = path
        self.headPath = LedgerHead.path(for: path)
        self.maxBytes = maxBytes
        self.syncEachAppend = syncEachAppend

        let directory = (path as NSString).deletingLastPathComponent
        if !directory.isEmpty {
            do {
                try FileManager.default.createDirectory(
                    atPath: directory, withIntermediateDirectories: true,
                    attributes: [.posixPermissions: NSNumber(value: 0o700)]
                )
            } catch {
                throw LedgerError(code: .io, message: "cannot create the ledger directory: \(error)", path: directory)
            }
        }
        let fd = try PosixFile.openForAppend(path)
        do {
            let size = try PosixFile.size(of: fd, path: path)
            let rotated = LedgerRotation.rotatedFiles(of: path)
            let resumed = try LedgerResume.resume(path: path, size: size, newestRotated: rotated.last?.path)
            if let head = resumed.headToWrite {
                try PosixFile.replaceAtomically(headPath, with: head.encoded(), sync: syncEachAppend)
            }
            self.tail = resumed.tail
            self.state = Mutex(State(fd: fd, size: size, nextRotationIndex: (rotated.last?.index ?? 0) + 1))
        } catch {
            _ = PosixFile.closeDescriptor(fd)
            throw error
        }
    }

    public func append(_ record: LedgerRecord, line: [UInt8]) throws(LedgerError) {
        try state.withLock { (state: inout State) throws(LedgerError) in
            guard !state.closed else {
                throw LedgerError(code: .closed, message: "the ledger file is closed", path: path)
            }
            let currentFD: Int32
            if let fd = state.fd {
                currentFD = fd
            } else {
                currentFD = try PosixFile.openForAppend(path)
                state.fd = currentFD
                state.size = try PosixFile.size(of: currentFD, path: path)
            }
            var bytes = line
            bytes.append(0x0A)
            var fd = currentFD
            if let maxBytes, state.size > 0, state.size + bytes.count > maxBytes {
                fd = try rotate(&state)
            }
            do throws(LedgerError) {
                try PosixFile.writeAll(fd, bytes, path: path)
            } catch {
                // Cut off whatever part of the line reached the file, so a retry cannot leave a
                // torn line in the middle of the log.
                _ = ftruncate(fd, off_t(state.size))
                throw error
            }
            state.size += bytes.count
            if syncEachAppend, fsync(fd) != 0 {
                // The line is written; only its durability is in doubt. Report it on flush().
                state.deferredError = PosixFile.ioError("fsync", path)
            }
            do {
                try writeHead(LedgerHead(record), &state)
            } catch {
                // The line is in the log; the head is retried on the next append and by flush().
            }
        }
    }

    public func flush() throws(LedgerError) {
        try state.withLock { (state: inout State) throws(LedgerError) in
            guard let fd = state.fd else { return }
            try syncLocked(fd, &state)
        }
    }

    public func close() throws(LedgerError) {
        try state.withLock { (state: inout State) throws(LedgerError) in
            guard !state.closed else { return }
            guard let fd = state.fd else {
                state.closed = true
                return
            }
            try syncLocked(fd, &state)
            state.fd = nil
            state.closed = true
            guard PosixFile.closeDescriptor(fd) == 0 else { throw PosixFile.ioError("close", path) }
        }
    }

    /// The rotated files of this log, oldest first.
    public func rotatedFiles() -> [String] {
        LedgerRotation.rotatedFiles(of: path).map(\.path)
    }

    private func syncLocked(_ fd: Int32, _ state: inout State) throws(LedgerError) {
        if let stale = state.staleHead { try writeHead(stale, &state) }
        if let deferred = state.deferredError {
            state.deferredError = nil
            throw deferred
        }
        guard fsync(fd) == 0 else { throw PosixFile.ioError("fsync", path) }
        try PosixFile.syncDirectory(of: path)
    }

    private func writeHead(_ head: LedgerHead, _ state: inout State) throws(LedgerError) {
        do {
            try PosixFile.replaceAtomically(headPath, with: head.encoded(), sync: syncEachAppend)
            state.staleHead = nil
        } catch {
            state.staleHead = head
            throw error
        }
    }

    /// Renames the full file to `<path>.N` and opens a fresh one in its place.
    private func rotate(_ state: inout State) throws(LedgerError) -> Int32 {
        guard let oldFD = state.fd else {
            throw LedgerError(code: .closed, message: "the ledger file is closed", path: path)
        }
        guard fsync(oldFD) == 0 else { throw PosixFile.ioError("fsync", path) }
        // Never overwrite an older file, e.g. one an operator restored by hand.
        while access("\(path).\(state.nextRotationIndex)", F_OK) == 0 { state.nextRotationIndex += 1 }
        let target = "\(path).\(state.nextRotationIndex)"
        guard rename(path, target) == 0 else { throw PosixFile.ioError("rename", path) }
        state.nextRotationIndex += 1
        _ = PosixFile.closeDescriptor(oldFD)
        state.fd = nil
        let newFD = try PosixFile.openForAppend(path)
        state.fd = newFD
        state.size = 0
        try PosixFile.syncDirectory(of: path)
        return newFD
    }
}

/// Finding `<path>.N` files.
enum LedgerRotation {
    static func rotatedFiles(of path: String) -> [(index: Int, path: String)] {
        let directory = (path as NSString).deletingLastPathComponent
        let base = (path as NSString).lastPathComponent + "."
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.isEmpty ? "." : directory)) ?? []
        var found: [(index: Int, path: String)] = []
        for name in names where name.hasPrefix(base) {
            let suffix = name.dropFirst(base.count)
            guard !suffix.isEmpty, suffix.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }), suffix.first != "0",
                  let index = Int(suffix)
            else { continue }
            found.append((index, directory.isEmpty ? name : (directory as NSString).appendingPathComponent(name)))
        }
        return found.sorted { $0.index < $1.index }
    }
}
