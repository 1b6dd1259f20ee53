import NIOCore

/// One argument of a Redis command: binary-safe bytes. Build it from a `String`, `[UInt8]`,
/// `ByteBuffer` or integer; string and integer literals convert implicitly.
public struct RedisArgument: Sendable, Hashable, ExpressibleByStringLiteral, ExpressibleByIntegerLiteral {
    public var bytes: ByteBuffer

    public init(_ bytes: ByteBuffer) { self.bytes = bytes }
    public init(_ string: String) { self.bytes = ByteBuffer(string: string) }
    public init(_ bytes: [UInt8]) { self.bytes = ByteBuffer(bytes: bytes) }
    public init<I: BinaryInteger>(_ value: I) { self.bytes = ByteBuffer(string: String(value)) }
    public init(stringLiteral value: String) { self.init(value) }
    public init(integerLiteral value: Int) { self.init(value) }
}

/// Encodes commands as the client side of RESP2: an array of bulk strings
/// (protocol spec, "Sending commands to a Redis server").
public enum RESPCommandEncoder {
    /// Appends `*<n>\r\n` then `$<len>\r\n<bytes>\r\n` for each argument to `buffer`.
    public static func write(_ arguments: [RedisArgument], into buffer: inout ByteBuffer) {
        buffer.writeInteger(UInt8(ascii: "*"))
        buffer.writeString(String(arguments.count))
        buffer.writeCRLF()
        for argument in arguments {
            buffer.writeInteger(UInt8(ascii: "$"))
            buffer.writeString(String(argument.bytes.readableBytes))
            buffer.writeCRLF()
            var bytes = argument.bytes
            buffer.writeBuffer(&bytes)
            buffer.writeCRLF()
        }
    }

    /// The exact number of bytes `write` appends, to size buffers once.
    public static func encodedSize(_ arguments: [RedisArgument]) -> Int {
        var size = 1 + Self.decimalLength(arguments.count) + 2
        for argument in arguments {
            let length = argument.bytes.readableBytes
            size += 1 + Self.decimalLength(length) + 2 + length + 2
        }
        return size
    }

    private static func decimalLength(_ value: Int) -> Int {
        var digits = 1
        var rest = value
        while rest >= 10 {
            rest /= 10
            digits += 1
        }
        return digits
    }
}

extension ByteBuffer {
    fileprivate mutating func writeCRLF() {
        self.writeInteger(UInt16(0x0D0A))
    }
}
