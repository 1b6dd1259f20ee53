import NIOCore
import Testing
@testable import Codecs

@Suite struct VP8PacketizerTests {
    /// A synthetic VP8 frame: a real frame tag (RFC 6386 §9.1) followed by random partition bytes.
    static func frame(keyframe: Bool, size: Int, seed: UInt64) -> ByteBuffer {
        var out = ByteBuffer()
        VP8FrameHeader.write(keyframe: keyframe, firstPartitionSize: size / 3, width: 1280, height: 720, to: &out)
        out.writeBytes(randomBytes(size - out.readableBytes, seed: seed))
        return out
    }

    static let frames: [ByteBuffer] = [
        frame(keyframe: true, size: 9000, seed: 1), frame(keyframe: false, size: 700, seed: 2),
        frame(keyframe: false, size: 2500, seed: 3), frame(keyframe: false, size: 1196, seed: 4),
        frame(keyframe: false, size: 1197, seed: 5), frame(keyframe: true, size: 30, seed: 6),
    ]

    @Test func roundTripAcrossSequenceWrap() throws {
        var packetizer = VP8Packetizer(maxPayloadSize: 1200, initialPictureID: 0x7FFE)
        let packets = try packetStream(&packetizer, frames: Self.frames)
        // 9000 bytes at 1196 per packet = 8 packets, sizes within one byte of each other.
        let first = packets.prefix(8).map { $0.payload.readableBytes }
        #expect(first.max()! - first.min()! <= 1)
        #expect(packets.filter(\.marker).count == Self.frames.count)
        #expect(packetizer.pictureID == 4)  // 0x7FFE + 6 wraps at 15 bits
        var depacketizer = VP8Depacketizer()
        let output = try depacketize(&depacketizer, packets)
        #expect(output.frames.map(\.data) == Self.frames)
        #expect(output.frames.map(\.isKeyframe) == [true, false, false, false, false, true])
        #expect(output.dropped.isEmpty)
    }

    @Test func descriptorsCarryIncrementingPictureIDs() throws {
        var packetizer = VP8Packetizer(maxPayloadSize: 500, initialPictureID: 100)
        packetizer.tl0PictureIndex = 3
        packetizer.temporalLayerID = 1
        let packets = try packetStream(&packetizer, frames: Array(Self.frames.prefix(2)))
        var ids: [UInt16] = []
        for packet in packets {
            var payload = packet.payload
            let descriptor = try VP8PayloadDescriptor(parsing: &payload)
            ids.append(descriptor.pictureID ?? 0)
            #expect(descriptor.tl0PictureIndex == 3 && descriptor.temporalLayerID == 1 && descriptor.hasLongPictureID)
        }
        #expect(Set(ids) == [100, 101])
        #expect(VideoPayloadCodec.vp8.isKeyframe(payload: packets[0].payload))
        #expect(!packets.dropFirst().contains { VideoPayloadCodec.vp8.isKeyframe(payload: $0.payload) })
    }

    @Test func frameWithMissingPacketIsDroppedAndReported() throws {
        var packetizer = VP8Packetizer(maxPayloadSize: 1200)
        var packets = try packetStream(&packetizer, frames: Self.frames)
        packets.remove(at: 3)  // middle of the 9000-byte keyframe
        var depacketizer = VP8Depacketizer()
        let output = try depacketize(&depacketizer, packets)
        #expect(output.frames.map(\.data) == Array(Self.frames.dropFirst()))
        #expect(output.dropped == [DroppedFrame(reason: .missingPacket, timestamp: 0, missingPackets: 1)])
    }

    @Test func lostFirstAndLastPackets() throws {
        var packetizer = VP8Packetizer(maxPayloadSize: 1200)
        let packets = try packetStream(&packetizer, frames: Self.frames)
        // Lose the keyframe's first packet and frame 2's last packet.
        let frame2Last = packets.firstIndex { $0.timestamp == 6000 && $0.marker }!
        let lossy = packets.enumerated().filter { $0.offset != 0 && $0.offset != frame2Last }.map(\.element)
        var depacketizer = VP8Depacketizer()
        let output = try depacketize(&depacketizer, lossy)
        #expect(output.frames.map(\.timestamp) == [3000, 9000, 12000, 15000])
        #expect(output.dropped.map(\.reason) == [.missingStart, .missingEnd])
    }

    @Test func wholeFrameLostInAGap() throws {
        var packetizer = VP8Packetizer(maxPayloadSize: 1200)
        let packets = try packetStream(&packetizer, frames: Self.frames)
        let lossy = packets.filter { $0.timestamp != 3000 }
        var depacketizer = VP8Depacketizer()
        let output = try depacketize(&depacketizer, lossy)
        #expect(output.frames.count == 5)
        #expect(output.dropped == [DroppedFrame(reason: .lostInGap, timestamp: nil, missingPackets: 1)])
    }

    @Test func malformedPayloadThrowsAndTheFrameIsDropped() throws {
        var packetizer = VP8Packetizer(maxPayloadSize: 1200)
        var packets = try packetStream(&packetizer, frames: Array(Self.frames.prefix(3)))
        packets[2].payload = hexBuffer("80")  // truncated descriptor inside the keyframe
        var depacketizer = VP8Depacketizer()
        var frames: [AssembledFrame] = []
        var dropped: [DroppedFrame] = []
        var errors = 0
        for packet in packets {
            do {
                let output = try depacketizer.push(
                    payload: packet.payload, sequenceNumber: packet.sequenceNumber, timestamp: packet.timestamp, marker: packet.marker
                )
                frames += output.frames
                dropped += output.dropped
            } catch {
                #expect(error.code == .truncated)
                errors += 1
            }
        }
        #expect(errors == 1)
        #expect(frames.map(\.timestamp) == [3000, 6000])
        #expect(dropped.map(\.reason) == [.malformed])
    }

    @Test func tinyMTUIsRejected() {
        var packetizer = VP8Packetizer(maxPayloadSize: 4)
        expectError(.valueOutOfRange) { try packetizer.packetize(frame: Self.frames[1]) }
        expectError(.truncated) { try packetizer.packetize(frame: ByteBuffer()) }
    }
}
