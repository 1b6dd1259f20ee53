import NIOCore
import Testing
@testable import SFUWire

@Suite struct RTCPCompoundTests {
    @Test func iteratesCompoundPacket() throws {
        var buffer = ByteBuffer()
        let packets: [RTCPPacket] = [
            .receiverReport(RTCPReceiverReport(ssrc: 1, reportBlocks: [RTCPReportBlock(ssrc: 2)])),
            .sourceDescription(RTCPSourceDescription(chunks: [.init(source: 1, items: [.cname("c")])])),
            .pictureLossIndication(RTCPPictureLossIndication(senderSSRC: 1, mediaSSRC: 2)),
            .nack(RTCPNack(senderSSRC: 1, mediaSSRC: 2, lostSequenceNumbers: [4, 5])),
            .remb(RTCPRemb(senderSSRC: 1, bitrate: 300_000, ssrcs: [2])),
            .fullIntraRequest(RTCPFullIntraRequest(senderSSRC: 1, entries: [.init(ssrc: 2, sequenceNumber: 1)])),
            .transportCC(RTCPTransportCC(senderSSRC: 1, mediaSSRC: 2, baseSequenceNumber: 1, referenceTime: 1, feedbackPacketCount: 1, packets: [.notReceived, .received(delta: 3)])),
            .bye(RTCPBye(sources: [1])),
        ]
        for packet in packets { packet.write(to: &buffer) }
        #expect(buffer.readableBytes == packets.reduce(0) { $0 + $1.encodedSize })
        #expect(try RTCPCompoundIterator.parseAll(buffer) == packets)

        var headers = RTCPCompoundIterator(buffer)
        var types: [UInt8] = []
        while let (header, bytes) = try headers.nextHeader() {
            types.append(header.packetType)
            #expect(bytes.readableBytes == header.packetSize)
        }
        #expect(types == [201, 202, 206, 205, 206, 206, 205, 203])
    }

    @Test func unknownPacketsArePreserved() throws {
        let app = hexBuffer("80 cc 00 02 00 00 00 01 61 62 63 64")  // APP "abcd"
        let packets = try RTCPCompoundIterator.parseAll(app)
        guard case .unknown(let header, let bytes)? = packets.first else {
            Issue.record("expected unknown")
            return
        }
        #expect(header.packetType == 204)
        #expect(bytes == app)
        var out = ByteBuffer()
        packets[0].write(to: &out)
        #expect(out == app)
    }

    @Test func badLengthStopsWithTypedError() {
        let buffer = hexBuffer("80 c9 00 01 00 00 00 2a 80 c9 00 09 00 00")
        var iterator = RTCPCompoundIterator(buffer)
        #expect(throws: Never.self) { _ = try iterator.next() }
        #expect { _ = try iterator.next() } throws: { ($0 as? WireParseError)?.code == .truncated }
    }

    @Test func paddingOnLastPacketIsRemoved() throws {
        // RR with P=1: 4 bytes of padding, count in the last octet.
        let buffer = hexBuffer("a0 c9 00 02 00 00 00 2a 00 00 00 04")
        let packets = try RTCPCompoundIterator.parseAll(buffer)
        #expect(packets == [.receiverReport(RTCPReceiverReport(ssrc: 42))])
        let invalid = hexBuffer("a0 c9 00 02 00 00 00 2a 00 00 00 0d")
        #expect { try RTCPCompoundIterator.parseAll(invalid) } throws: { ($0 as? WireParseError)?.code == .invalidPadding }
    }
}
