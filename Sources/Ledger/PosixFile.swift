import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Thin wrappers over the system calls the file adapter needs. C return codes never escape: every
/// failure becomes a ``LedgerError`` with code `io` and the `errno`.
enum PosixFile {
    static func ioError(_ action: String, _ path: String) -> LedgerError {
        let code = errno
        return LedgerError(
            code: .io, message: "\(action) failed: \(String(cString: strerror(code)))", path: path, errno: code
        )
    }

    /// Opens `path` for appending, creating it with mode 0600 (SPEC §2: files in the data dir are
    /// 0600) and forcing 0600 on an existing file too.
    static func openForAppend(_ path: String) throws(LedgerError) -> Int32 {
        let fd = retryingOnInterrupt { open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, mode_t(0o600)) }
        guard fd >= 0 else { throw ioError("open", path) }
        guard fchmod(fd, mode_t(0o600)) == 0 else {
            let error = ioError("fchmod", path)
            close(fd)
            throw error
        }
        return fd
    }

    /// Opens `path` read-only; `nil` when it does not exist.
    static func openForReading(_ path: String) throws(LedgerError) -> Int32? {
        let fd = retryingOnInterrupt { open(path, O_RDONLY | O_CLOEXEC) }
        if fd < 0 {
            if errno == ENOENT { return nil }
            throw ioError("open", path)
        }
        return fd
    }

    static func size(of fd: Int32, path: String) throws(LedgerError) -> Int {
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw ioError("fstat", path) }
        return Int(info.st_size)
    }

    /// Writes all of `bytes`: one `write(2)` unless the kernel accepts only part of it.
    static func writeAll(_ fd: Int32, _ bytes: [UInt8], path: String) throws(LedgerError) {
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeBytes { buffer in
                retryingOnInterrupt { write(fd, buffer.baseAddress.map { $0 + offset }, bytes.count - offset) }
            }
            guard written > 0 else { throw ioError("write", path) }
            offset += written
        }
    }

    /// Reads up to `count` bytes at `offset`; fewer only at end of file.
    static func read(_ fd: Int32, count: Int, at offset: Int, path: String) throws(LedgerError) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: count)
        var filled = 0
        while filled < count {
            let got = out.withUnsafeMutableBytes { buffer in
                retryingOnInterrupt { pread(fd, buffer.baseAddress.map { $0 + filled }, count - filled, off_t(offset + filled)) }
            }
            if got == 0 { break }
            guard got > 0 else { throw ioError("read", path) }
            filled += got
        }
        out.removeLast(count - filled)
        return out
    }

    /// Reads a whole small file; `nil` when it does not exist. Files over `limit` bytes are an error.
    static func readSmallFile(_ path: String, limit: Int) throws(LedgerError) -> [UInt8]? {
        guard let fd = try openForReading(path) else { return nil }
        defer { close(fd) }
        let bytes = try read(fd, count: limit + 1, at: 0, path: path)
        guard bytes.count <= limit else {
            throw LedgerError(code: .malformed, message: "file is larger than \(limit) bytes", path: path)
        }
        return bytes
    }

    /// Replaces `path` atomically: writes `<path>.tmp` (mode 0600) and renames it over `path`, so a
    /// reader sees the old or the new content, never a mix.
    static func replaceAtomically(_ path: String, with bytes: [UInt8], sync: Bool) throws(LedgerError) {
        let temporary = path + ".tmp"
        let fd = retryingOnInterrupt { open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode_t(0o600)) }
        guard fd >= 0 else { throw ioError("open", temporary) }
        do throws(LedgerError) {
            try writeAll(fd, bytes, path: temporary)
            if sync, fsync(fd) != 0 { throw ioError("fsync", temporary) }
        } catch {
            close(fd)
            throw error
        }
        close(fd)
        guard rename(temporary, path) == 0 else { throw ioError("rename", path) }
    }

    /// fsyncs the directory holding `path`, making renames and creations in it durable.
    static func syncDirectory(of path: String) throws(LedgerError) {
        let directory = (path as NSString).deletingLastPathComponent
        let fd = retryingOnInterrupt { open(directory.isEmpty ? "." : directory, O_RDONLY | O_CLOEXEC) }
        guard fd >= 0 else { throw ioError("open", directory) }
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw ioError("fsync", directory) }
    }

    static func closeDescriptor(_ fd: Int32) -> Int32 {
        close(fd)
    }

    static func retryingOnInterrupt<T: BinaryInteger>(_ call: () -> T) -> T {
        while true {
            let result = call()
            if result < 0 && errno == EINTR { continue }
            return result
        }
    }
}

/// Reads a file line by line in 64 KiB chunks without holding it all in memory.
struct LedgerLineReader {
    enum Line {
        /// A complete line, newline removed.
        case complete([UInt8])
        /// The last bytes of the file, not followed by a newline.
        case unterminated([UInt8])
        /// A line longer than the limit; reading stops here.
        case tooLong
    }

    private let fd: Int32
    private let path: String
    private let maxLineBytes: Int
    private var buffer: [UInt8] = []
    private var start = 0
    private var fileOffset = 0
    private var atEnd = false

    init(fd: Int32, path: String, maxLineBytes: Int) {
        self.fd = fd
        self.path = path
        self.maxLineBytes = maxLineBytes
    }

    mutating func next() throws(LedgerError) -> Line? {
        var searchFrom = start
        while true {
            if let newline = buffer[searchFrom...].firstIndex(of: 0x0A) {
                let line = Array(buffer[start..<newline])
                start = newline + 1
                return line.count > maxLineBytes ? .tooLong : .complete(line)
            }
            if buffer.count - start > maxLineBytes { return .tooLong }
            if atEnd {
                guard start < buffer.count else { return nil }
                let rest = Array(buffer[start...])
                start = buffer.count
                return .unterminated(rest)
            }
            buffer.removeFirst(start)
            start = 0
            searchFrom = buffer.count
            let chunk = try PosixFile.read(fd, count: 65_536, at: fileOffset, path: path)
            fileOffset += chunk.count
            if chunk.isEmpty { atEnd = true }
            buffer.append(contentsOf: chunk)
        }
    }
}
