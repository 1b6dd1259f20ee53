import NIOCore
import Testing
@testable import SFUWire

@Suite struct RTPPacketTests {
    /// A VP8 packet as Chrome sends it: marker, PT 96, one-byte extensions (mid "0", abs-send-time,
    /// transport-wide sequence number), 4-byte payload.
    /// Computed, so each test gets storage it owns alone.
    static var chromeVideo: ByteBuffer {
        hexBuffer("""
        90 e0 1a 2b  # V=2 X=1, M=1 PT=96, seq 0x1a2b
        00 01 e2 40  # timestamp 123456
        de ad be ef  # SSRC
        be de 00 03  # one-byte profile, 3 words
        10 30        # id 1 len 1: mid "0"
        22 12 34 56  # id 2 len 3: abs-send-time
        31 00 07     # id 3 len 2: transport-cc seq 7
        00 00 00     # padding
        01 02 03 04  # payload
        """)
    }

    @Test func parsesHeaderFields() throws {
        let packet = try RTPPacket(buffer: Self.chromeVideo)
        #expect(packet.version == 2)
        #expect(packet.marker)
        #expect(packet.payloadType == 96)
        #expect(packet.sequenceNumber == 0x1A2B)
        #expect(packet.timestamp == 123_456)
        #expect(packet.ssrc == 0xDEAD_BEEF)
        #expect(packet.csrcCount == 0)
        #expect(packet.headerLength == 28)
        #expect(bytes(packet.payload) == [1, 2, 3, 4])
        #expect(packet.encodedSize == 32)
    }

    @Test func findsOneByteExtensions() throws {
        let packet = try RTPPacket(buffer: Self.chromeVideo)
        #expect(packet.extensionForm == .oneByte)
        #expect(packet.extensions.map(\.id) == [1, 2, 3])
        #expect(packet.extensionValue(id: 1).map { String(buffer: $0) } == "0")
        #expect(packet.extensionValue(id: 2).map(bytes) == [0x12, 0x34, 0x56])
        #expect(packet.extensionInteger(id: 3, as: UInt16.self) == 7)
        #expect(packet.extensionValue(id: 4) == nil)
    }

    @Test func rewritesInPlaceWithoutCopying() throws {
        var packet = try RTPPacket(buffer: Self.chromeVideo)
        let before = packet.buffer.withUnsafeReadableBytes { UInt(bitPattern: $0.baseAddress) }
        packet.rewrite(ssrc: 0x0102_0304, sequenceNumber: 65535, timestamp: 0xFFFF_FFFF, payloadType: 100)
        packet.marker = false
        let setSequence = packet.setExtensionInteger(id: 3, to: UInt16(0xBEEF))
        let setAbsSendTime = packet.setExtensionUInt24(id: 2, to: 0xABCDEF)
        let setWrongSize = packet.setExtensionInteger(id: 3, to: UInt32(1))
        let setAbsent = packet.setExtensionValue(id: 9, to: [1])
        #expect(setSequence && setAbsSendTime)
        #expect(!setWrongSize && !setAbsent)
        let after = packet.buffer.withUnsafeReadableBytes { UInt(bitPattern: $0.baseAddress) }
        #expect(before == after, "rewrite must not copy the storage")

        let reparsed = try RTPPacket(buffer: packet.buffer)
        #expect(reparsed.ssrc == 0x0102_0304)
        #expect(reparsed.sequenceNumber == 65535)
        #expect(reparsed.timestamp == 0xFFFF_FFFF)
        #expect(reparsed.payloadType == 100)
        #expect(!reparsed.marker)
        #expect(reparsed.extensionInteger(id: 3, as: UInt16.self) == 0xBEEF)
        #expect(reparsed.extensionValue(id: 2).map(bytes) == [0xAB, 0xCD, 0xEF])
        #expect(bytes(reparsed.payload) == [1, 2, 3, 4])
    }

    @Test func rewriteOfSharedStorageCopiesAndLeavesOriginalIntact() throws {
        let original = Self.chromeVideo
        var packet = try RTPPacket(buffer: original)
        packet.ssrc = 1
        #expect(packet.ssrc == 1)
        #expect(try RTPPacket(buffer: original).ssrc == 0xDEAD_BEEF)
    }

    @Test func parsingFromInoutBufferTakesTheBytes() throws {
        var source = Self.chromeVideo
        let packet = try RTPPacket(parsing: &source)
        #expect(source.readableBytes == 0)
        #expect(packet.sequenceNumber == 0x1A2B)
    }

    @Test func csrcsAndPaddingAreHonoured() throws {
        let input = hexBuffer("""
            a2 08 00 01  # V=2 P=1 CC=2, PT 8
            00 00 00 02
            00 00 00 03
            00 00 00 0a  # CSRC 10
            00 00 00 0b  # CSRC 11
            aa bb        # payload
            00 00 03     # 3 bytes of padding
            """)
        let packet = try RTPPacket(buffer: input)
        #expect(packet.csrcCount == 2)
        #expect(packet.csrc(at: 0) == 10)
        #expect(packet.csrc(at: 1) == 11)
        #expect(packet.csrc(at: 2) == nil)
        #expect(packet.paddingLength == 3)
        #expect(bytes(packet.payload) == [0xAA, 0xBB])
    }

