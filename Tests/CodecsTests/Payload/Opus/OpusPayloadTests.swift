import NIOCore
import Testing
@testable import Codecs

@Suite struct OpusPayloadTests {
    static func frame(_ index: Int) -> ByteBuffer {
        buffer([0x78] + randomBytes(60 + index % 40, seed: UInt64(index)))
    }

    @Test func roundTripKeepsEveryPacketUnchanged() throws {
        var packetizer = OpusPacketizer()
        packetizer.startsTalkspurt = true
        let frames = (0..<50).map(Self.frame)
        let packets = try packetStream(&packetizer, frames: frames)
        #expect(packets.count == 50)
        #expect(packets[0].marker && !packets[1].marker)
        var depacketizer = OpusDepacketizer()
        let output = try depacketize(&depacketizer, packets)
        #expect(output.frames.map(\.data) == frames)
        #expect(output.dropped.isEmpty)
        let allKey = output.frames.allSatisfy { $0.isKeyframe }
        #expect(allKey)
    }

    @Test func lossIsReportedForPLC() throws {
        var packetizer = OpusPacketizer()
        var packets = try packetStream(&packetizer, frames: (0..<10).map(Self.frame))
        packets.remove(at: 4)
        packets.remove(at: 4)
        var depacketizer = OpusDepacketizer()
        let output = try depacketize(&depacketizer, packets)
        #expect(output.frames.count == 8)
        #expect(output.dropped == [DroppedFrame(reason: .lostInGap, timestamp: nil, missingPackets: 2)])
    }

    @Test func duplicatesAreIgnored() throws {
        var packetizer = OpusPacketizer()
        let packets = try packetStream(&packetizer, frames: (0..<3).map(Self.frame))
        var depacketizer = OpusDepacketizer()
        let output = try depacketize(&depacketizer, packets + [packets[1]])
        #expect(output.frames.count == 3)
    }

    @Test func oversizedPacketIsRejected() {
        var packetizer = OpusPacketizer(maxPayloadSize: 10)
        expectError(.valueOutOfRange) { try packetizer.packetize(frame: Self.frame(1)) }
    }
}
