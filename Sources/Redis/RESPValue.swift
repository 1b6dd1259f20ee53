import NIOCore

/// One RESP2 reply (https://redis.io/docs/reference/protocol-spec/, "RESP protocol description").
///
/// `.null` stands for both the null bulk string (`$-1`) and the null array (`*-1`). Error
/// replies are values here so that one failed command inside a pipeline or an `EXEC` does not
/// hide the others; `RedisClient.send` turns a top-level `.error` into `RedisError(code: .server)`.
public enum RESPValue: Sendable, Hashable {
    /// `+OK`: a simple (status) string.
    case status(String)
    /// `-ERR message`: an error reply; the text includes the error prefix (`ERR`, `WRONGTYPE`, …).
    case error(String)
    /// `:42`
    case integer(Int64)
    /// `$3\r\nfoo`: binary-safe bytes.
    case bulkString(ByteBuffer)
    /// `$-1` or `*-1`
    case null
    /// `*2\r\n…`: elements may nest.
    case array([RESPValue])
}

extension RESPValue {
    /// The text of a status or bulk string reply (bulk bytes decoded as UTF-8, invalid sequences
    /// repaired), or the decimal text of an integer; `nil` for other replies.
    public var string: String? {
        switch self {
        case .status(let text): text
        case .bulkString(let buffer): String(buffer: buffer)
        case .integer(let value): String(value)
        case .error, .null, .array: nil
        }
    }

    /// The bytes of a bulk or status string; `nil` for other replies.
    public var bytes: [UInt8]? {
        switch self {
        case .bulkString(let buffer): Array(buffer.readableBytesView)
        case .status(let text): Array(text.utf8)
        case .error, .integer, .null, .array: nil
        }
    }

    /// The integer of an integer reply, or of a bulk string holding a decimal integer (what
    /// `GET` returns for a counter); `nil` otherwise.
    public var integer: Int64? {
        switch self {
        case .integer(let value): value
        case .bulkString(let buffer): Int64(String(buffer: buffer))
        case .status, .error, .null, .array: nil
        }
    }

    /// The elements of an array reply; `nil` otherwise (also for a null array).
    public var array: [RESPValue]? {
        if case .array(let elements) = self { return elements }
        return nil
    }

    public var isNull: Bool {
        if case .null = self { return true }
        return false
    }

    /// The message of an error reply; `nil` otherwise.
    public var errorMessage: String? {
        if case .error(let message) = self { return message }
        return nil
    }

    /// A short, single-line rendering for error messages and logs (bulk payloads truncated).
    var debugSummary: String {
        switch self {
        case .status(let text): return "+\(text.prefix(64))"
        case .error(let text): return "-\(text.prefix(64))"
        case .integer(let value): return ":\(value)"
        case .null: return "(nil)"
        case .bulkString(let buffer): return "$\(buffer.readableBytes) bytes"
        case .array(let elements): return "*\(elements.count) elements"
        }
    }
}
