import NIOCore
import Redis
import Testing

@Suite struct RedisArgumentTests {
    private func encode(_ arguments: [RedisArgument]) -> [UInt8] {
        var buffer = ByteBuffer()
        RESPCommandEncoder.write(arguments, into: &buffer)
        #expect(buffer.readableBytes == RESPCommandEncoder.encodedSize(arguments))
        return Array(buffer.readableBytesView)
    }

    @Test func commandIsAnArrayOfBulkStrings() {
        #expect(self.encode(["SET", "key", "value"]) == Array("*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$5\r\nvalue\r\n".utf8))
    }

    @Test func emptyArgumentAndIntegers() {
        #expect(self.encode(["GET", ""]) == Array("*2\r\n$3\r\nGET\r\n$0\r\n\r\n".utf8))
        #expect(self.encode(["EXPIRE", "k", 3600, RedisArgument(-1)]) == Array("*4\r\n$6\r\nEXPIRE\r\n$1\r\nk\r\n$4\r\n3600\r\n$2\r\n-1\r\n".utf8))
    }

    @Test func bytesAreSentVerbatim() {
        let payload: [UInt8] = [0x00, 0x0D, 0x0A, 0xFF, 0x24]
        let encoded = self.encode(["SET", "b", RedisArgument(payload)])
        #expect(encoded == Array("*3\r\n$3\r\nSET\r\n$1\r\nb\r\n$5\r\n".utf8) + payload + [0x0D, 0x0A])
    }

    @Test func utf8LengthIsInBytes() {
        #expect(self.encode(["é"]) == Array("*1\r\n$2\r\né\r\n".utf8))
    }

    @Test func sizesAcrossDigitBoundaries() {
        for length in [0, 9, 10, 99, 100, 1000, 12345] {
            let argument = RedisArgument([UInt8](repeating: 0x78, count: length))
            _ = self.encode([argument, argument])
        }
        let many = (0..<11).map { RedisArgument($0) }
        #expect(self.encode(many).starts(with: Array("*11\r\n".utf8)))
    }

    /// What the encoder writes, hiredis reads back as the same strings.
    @Test func encodedCommandParsesAsTheSameArray() throws {
        let arguments: [RedisArgument] = ["HSET", "h", RedisArgument([0, 1, 2]), "\r\n"]
        let reader = try RESPReader()
        try reader.feed(self.encode(arguments))
        #expect(try reader.next() == .array(arguments.map { .bulkString($0.bytes) }))
    }
}
