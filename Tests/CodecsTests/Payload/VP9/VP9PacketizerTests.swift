import NIOCore
import Testing
@testable import Codecs

@Suite struct VP9PacketizerTests {
    static func frame(keyframe: Bool, size: Int, seed: UInt64) -> ByteBuffer {
        var out = ByteBuffer()
        VP9FrameHeader.writePrefix(keyframe: keyframe, width: 640, height: 360, to: &out)
        out.writeBytes(randomBytes(size - out.readableBytes, seed: seed))
        return out
    }

    static let frames = [
        frame(keyframe: true, size: 7000, seed: 1), frame(keyframe: false, size: 900, seed: 2),
        frame(keyframe: false, size: 3000, seed: 3), frame(keyframe: true, size: 20, seed: 4),
    ]

    @Test func roundTrip() throws {
        var packetizer = VP9Packetizer(maxPayloadSize: 1000, initialPictureID: 7)
        let packets = try packetStream(&packetizer, frames: Self.frames)
        var first = packets[0].payload
        let descriptor = try VP9PayloadDescriptor(parsing: &first)
        #expect(descriptor.startsKeyframe && descriptor.pictureID == 7)
        #expect(descriptor.scalabilityStructure?.resolutions == [.init(width: 640, height: 360)])
        var second = packets[1].payload
        let next = try VP9PayloadDescriptor(parsing: &second)
        #expect(!next.startOfFrame && next.scalabilityStructure == nil && !next.interPicturePredicted)
        var depacketizer = VP9Depacketizer()
        let output = try depacketize(&depacketizer, packets)
        #expect(output.frames.map(\.data) == Self.frames)
        #expect(output.frames.map(\.isKeyframe) == [true, false, false, true])
        #expect(output.dropped.isEmpty)
        #expect(packetizer.pictureID == 11)
    }

    @Test func spatialLayersOfOnePicture() throws {
        var packetizer = VP9Packetizer(maxPayloadSize: 600)
        packetizer.layer = .init(temporalID: 0, spatialID: 0)
        packetizer.marksEndOfPicture = false
        let base = try packetizer.packetize(frame: Self.frames[0], timestamp: 0)
        packetizer.layer = .init(temporalID: 0, spatialID: 1, interLayerDependency: true)
        packetizer.marksEndOfPicture = true
        let upper = try packetizer.packetize(frame: Self.frames[2], timestamp: 0)
        #expect(!base.contains(where: \.marker) && upper.last?.marker == true)
        var sequence: UInt16 = 0
        var depacketizer = VP9Depacketizer()
        var frames: [AssembledFrame] = []
        for item in base + upper {
            frames += try depacketizer.push(payload: item.payload, sequenceNumber: sequence, timestamp: 0, marker: item.marker).frames
            sequence += 1
        }
        #expect(frames.map(\.spatialID) == [0, 1])
        #expect(frames.map(\.isKeyframe) == [true, false])
        #expect(frames.map(\.data) == [Self.frames[0], Self.frames[2]])
        #expect(packetizer.pictureID == 1 && packetizer.tl0PictureIndex == 1)
    }

    @Test func lossDropsTheFrame() throws {
        var packetizer = VP9Packetizer(maxPayloadSize: 1000)
        var packets = try packetStream(&packetizer, frames: Self.frames)
        packets.remove(at: 2)
        var depacketizer = VP9Depacketizer()
        let output = try depacketize(&depacketizer, packets)
        #expect(output.frames.map(\.data) == Array(Self.frames.dropFirst()))
        #expect(output.dropped.map(\.reason) == [.missingPacket])
    }

    @Test func notAVP9Frame() {
        var packetizer = VP9Packetizer()
        expectError(.invalidDescriptor) { try packetizer.packetize(bytes: [0x00, 0x01, 0x02]) }
    }
}