    @Test func writerRoundTripsEveryFeature() throws {
        var extensions = RTPHeaderExtensionsBuilder(form: .oneByte)
        try extensions.append(id: 1, value: Array("m".utf8))
        try extensions.append(id: 14, value: [UInt8](repeating: 7, count: 16))
        var out = ByteBuffer()
        let written = RTPPacket.write(
            to: &out, marker: true, payloadType: 111, sequenceNumber: 9, timestamp: 960, ssrc: 42, csrcs: [1, 2, 3],
            extensions: extensions, payload: ByteBuffer(bytes: [9, 8, 7]), paddingLength: 4
        )
        #expect(written == out.readableBytes)
        let packet = try RTPPacket(buffer: out)
        #expect(packet.marker && packet.payloadType == 111 && packet.sequenceNumber == 9)
        #expect(packet.timestamp == 960 && packet.ssrc == 42 && packet.csrcCount == 3)
        #expect(packet.csrc(at: 2) == 3)
        #expect(packet.extensionValue(id: 14).map(bytes) == [UInt8](repeating: 7, count: 16))
        #expect(bytes(packet.payload) == [9, 8, 7])
        #expect(packet.paddingLength == 4)
        var copy = ByteBuffer()
        packet.write(to: &copy)
        #expect(copy == out)
    }

    @Test func twoByteExtensionsRoundTrip() throws {
        var extensions = RTPHeaderExtensionsBuilder(form: .twoByte(appBits: 0))
        try extensions.append(id: 200, value: [UInt8]())
        try extensions.append(id: 15, value: [UInt8](repeating: 1, count: 40))
        var out = ByteBuffer()
        RTPPacket.write(to: &out, payloadType: 96, sequenceNumber: 1, timestamp: 2, ssrc: 3, extensions: extensions, payload: ByteBuffer())
        let packet = try RTPPacket(buffer: out)
        #expect(packet.extensionForm == .twoByte(appBits: 0))
        #expect(packet.extensions.map { [$0.id, UInt8($0.length)] } == [[200, 0], [15, 40]])
        #expect(packet.payloadLength == 0)
    }

    @Test func oneByteIDFifteenStopsProcessing() throws {
        let input = hexBuffer("""
            90 60 00 01 00 00 00 01 00 00 00 01
            be de 00 02
            10 aa        # id 1 len 1
            f0           # id 15: stop (RFC 8285 §4.2)
            20 bb 00 00 00  # would be id 2, must be ignored
            """)
        let packet = try RTPPacket(buffer: input)
        #expect(packet.extensions.map(\.id) == [1])
        #expect(packet.extensionValue(id: 2) == nil)
    }

    @Test func builderRejectsInvalidElements() {
        func rejects(_ form: RTPHeaderExtensionForm, id: UInt8, count: Int) -> Bool {
            var builder = RTPHeaderExtensionsBuilder(form: form)
            do {
                try builder.append(id: id, value: [UInt8](repeating: 0, count: count))
                return false
            } catch {
                return error.code == .valueOutOfRange
            }
        }
        #expect(rejects(.oneByte, id: 15, count: 1))
        #expect(rejects(.oneByte, id: 1, count: 0))
        #expect(rejects(.oneByte, id: 1, count: 17))
        #expect(rejects(.twoByte(appBits: 0), id: 0, count: 1))
        #expect(!rejects(.twoByte(appBits: 0), id: 1, count: 255))
    }

    @Test func malformedPacketsThrowTypedErrors() {
        func code(_ hex: String) -> WireParseError.Code? {
            do {
                _ = try RTPPacket(buffer: hexBuffer(hex))
                return nil
            } catch {
                return error.code
            }
        }
        #expect(code("80 60 00 01 00 00 00 01 00 00 00") == .truncated)
        #expect(code("40 60 00 01 00 00 00 01 00 00 00 01") == .invalidVersion)
        #expect(code("81 60 00 01 00 00 00 01 00 00 00 01") == .truncated)  // CSRC missing
        #expect(code("90 60 00 01 00 00 00 01 00 00 00 01 be de") == .truncated)
        #expect(code("90 60 00 01 00 00 00 01 00 00 00 01 be de 00 02 00 00 00 00") == .truncated)
        #expect(code("90 60 00 01 00 00 00 01 00 00 00 01 be de 00 01 13 00 00 00") == .invalidHeaderExtension)
        #expect(code("a0 60 00 01 00 00 00 01 00 00 00 01 00") == .invalidPadding)  // count 0
        #expect(code("a0 60 00 01 00 00 00 01 00 00 00 01 aa 05") == .invalidPadding)  // too large
        #expect(code("a0 60 00 01 00 00 00 01 00 00 00 01") == .invalidPadding)  // no room
    }
}

@Suite struct RTPPacketOffsetTests {
    /// Packets that sit after other bytes in a buffer (non-zero reader index) parse and rewrite
    /// relative to their own start.
    @Test func worksAtNonZeroReaderIndex() throws {
        var buffer = ByteBuffer(bytes: [0xEE, 0xEE, 0xEE])
        buffer.writeImmutableBuffer(RTPPacketTests.chromeVideo)
        buffer.moveReaderIndex(forwardBy: 3)
        var packet = try RTPPacket(buffer: buffer)
        #expect(packet.extensionInteger(id: 3, as: UInt16.self) == 7)
        packet.sequenceNumber = 5
        #expect(packet.setExtensionInteger(id: 3, to: UInt16(9)) == true)
        let reparsed = try RTPPacket(buffer: packet.buffer)
        #expect(reparsed.sequenceNumber == 5)
        #expect(reparsed.extensionInteger(id: 3, as: UInt16.self) == 9)
        #expect(bytes(reparsed.payload) == [1, 2, 3, 4])
    }
}
