import CHiredis
import NIOCore

/// Parses RESP2 replies from a byte stream with hiredis's `redisReader`.
///
/// The one Swift owner of one `redisReader`: created in `init`, freed in `deinit`; every reply
/// object hiredis hands out is converted to a `RESPValue` and freed before `next()` returns, so
/// no C pointer escapes. hiredis return codes never leave this file.
///
/// Feed bytes as they arrive (any split, down to one byte at a time) and drain replies with
/// `next()`. A protocol error is sticky: hiredis refuses further input, and so does this reader.
/// Not thread-safe; confine it to one event loop.
public final class RESPReader {
    private let reader: UnsafeMutablePointer<redisReader>
    /// Most bytes that may sit in the reader waiting for the rest of a reply.
    public let maximumBufferedBytes: Int
    private var failure: RedisError?

    /// - Parameter maximumBufferedBytes: bound on a not-yet-complete reply; above it `feed`
    ///   throws a protocol error instead of growing without end. Redis's own bulk limit is 512 MiB.
    public init(maximumBufferedBytes: Int = 64 * 1024 * 1024) throws(RedisError) {
        guard let reader = redisReaderCreate() else {
            throw RedisError(code: .protocol, message: "cannot allocate a RESP reader")
        }
        self.reader = reader
        self.maximumBufferedBytes = maximumBufferedBytes
    }

    deinit {
        redisReaderFree(self.reader)
    }

    /// The number of bytes hiredis holds that are not yet part of a returned reply.
    public var bufferedBytes: Int {
        let pending = self.reader.pointee.len - self.reader.pointee.pos
        return Int(clamping: pending)
    }

    /// Appends the readable bytes of `buffer` (the buffer itself is not consumed).
    public func feed(_ buffer: ByteBuffer) throws(RedisError) {
        if let failure { throw failure }
        let status = buffer.withUnsafeReadableBytes { bytes -> Int32 in
            guard let base = bytes.baseAddress, bytes.count > 0 else { return REDIS_OK }
            return redisReaderFeed(self.reader, base.assumingMemoryBound(to: CChar.self), bytes.count)
        }
        if status != REDIS_OK {
            throw self.fail()
        }
    }

    /// Convenience for tests and tools.
    public func feed(_ bytes: [UInt8]) throws(RedisError) {
        try self.feed(ByteBuffer(bytes: bytes))
    }

    /// The next complete reply, or `nil` when more bytes are needed.
    public func next() throws(RedisError) -> RESPValue? {
        if let failure { throw failure }
        var object: UnsafeMutableRawPointer?
        guard redisReaderGetReply(self.reader, &object) == REDIS_OK else {
            throw self.fail()
        }
        guard let object else {
            if self.bufferedBytes > self.maximumBufferedBytes {
                let error = RedisError(
                    code: .protocol,
                    message: "reply larger than \(self.maximumBufferedBytes) bytes"
                )
                self.failure = error
                throw error
            }
            return nil
        }
        defer { freeReplyObject(object) }
        return Self.convert(object.assumingMemoryBound(to: redisReply.self))
    }

    private func fail() -> RedisError {
        let detail = withUnsafeBytes(of: self.reader.pointee.errstr) { raw -> String in
            let text = raw.prefix(while: { $0 != 0 })
            return String(decoding: text, as: UTF8.self)
        }
        let error = RedisError(code: .protocol, message: detail.isEmpty ? "malformed RESP reply" : detail)
        self.failure = error
        return error
    }

    /// hiredis caps nesting at 7 levels (`rstack`), so this recursion is shallow.
    private static func convert(_ reply: UnsafeMutablePointer<redisReply>) -> RESPValue {
        let node = reply.pointee
        switch node.type {
        case REDIS_REPLY_STRING:
            return .bulkString(Self.buffer(node.str, node.len))
        case REDIS_REPLY_STATUS:
            return .status(String(buffer: Self.buffer(node.str, node.len)))
        case REDIS_REPLY_ERROR:
            return .error(String(buffer: Self.buffer(node.str, node.len)))
        case REDIS_REPLY_INTEGER:
            return .integer(Int64(node.integer))
        case REDIS_REPLY_ARRAY:
            var elements: [RESPValue] = []
            elements.reserveCapacity(node.elements)
            if let children = node.element {
                for index in 0..<node.elements {
                    if let child = children[index] {
                        elements.append(Self.convert(child))
                    } else {
                        elements.append(.null)
                    }
                }
            }
            return .array(elements)
        default:
            // REDIS_REPLY_NIL, and nothing else exists in RESP2.
            return .null
        }
    }

    private static func buffer(_ pointer: UnsafeMutablePointer<CChar>?, _ length: Int) -> ByteBuffer {
        guard let pointer, length > 0 else { return ByteBuffer() }
        return ByteBuffer(bytes: UnsafeRawBufferPointer(start: pointer, count: length))
    }
}
