import NIOCore
import Testing
@testable import Codecs

@Suite struct VP8PayloadDescriptorTests {
    @Test func minimalDescriptor() throws {
        // 10 = X=0 R=0 N=0 S=1 R=0 PID=0 (RFC 7741 §4.2), then VP8 payload.
        var payload = hexBuffer("10 AA BB")
        let descriptor = try VP8PayloadDescriptor(parsing: &payload)
        #expect(descriptor.startOfPartition && descriptor.startsFrame && descriptor.partitionIndex == 0)
        #expect(descriptor.pictureID == nil && descriptor.encodedSize == 1)
        #expect(bytes(payload) == [0xAA, 0xBB])
    }

    @Test func everyExtensionField() throws {
        var payload = hexBuffer("""
            B0        # X=1 N=1 S=1 PID=0
            F0        # I=1 L=1 T=1 K=1
            92 34     # M=1, PictureID = 0x1234 (15 bits)
            05        # TL0PICIDX = 5
            A7        # TID=2 Y=1 KEYIDX=7
            9D        # VP8 payload
            """)
        let descriptor = try VP8PayloadDescriptor(parsing: &payload)
        #expect(descriptor.nonReference && descriptor.startOfPartition)
        #expect(descriptor.pictureID == 0x1234 && descriptor.hasLongPictureID)
        #expect(descriptor.tl0PictureIndex == 5)
        #expect(descriptor.temporalLayerID == 2 && descriptor.layerSync)
        #expect(descriptor.keyIndex == 7)
        #expect(descriptor.encodedSize == 6)
        #expect(bytes(payload) == [0x9D])
        var out = ByteBuffer()
        #expect(descriptor.write(to: &out) == 6)
        #expect(bytes(out) == bytes(hexBuffer("B0 F0 92 34 05 A7")))
    }

    @Test func shortPictureIDAndPartitionIndex() throws {
        // X=1, S=0, PID=3; I=1; M=0 PictureID=0x55.
        var payload = hexBuffer("83 80 55 01")
        let descriptor = try VP8PayloadDescriptor(parsing: &payload)
        #expect(descriptor.partitionIndex == 3 && !descriptor.startOfPartition && !descriptor.startsFrame)
        #expect(descriptor.pictureID == 0x55 && !descriptor.hasLongPictureID)
        var out = ByteBuffer()
        descriptor.write(to: &out)
        #expect(bytes(out) == [0x83, 0x80, 0x55])
    }

    @Test func keyIndexWithoutTemporalLayer() throws {
        // K=1 only: the TID/Y bits of the shared byte are ignored (RFC 7741 §4.2).
        var payload = hexBuffer("90 10 E3 00")
        let descriptor = try VP8PayloadDescriptor(parsing: &payload)
        #expect(descriptor.keyIndex == 3 && descriptor.temporalLayerID == nil && !descriptor.layerSync)
    }

    @Test func truncatedDescriptorsThrow() {
        for text in ["", "80", "90 80", "90 80 92", "90 40", "90 20", "10", "90 F0 92 34 05 A7"] {
            var payload = hexBuffer(text)
            expectError(.truncated) { try VP8PayloadDescriptor(parsing: &payload) }
        }
    }

    @Test func keyframeDetection() {
        // S=1 PID=0 and VP8 frame tag with P=0 (RFC 6386 §9.1).
        #expect(VideoPayloadCodec.vp8.isKeyframe(payload: hexBuffer("90 80 92 34 70 24 00 9D 01 2A 80 02 E0 01")))
        // P=1: interframe.
        #expect(!VideoPayloadCodec.vp8.isKeyframe(payload: hexBuffer("90 80 92 34 71 24 00")))
        // S=0: continuation of a keyframe is not a keyframe start.
        #expect(!VideoPayloadCodec.vp8.isKeyframe(payload: hexBuffer("80 80 92 34 70 24 00")))
        // PID=1.
        #expect(!VideoPayloadCodec.vp8.isKeyframe(payload: hexBuffer("11 70 24 00")))
        #expect(!VideoPayloadCodec.vp8.isKeyframe(payload: hexBuffer("90")))
    }

    @Test func rewriteInPlaceKeepsWidths() throws {
        // A whole RTP packet: 12-byte header, then descriptor with 15-bit picture id and TL0PICIDX.
        var packet = hexBuffer("80 60 00 01 00 00 00 00 00 00 00 01  90 C0 92 34 05  AA")
        try VP8PayloadDescriptor.rewrite(&packet, descriptorAt: 12, pictureID: 0x7FFF &+ 3, tl0PictureIndex: 9)
        #expect(bytes(packet) == bytes(hexBuffer("80 60 00 01 00 00 00 00 00 00 00 01  90 C0 80 02 09  AA")))
        var short = hexBuffer("90 80 12 AA")
        try VP8PayloadDescriptor.rewrite(&short, descriptorAt: 0, pictureID: 0x1FF)
        #expect(bytes(short) == [0x90, 0x80, 0x7F, 0xAA])
        expectError(.unsupported) { try VP8PayloadDescriptor.rewrite(&short, descriptorAt: 0, tl0PictureIndex: 1) }
        var none = hexBuffer("10 AA")
        expectError(.unsupported) { try VP8PayloadDescriptor.rewrite(&none, descriptorAt: 0, pictureID: 1) }
        expectError(.truncated) { try VP8PayloadDescriptor.rewrite(&none, descriptorAt: 9, pictureID: 1) }
    }

    @Test func frameHeaderOfAKeyframe() throws {
        // Frame tag: size 0x123, show_frame, version 0, key frame; start code; 640 × 480 (RFC 6386 §9.1).
        let header = try VP8FrameHeader(frame: hexBuffer("70 24 00 9D 01 2A 80 02 E0 01"))
        #expect(header.isKeyframe && header.showFrame && header.version == 0)
        #expect(header.firstPartitionSize == 0x123)
        #expect(header.width == 640 && header.height == 480 && header.horizontalScale == 0)
        var out = ByteBuffer()
        VP8FrameHeader.write(keyframe: true, firstPartitionSize: 0x123, width: 640, height: 480, to: &out)
        #expect(bytes(out) == bytes(hexBuffer("70 24 00 9D 01 2A 80 02 E0 01")))
        expectError(.invalidDescriptor) { try VP8FrameHeader(frame: hexBuffer("70 24 00 9D 01 2B 80 02 E0 01")) }
        expectError(.truncated) { try VP8FrameHeader(frame: hexBuffer("70 24 00 9D 01")) }
        let inter = try VP8FrameHeader(frame: hexBuffer("31 02 00"))
        #expect(!inter.isKeyframe && inter.width == nil)
    }
}
