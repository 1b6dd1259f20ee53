import NIOCore
import Testing

@testable import CCP

@Suite struct CCPVarintTests {
    func peek(_ input: [UInt8]) throws(CCPError) -> CCPVarint.ReadResult {
        let buffer = ByteBuffer(bytes: input)
        return try CCPVarint.peek(in: buffer, at: buffer.readerIndex, limit: buffer.writerIndex)
    }

    static let knownValues: [(UInt64, [UInt8])] = [
        (0, [0x00]),
        (1, [0x01]),
        (127, [0x7f]),
        (128, [0x80, 0x01]),
        (300, [0xac, 0x02]),
        (16_384, [0x80, 0x80, 0x01]),
        (UInt64(UInt32.max), [0xff, 0xff, 0xff, 0xff, 0x0f]),
        (UInt64.max, [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]),
    ]

    @Test(arguments: knownValues)
    func encodesAndDecodesKnownValues(value: UInt64, encoding: [UInt8]) throws {
        var buffer = ByteBuffer()
        CCPVarint.write(value, to: &buffer)
        #expect(Array(buffer.readableBytesView) == encoding)
        #expect(CCPVarint.encodedLength(value) == encoding.count)
        #expect(try peek(encoding) == .value(value, length: encoding.count))
    }

    @Test func roundTripsEveryBitLength() throws {
        for shift in 0..<64 {
            for value in [UInt64(1) << UInt64(shift), (UInt64(1) << UInt64(shift)) - 1, (UInt64(1) << UInt64(shift)) | 1] {
                var buffer = ByteBuffer()
                CCPVarint.write(value, to: &buffer)
                #expect(try peek(Array(buffer.readableBytesView)) == .value(value, length: buffer.readableBytes))
            }
        }
    }

    @Test func incompleteInputNeedsMoreData() throws {
        #expect(try peek([]) == .needMoreData)
        #expect(try peek([0x80]) == .needMoreData)
        #expect(try peek([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]) == .needMoreData)
    }

    @Test func tenthByteWithContinuationIsTooLong() {
        let input = [UInt8](repeating: 0xff, count: 10) + [0x01]
        expectCCPError(.varintTooLong) { () throws(CCPError) in try peek(input) }
    }

    @Test func valueBeyondSixtyFourBitsOverflows() {
        let input = [UInt8](repeating: 0xff, count: 9) + [0x02]
        expectCCPError(.varintOverflow) { () throws(CCPError) in try peek(input) }
    }

    @Test(arguments: [[0x80, 0x00] as [UInt8], [0x81, 0x80, 0x00], [0xff, 0x00]])
    func nonMinimalEncodingsAreRejected(input: [UInt8]) {
        expectCCPError(.varintNonMinimal) { () throws(CCPError) in try peek(input) }
    }

    @Test func peekRespectsTheLimitAndLeavesTheReaderIndex() throws {
        let buffer = ByteBuffer(bytes: [0xac, 0x02, 0x05])
        #expect(try CCPVarint.peek(in: buffer, at: 0, limit: 1) == .needMoreData)
        #expect(try CCPVarint.peek(in: buffer, at: 2, limit: 3) == .value(5, length: 1))
        #expect(buffer.readerIndex == 0)
    }
}
