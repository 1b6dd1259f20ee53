import NIOCore
import Testing

@testable import CCP

@Suite struct CCPFrameDecoderTests {
    /// SPEC §4.1: Ack on channel 0, seq 2, `{"ack":1}`.
    static let specExample: [UInt8] = [0x0d, 0x06, 0x00, 0x02, 0x09, 0x7b, 0x22, 0x61, 0x63, 0x6b, 0x22, 0x3a, 0x31, 0x7d]

    func decodeAll(_ input: [UInt8], limits: CCPFrameDecoder.Limits = .init()) throws(CCPError) -> [CCPFrame] {
        var decoder = CCPFrameDecoder(limits: limits)
        var buffer = ByteBuffer(bytes: input)
        var frames: [CCPFrame] = []
        for _ in 0..<1000 {
            guard case .frame(let frame) = try decoder.decode(buffer: &buffer) else { break }
            frames.append(frame)
        }
        return frames
    }

    /// A raw body with arbitrary header varints, prefixed with its length.
    func rawFrame(type: UInt8, channel: UInt64, sequence: UInt64, payloadLength: UInt64? = nil, payload: [UInt8]) -> [UInt8] {
        var body = ByteBuffer()
        body.writeInteger(type)
        CCPVarint.write(channel, to: &body)
        CCPVarint.write(sequence, to: &body)
        CCPVarint.write(payloadLength ?? UInt64(payload.count), to: &body)
        body.writeBytes(payload)
        var frame = ByteBuffer()
        CCPVarint.write(UInt64(body.readableBytes), to: &frame)
        frame.writeBuffer(&body)
        return Array(frame.readableBytesView)
    }

    @Test func specExampleEncodesByteForByte() {
        let frame = CCPFrame(type: .ack, channelID: 0, sequence: 2, json: #"{"ack":1}"#)
        var buffer = ByteBuffer()
        let written = frame.write(to: &buffer)
        #expect(Array(buffer.readableBytesView) == Self.specExample)
        #expect(written == 14 && frame.encodedSize == 14 && frame.bodyLength == 13)
    }

    @Test func specExampleDecodes() throws {
        let frames = try decodeAll(Self.specExample)
        #expect(frames == [CCPFrame(type: .ack, channelID: 0, sequence: 2, json: #"{"ack":1}"#)])
    }

    @Test func everyPrefixNeedsMoreDataAndConsumesNothing() throws {
        for length in 0..<Self.specExample.count {
            var decoder = CCPFrameDecoder()
            var buffer = ByteBuffer(bytes: Self.specExample.prefix(length))
            #expect(try decoder.decode(buffer: &buffer) == .needMoreData)
            #expect(buffer.readerIndex == 0)
        }
    }

    @Test func frameTypesMatchSpecBytesAndPayloadKinds() {
        #expect(CCPFrameType.allCases.map(\.rawValue) == Array(0x01...0x15))
        #expect(CCPFrameType.allCases.filter { !$0.carriesJSON } == [.msg, .voiceFrame, .videoFrame])
    }

    @Test func opaquePayloadsAreNotValidatedAsJSON() throws {
        let payload: [UInt8] = [0xff, 0x00, 0xfe]
        let input = rawFrame(type: 0x05, channel: 7, sequence: UInt64(UInt32.max), payload: payload)
        let frames = try decodeAll(input)
        #expect(frames.count == 1)
        #expect(frames.first?.type == .msg)
        #expect(frames.first?.sequence == UInt32.max)
        #expect(frames.first.map { Array($0.payload.readableBytesView) } == payload)
    }

    @Test func decodesBackToBackFramesAndLeavesATrailingPartialFrame() throws {
        var decoder = CCPFrameDecoder()
        var buffer = ByteBuffer(bytes: Self.specExample + Self.specExample + Self.specExample.prefix(5))
        #expect(try decoder.decode(buffer: &buffer) != .needMoreData)
        #expect(try decoder.decode(buffer: &buffer) != .needMoreData)
        #expect(try decoder.decode(buffer: &buffer) == .needMoreData)
        #expect(buffer.readableBytes == 5)
    }

    @Test func unknownFrameTypesAreRejected() {
        for type: UInt8 in [0x00, 0x16, 0x7f, 0xff] {
            expectCCPError(.unknownFrameType) { () throws(CCPError) in
                try decodeAll(rawFrame(type: type, channel: 0, sequence: 0, payload: Array("{}".utf8)))
            }
        }
    }

    @Test func channelAndSequenceAbove32BitsAreRejected() {
        let big = UInt64(UInt32.max) + 1
        expectCCPError(.channelIDOutOfRange) { () throws(CCPError) in
            try decodeAll(rawFrame(type: 0x05, channel: big, sequence: 0, payload: []))
        }
        expectCCPError(.sequenceOutOfRange) { () throws(CCPError) in
            try decodeAll(rawFrame(type: 0x05, channel: 0, sequence: big, payload: []))
        }
    }

    @Test func payloadLengthMustEqualTheRestOfTheBody() {
        expectCCPError(.payloadLengthMismatch) { () throws(CCPError) in
            try decodeAll(rawFrame(type: 0x05, channel: 0, sequence: 0, payloadLength: 2, payload: [1, 2, 3]))
        }
        expectCCPError(.payloadLengthMismatch) { () throws(CCPError) in
            try decodeAll(rawFrame(type: 0x05, channel: 0, sequence: 0, payloadLength: 4, payload: [1, 2, 3]))
        }
    }

    @Test func truncatedHeadersInsideACompleteBodyAreRejected() {
        for input: [UInt8] in [[0x00], [0x01, 0x05], [0x02, 0x05, 0x00], [0x03, 0x05, 0x00, 0x00], [0x02, 0x05, 0x80]] {
            expectCCPError(.truncatedHeader) { () throws(CCPError) in try decodeAll(input) }
        }
    }

    @Test func oversizedBodyFailsBeforeItArrives() {
        let limits = CCPFrameDecoder.Limits(maxBodyLength: 100)
        var prefix = ByteBuffer()
        CCPVarint.write(101, to: &prefix)
        expectCCPError(.bodyTooLarge) { () throws(CCPError) in try decodeAll(Array(prefix.readableBytesView), limits: limits) }
        // The default limit: 16 MiB + 1.
        var big = ByteBuffer()
        CCPVarint.write(16 * 1024 * 1024 + 1, to: &big)
        expectCCPError(.bodyTooLarge) { () throws(CCPError) in try decodeAll(Array(big.readableBytesView)) }
    }

    @Test func oversizedJSONPayloadFailsFromTheHeaderAlone() {
        // A JSON-typed frame announcing 256 KiB + 1 bytes: only the header has arrived.
        let header = rawFrame(type: 0x06, channel: 0, sequence: 0, payloadLength: 256 * 1024 + 1, payload: [])
        var withBody = ByteBuffer()
        CCPVarint.write(UInt64(header.count - 1 + 256 * 1024 + 1), to: &withBody)
        withBody.writeBytes(header.dropFirst())
        expectCCPError(.jsonPayloadTooLarge) { () throws(CCPError) in try decodeAll(Array(withBody.readableBytesView)) }
    }

    @Test func payloadLimitsAreInitParameters() {
        let limits = CCPFrameDecoder.Limits(maxPayloadLength: 4, maxJSONPayloadLength: 2)
        expectCCPError(.payloadTooLarge) { () throws(CCPError) in
            try decodeAll(rawFrame(type: 0x05, channel: 0, sequence: 0, payload: [1, 2, 3, 4, 5]), limits: limits)
        }
        expectCCPError(.jsonPayloadTooLarge) { () throws(CCPError) in
            try decodeAll(rawFrame(type: 0x06, channel: 0, sequence: 0, payload: Array("[1]".utf8)), limits: limits)
        }
        #expect(throws: Never.self) {
            try decodeAll(rawFrame(type: 0x05, channel: 0, sequence: 0, payload: [1, 2, 3, 4]), limits: limits)
        }
    }

