import NIOCore
import Redis
import Testing

@Suite struct RESPValueTests {
    @Test func accessors() {
        #expect(RESPValue.status("PONG").string == "PONG")
        #expect(RESPValue.bulkString(ByteBuffer(string: "12")).integer == 12)
        #expect(RESPValue.bulkString(ByteBuffer(string: "x")).integer == nil)
        #expect(RESPValue.integer(7).string == "7")
        #expect(RESPValue.null.isNull)
        #expect(RESPValue.null.string == nil)
        #expect(RESPValue.error("ERR nope").errorMessage == "ERR nope")
        #expect(RESPValue.array([.integer(1)]).array == [.integer(1)])
        #expect(RESPValue.bulkString(ByteBuffer(bytes: [0, 255])).bytes == [0, 255])
    }
}
