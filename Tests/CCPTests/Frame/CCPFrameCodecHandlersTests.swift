import NIOCore
import NIOEmbedded
import NIOTestUtils
import Testing

@testable import CCP

@Suite struct CCPFrameCodecHandlersTests {
    static let frames: [CCPFrame] = [
        CCPFrame(type: .ack, channelID: 0, sequence: 2, json: #"{"ack":1}"#),
        CCPFrame(type: .msg, channelID: 300, sequence: 70_000, payload: ByteBuffer(bytes: [0, 1, 2, 0xff])),
        CCPFrame(type: .keepalive, channelID: UInt32.max, sequence: UInt32.max, json: #"{"nonce":"abc"}"#),
        CCPFrame(type: .videoFrame, channelID: 1, sequence: 0, payload: ByteBuffer(repeating: 0xab, count: 200)),
        CCPFrame(type: .hello, channelID: 0, sequence: 0, json: "[1, 2.5e3, null, true, \"\\u00e9\"]"),
    ]

    static func encoded(_ frame: CCPFrame) -> ByteBuffer {
        var buffer = ByteBuffer()
        frame.write(to: &buffer)
        return buffer
    }

    @Test func decoderPassesByteToMessageDecoderVerifier() throws {
        let pairs = Self.frames.map { (Self.encoded($0), [$0]) }
        try ByteToMessageDecoderVerifier.verifyDecoder(inputOutputPairs: pairs) { CCPFrameByteDecoder() }
    }

    @Test func decoderSurfacesTypedErrorsThroughThePipeline() throws {
        let channel = EmbeddedChannel(handler: ByteToMessageHandler(CCPFrameByteDecoder()))
        var bad = ByteBuffer(bytes: [0x04, 0x7f, 0x00, 0x00, 0x00])
        let thrown = #expect(throws: CCPError.self) { try channel.writeInbound(bad) }
        #expect(thrown?.code == .unknownFrameType)
        bad.clear()
        _ = try? channel.finish()
    }

    @Test func endOfStreamInsideAFrameIsATruncatedFrame() throws {
        let channel = EmbeddedChannel(handler: ByteToMessageHandler(CCPFrameByteDecoder()))
        try channel.writeInbound(ByteBuffer(bytes: CCPFrameDecoderTests.specExample.prefix(6)))
        let thrown = #expect(throws: CCPError.self) { try channel.finish() }
        #expect(thrown?.code == .truncatedFrame)
    }

    @Test func encoderWritesFramesTheDecoderReadsBack() throws {
        let channel = EmbeddedChannel(handlers: [
            MessageToByteHandler(CCPFrameEncoder()), ByteToMessageHandler(CCPFrameByteDecoder()),
        ])
        for frame in Self.frames {
            try channel.writeOutbound(frame)
            guard let bytes = try channel.readOutbound(as: ByteBuffer.self) else {
                Issue.record("no bytes for \(frame.type)")
                continue
            }
            #expect(bytes == Self.encoded(frame))
            try channel.writeInbound(bytes)
            #expect(try channel.readInbound(as: CCPFrame.self) == frame)
        }
        _ = try channel.finish()
    }

    @Test func encoderRefusesOversizedPayloads() {
        let limits = CCPFrameDecoder.Limits(maxPayloadLength: 8, maxJSONPayloadLength: 4)
        var out = ByteBuffer()
        let json = CCPFrame(type: .ack, channelID: 0, sequence: 0, json: #"{"a":1}"#)
        let opaque = CCPFrame(type: .msg, channelID: 0, sequence: 0, payload: ByteBuffer(repeating: 0, count: 9))
        let jsonError = #expect(throws: CCPError.self) { try CCPFrameEncoder(limits: limits).encode(data: json, out: &out) }
        #expect(jsonError?.code == .jsonPayloadTooLarge)
        let opaqueError = #expect(throws: CCPError.self) { try CCPFrameEncoder(limits: limits).encode(data: opaque, out: &out) }
        #expect(opaqueError?.code == .payloadTooLarge)
        #expect(out.readableBytes == 0)
    }
}