    @Test func jsonPayloadsMustBeOneJSONValue() throws {
        for bad in ["", "{", "{}{}", "ack", "{'a':1}", "\u{FEFF}{}"] {
            expectCCPError(.invalidJSON) { () throws(CCPError) in
                try decodeAll(rawFrame(type: 0x15, channel: 1, sequence: 1, payload: Array(bad.utf8)))
            }
        }
        let lenient = CCPFrameDecoder.Limits(validatesJSON: false)
        let frames = try decodeAll(rawFrame(type: 0x15, channel: 1, sequence: 1, payload: Array("{".utf8)), limits: lenient)
        #expect(frames.count == 1)
    }

    @Test func nonMinimalLengthPrefixIsRejected() {
        expectCCPError(.varintNonMinimal) { () throws(CCPError) in try decodeAll([0x8d, 0x00] + Self.specExample.dropFirst()) }
    }

    @Test func errorsMapToTheDecodeTaxonomyCode() {
        #expect(CCPError(.invalidJSON).taxonomyCode == "decode")
        #expect(CCPError(.varintOverflow).taxonomyCode == "decode")
        #expect(CCPError(.noiseDecryptFailed).taxonomyCode == "noise")
    }

    @Test func extremeLimitsNeitherOverflowNorTrap() throws {
        var huge = ByteBuffer()
        CCPVarint.write(UInt64(Int.max), to: &huge)
        huge.writeBytes([0x05, 0x00, 0x00])
        var unlimited = CCPFrameDecoder(limits: .init(maxBodyLength: .max, maxPayloadLength: .max, maxJSONPayloadLength: .max))
        #expect(try unlimited.decode(buffer: &huge) == .needMoreData)
        var negative = CCPFrameDecoder(limits: .init(maxBodyLength: -1))
        var example = ByteBuffer(bytes: Self.specExample)
        expectCCPError(.bodyTooLarge) { () throws(CCPError) in try negative.decode(buffer: &example) }
    }
}
