import NIOCore
import Redis
import Testing

@Suite struct RESPReaderTests {
    private func parseAll(_ text: String) throws -> [RESPValue] {
        try self.parseAll(Array(text.utf8))
    }

    private func parseAll(_ bytes: [UInt8]) throws -> [RESPValue] {
        let reader = try RESPReader()
        try reader.feed(bytes)
        var replies: [RESPValue] = []
        while let reply = try reader.next(), replies.count < 10_000 {
            replies.append(reply)
        }
        return replies
    }

    private func bulk(_ text: String) -> RESPValue { .bulkString(ByteBuffer(string: text)) }

    @Test func everyReplyType() throws {
        let replies = try self.parseAll("+OK\r\n-ERR unknown command 'FOO'\r\n:-42\r\n$5\r\nhello\r\n$-1\r\n*-1\r\n*0\r\n$0\r\n\r\n")
        #expect(replies == [
            .status("OK"), .error("ERR unknown command 'FOO'"), .integer(-42), self.bulk("hello"),
            .null, .null, .array([]), .bulkString(ByteBuffer()),
        ])
    }

    @Test func nestedArraysWithNulls() throws {
        let text = "*3\r\n:1\r\n*2\r\n$1\r\na\r\n*2\r\n$-1\r\n+x\r\n*1\r\n*1\r\n*0\r\n"
        let replies = try self.parseAll(text)
        #expect(replies == [
            .array([.integer(1), .array([self.bulk("a"), .array([.null, .status("x")])]), .array([.array([.array([])])])]),
        ])
    }

    @Test func integersAtTheLimits() throws {
        let replies = try self.parseAll(":9223372036854775807\r\n:-9223372036854775808\r\n:0\r\n")
        #expect(replies == [.integer(.max), .integer(.min), .integer(0)])
    }

    @Test func bulkStringsAreBinarySafe() throws {
        let payload: [UInt8] = Array(0...255) + Array("\r\n$3\r\n*1\r\n".utf8)
        let bytes = Array("$\(payload.count)\r\n".utf8) + payload + Array("\r\n".utf8)
        let replies = try self.parseAll(bytes)
        #expect(replies.count == 1)
        #expect(replies.first?.bytes == payload)
    }

    @Test func replySplitByteByByte() throws {
        let stream = "+OK\r\n*3\r\n$3\r\nfoo\r\n*2\r\n:7\r\n$-1\r\n$6\r\nb\r\nr\r\n\r\n-WRONGTYPE Operation\r\n:5\r\n"
        let expected = try self.parseAll(stream)
        #expect(expected.count == 4)

        let reader = try RESPReader()
        var replies: [RESPValue] = []
        for byte in stream.utf8 {
            try reader.feed([byte])
            while let reply = try reader.next() { replies.append(reply) }
        }
        #expect(replies == expected)
        #expect(reader.bufferedBytes == 0)
    }

    @Test func incompleteReplyWaitsForMoreBytes() throws {
        let reader = try RESPReader()
        try reader.feed(Array("*2\r\n$3\r\nfoo\r\n$3\r\nba".utf8))
        #expect(try reader.next() == nil)
        try reader.feed(Array("r\r\n".utf8))
        #expect(try reader.next() == .array([self.bulk("foo"), self.bulk("bar")]))
        #expect(try reader.next() == nil)
    }

    @Test(arguments: [
        "?what\r\n",
        "!3\r\nabc\r\n",
        "*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n:1\r\n",
    ])
    func malformedInputIsAProtocolError(_ text: String) throws {
        let reader = try RESPReader()
        let error = #expect(throws: RedisError.self) {
            try reader.feed(Array(text.utf8))
            while try reader.next() != nil {}
        }
        #expect(error?.code == .protocol)
        #expect(error?.message.isEmpty == false)
        // The error is sticky: the stream cannot be trusted any more.
        let again = #expect(throws: RedisError.self) { try reader.feed(Array("+OK\r\n".utf8)) }
        #expect(again?.code == .protocol)
    }

    @Test func replyLargerThanTheLimitIsRejected() throws {
        let reader = try RESPReader(maximumBufferedBytes: 64)
        try reader.feed(Array("$1000\r\n".utf8) + [UInt8](repeating: 0x61, count: 100))
        let error = #expect(throws: RedisError.self) { _ = try reader.next() }
        #expect(error?.code == .protocol)
    }

    /// Random bytes and random mutations of valid replies: every outcome is a value, "need more
    /// bytes" or a typed error; never a crash.
    @Test func randomInputNeverCrashes() throws {
        var random = SplitMix64(seed: 0x5EED)
        let valid = Array("*3\r\n$3\r\nfoo\r\n:12\r\n*2\r\n+OK\r\n$-1\r\n".utf8)
        let alphabet = Array("*$+-:\r\n0123456789-abc".utf8)
        var errors = 0
        var values = 0
        for round in 0..<3000 {
            var bytes: [UInt8]
            if round % 2 == 0 {
                bytes = valid
                for _ in 0..<(1 + Int(random.next() % 4)) {
                    let index = Int(random.next() % UInt64(bytes.count))
                    bytes[index] = alphabet[Int(random.next() % UInt64(alphabet.count))]
                }
            } else {
                let count = Int(random.next() % 40)
                bytes = (0..<count).map { _ in alphabet[Int(random.next() % UInt64(alphabet.count))] }
            }
            let reader = try RESPReader(maximumBufferedBytes: 1 << 16)
            do {
                try reader.feed(bytes)
                var drained = 0
                while drained < 100, try reader.next() != nil { drained += 1 }
                values += drained
            } catch {
                errors += 1
            }
        }
        #expect(errors > 0)
        #expect(values > 0)
    }
}

/// A tiny deterministic generator so the fuzz rounds are reproducible.
struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64
    init(seed: UInt64) { self.state = seed }
    mutating func next() -> UInt64 {
        self.state &+= 0x9E37_79B9_7F4A_7C15
        var z = self.state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
