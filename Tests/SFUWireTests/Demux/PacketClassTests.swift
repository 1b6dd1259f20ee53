import NIOCore
import Testing
@testable import SFUWire

@Suite struct PacketClassTests {
    @Test func classifiesByFirstByteRanges() {
        #expect(PacketClass.classify(firstByte: 0, secondByte: 1) == .stun)
        #expect(PacketClass.classify(firstByte: 3, secondByte: nil) == .stun)
        #expect(PacketClass.classify(firstByte: 16, secondByte: 0) == .unknown)  // ZRTP
        #expect(PacketClass.classify(firstByte: 20, secondByte: 0) == .dtls)
        #expect(PacketClass.classify(firstByte: 22, secondByte: 0xFE) == .dtls)
        #expect(PacketClass.classify(firstByte: 63, secondByte: 0) == .dtls)
        #expect(PacketClass.classify(firstByte: 64, secondByte: 0) == .turnChannel)
        #expect(PacketClass.classify(firstByte: 79, secondByte: 0) == .turnChannel)
        #expect(PacketClass.classify(firstByte: 80, secondByte: 0) == .unknown)
        #expect(PacketClass.classify(firstByte: 192, secondByte: 0) == .unknown)
    }

    /// RFC 5761 §4: second byte 192...223 is RTCP, anything else RTP (marker bit included).
    @Test func separatesRTPFromRTCP() {
        #expect(PacketClass.classify(firstByte: 0x80, secondByte: 96) == .rtp)
        #expect(PacketClass.classify(firstByte: 0x80, secondByte: 0x80 | 96) == .rtp)
        #expect(PacketClass.classify(firstByte: 0x80, secondByte: 191) == .rtp)
        #expect(PacketClass.classify(firstByte: 0x80, secondByte: 200) == .rtcp)
        #expect(PacketClass.classify(firstByte: 0x81, secondByte: 206) == .rtcp)
        #expect(PacketClass.classify(firstByte: 0x80, secondByte: 223) == .rtcp)
        #expect(PacketClass.classify(firstByte: 0x80, secondByte: 224) == .rtp)
        #expect(PacketClass.classify(firstByte: 0x80, secondByte: nil) == .unknown)
    }

    @Test func classifiesBuffersWithoutConsuming() {
        let stun = RFC5769.request
        #expect(PacketClass(classifying: stun) == .stun)
        #expect(stun.readerIndex == 0)
        #expect(PacketClass(classifying: ByteBuffer()) == .unknown)
        var offset = ByteBuffer(bytes: [0xFF, 0x80, 200])
        offset.moveReaderIndex(forwardBy: 1)
        #expect(PacketClass(classifying: offset) == .rtcp)
    }
}
