import NIOCore
import SFUWire
import Testing
@testable import SFUCore

@Suite("EgressRewriter")
struct EgressRewriterTests {
    /// A packet with one-byte extensions: id 1 (mid "a"), id 3 (abs-send-time, 3 bytes), id 5
    /// (transport-cc, 2 bytes), and a 4-byte payload.
    func packet(padding: UInt8 = 0) throws -> ByteBuffer {
        var extensions = RTPHeaderExtensionsBuilder(form: .oneByte)
        try extensions.append(id: 1, value: Array("a".utf8))
        try extensions.append(id: 3, value: [0x11, 0x22, 0x33])
        try extensions.append(id: 5, value: [0x00, 0x07])
        var buffer = ByteBuffer()
        RTPPacket.write(
            to: &buffer, marker: true, payloadType: 96, sequenceNumber: 4242, timestamp: 99, ssrc: 0xDEAD_BEEF,
            extensions: extensions, payload: ByteBuffer(bytes: [1, 2, 3, 4]), paddingLength: padding)
        return buffer
    }

    let producerExtensions = [
        RTPHeaderExtensionParameters(uri: RTPHeaderExtensionURI.mid, id: 1),
        RTPHeaderExtensionParameters(uri: RTPHeaderExtensionURI.absSendTime, id: 3),
        RTPHeaderExtensionParameters(uri: RTPHeaderExtensionURI.transportWideCC, id: 5),
    ]

    @Test func rewritesHeaderRemapsAndStripsExtensions() throws {
        var buffer = try packet()
        let length = buffer.readableBytes
        // The subscriber negotiated abs-send-time as 2 and transport-cc as 9; no mid.
        let map = HeaderExtensionIDMap(producer: producerExtensions, consumer: [
            .init(uri: RTPHeaderExtensionURI.absSendTime, id: 2), .init(uri: RTPHeaderExtensionURI.transportWideCC, id: 9),
        ])
        let ok = buffer.withUnsafeMutableReadableBytes {
            EgressRewriter.rewrite(
                $0, ssrc: 0x0102_0304, sequenceNumber: 7, timestamp: 0xFFFF_FFFF, payloadType: 111, extensionMap: map,
                transportCCID: 9, transportSequence: 0xABCD)
        }
        #expect(ok)
        #expect(buffer.readableBytes == length)
        let parsed = try RTPPacket(buffer: buffer)
        #expect(parsed.ssrc == 0x0102_0304)
        #expect(parsed.sequenceNumber == 7)
        #expect(parsed.timestamp == 0xFFFF_FFFF)
        #expect(parsed.payloadType == 111)
        #expect(parsed.marker)
        #expect(parsed.extensionValue(id: 1) == nil)
        #expect(parsed.extensionValue(id: 2).map { Array($0.readableBytesView) } == [0x11, 0x22, 0x33])
        #expect(parsed.extensionInteger(id: 9, as: UInt16.self) == 0xABCD)
        #expect(parsed.extensions.map(\.id) == [2, 9])
        #expect(Array(parsed.payload.readableBytesView) == [1, 2, 3, 4])
    }

    @Test func thePublishersMIDIsNeverForwardedEvenWhenTheSubscriberNegotiatedMID() throws {
        var buffer = try packet()
        let map = HeaderExtensionIDMap(producer: producerExtensions, consumer: [
            .init(uri: RTPHeaderExtensionURI.mid, id: 4), .init(uri: RTPHeaderExtensionURI.absSendTime, id: 2),
        ])
        #expect(map[1] == 0)
        let ok = buffer.withUnsafeMutableReadableBytes {
            EgressRewriter.rewrite($0, ssrc: 1, sequenceNumber: 1, timestamp: 1, payloadType: 96, extensionMap: map)
        }
        #expect(ok)
        let parsed = try RTPPacket(buffer: buffer)
        #expect(parsed.extensions.map(\.id) == [2], "only abs-send-time survives; the publisher's mid \"a\" is gone")
    }

    @Test func rtxCarriesOriginalSequenceNumberAndPayloadWithoutPadding() throws {
        let original = try packet(padding: 4)
        var out = [UInt8](repeating: 0, count: 200)
        let length = original.withUnsafeReadableBytes { source in
            out.withUnsafeMutableBytes { target in
                EgressRewriter.writeRTX(from: source, ssrc: 77, sequenceNumber: 3, payloadType: 97, into: target)
            }
        }
        let written = try #require(length)
        let rtx = try RTPPacket(buffer: ByteBuffer(bytes: out[0..<written]))
        #expect(rtx.ssrc == 77)
        #expect(rtx.sequenceNumber == 3)
        #expect(rtx.payloadType == 97)
        #expect(rtx.marker)
        #expect(!rtx.hasPadding)
        #expect(rtx.timestamp == 99)
        #expect(Array(rtx.payload.readableBytesView) == [0x10, 0x92, 1, 2, 3, 4])  // OSN 4242 = 0x1092
    }

    @Test func truncatedHeadersAreRefused() {
        var bytes: [UInt8] = [0x90, 96, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0xBE, 0xDE, 0, 9]
        let ok = bytes.withUnsafeMutableBytes {
            EgressRewriter.rewrite($0, ssrc: 1, sequenceNumber: 1, timestamp: 1, payloadType: 1, extensionMap: .identity)
        }
        #expect(!ok)
    }
}
