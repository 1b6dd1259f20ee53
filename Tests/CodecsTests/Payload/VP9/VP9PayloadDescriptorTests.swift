import NIOCore
import Testing
@testable import Codecs

@Suite struct VP9PayloadDescriptorTests {
    static let nonFlexibleKeyframe = """
        AE           # I=1 P=0 L=1 F=0 B=1 E=1 V=1 Z=0 (RFC 9628 §4.2)
        92 34        # M=1 PICTURE ID = 0x1234
        00           # TID=0 U=0 SID=0 D=0
        07           # TL0PICIDX = 7
        38           # SS: N_S=1 (2 layers) Y=1 G=1 (RFC 9628 §4.2.1)
        01 40 00 B4  # 320 × 180
        02 80 01 68  # 640 × 360
        01           # N_G = 1
        04 01        # TID=0 U=0 R=1, P_DIFF=1
        """

    @Test func nonFlexibleModeWithScalabilityStructure() throws {
        var payload = hexBuffer(Self.nonFlexibleKeyframe + "\n 82 49 83 42")
        let descriptor = try VP9PayloadDescriptor(parsing: &payload)
        #expect(!descriptor.interPicturePredicted && !descriptor.flexibleMode)
        #expect(descriptor.startOfFrame && descriptor.endOfFrame && !descriptor.notUpperLayerReference)
        #expect(descriptor.pictureID == 0x1234 && descriptor.hasLongPictureID)
        #expect(descriptor.layer == .init(temporalID: 0, spatialID: 0))
        #expect(descriptor.tl0PictureIndex == 7)
        let structure = try #require(descriptor.scalabilityStructure)
        #expect(structure.spatialLayerCount == 2)
        #expect(structure.resolutions == [.init(width: 320, height: 180), .init(width: 640, height: 360)])
        #expect(structure.groupOfPictures == [.init(temporalID: 0, referenceDiffs: [1])])
        #expect(descriptor.startsKeyframe)
        #expect(bytes(payload) == [0x82, 0x49, 0x83, 0x42])
        var out = ByteBuffer()
        #expect(descriptor.write(to: &out) == descriptor.encodedSize)
        #expect(bytes(out) == bytes(hexBuffer(Self.nonFlexibleKeyframe)))
        #expect(VideoPayloadCodec.vp9.isKeyframe(payload: hexBuffer(Self.nonFlexibleKeyframe + "\n 82")))
    }

    @Test func structureCanBeSkippedWithoutAllocating() throws {
        var payload = hexBuffer(Self.nonFlexibleKeyframe + "\n 82")
        let descriptor = try VP9PayloadDescriptor(parsing: &payload, parseScalabilityStructure: false)
        #expect(descriptor.hasScalabilityStructure && descriptor.scalabilityStructure == nil)
        #expect(bytes(payload) == [0x82])
    }

    @Test func flexibleModeWithReferenceIndices() throws {
        var payload = hexBuffer("""
            F8      # I=1 P=1 L=1 F=1 B=1 E=0 V=0 Z=0
            05      # M=0 PICTURE ID = 5
            33      # TID=1 U=1 SID=1 D=1 (no TL0PICIDX in flexible mode)
            03      # P_DIFF=1 N=1
            04      # P_DIFF=2 N=0
            AA
            """)
        let descriptor = try VP9PayloadDescriptor(parsing: &payload)
        #expect(descriptor.flexibleMode && descriptor.interPicturePredicted && descriptor.startOfFrame && !descriptor.endOfFrame)
        #expect(descriptor.pictureID == 5 && !descriptor.hasLongPictureID)
        #expect(descriptor.layer == .init(temporalID: 1, switchingUpPoint: true, spatialID: 1, interLayerDependency: true))
        #expect(descriptor.tl0PictureIndex == nil)
        #expect(Array(descriptor.referenceDiffs) == [1, 2])
        #expect(!descriptor.startsKeyframe)
        var out = ByteBuffer()
        descriptor.write(to: &out)
        #expect(bytes(out) == bytes(hexBuffer("F8 05 33 03 04")))
    }

    @Test func keyframeRule() {
        // !P && B && SID == 0.
        #expect(VideoPayloadCodec.vp9.isKeyframe(payload: hexBuffer("8C 01 AA")))  // I B E
        #expect(!VideoPayloadCodec.vp9.isKeyframe(payload: hexBuffer("CC 01 AA")))  // P set
        #expect(!VideoPayloadCodec.vp9.isKeyframe(payload: hexBuffer("84 01 AA")))  // B clear
        #expect(!VideoPayloadCodec.vp9.isKeyframe(payload: hexBuffer("AC 01 02 07 AA")))  // SID = 1
    }

    @Test func malformedDescriptors() {
        for text in ["", "80", "A0 01 00", "D0 01", "D0 01 03", "8E 01 38 01 40"] {
            var payload = hexBuffer(text)
            expectError(.truncated) { try VP9PayloadDescriptor(parsing: &payload) }
        }
        var zeroDiff = hexBuffer("D0 01 00 AA")
        expectError(.invalidDescriptor) { try VP9PayloadDescriptor(parsing: &zeroDiff) }
        var fourDiffs = hexBuffer("D0 01 03 03 03 03 AA")
        expectError(.invalidDescriptor) { try VP9PayloadDescriptor(parsing: &fourDiffs) }
    }

    @Test func rewriteInPlace() throws {
        var payload = hexBuffer("AC 92 34 00 07 AA")
        try VP9PayloadDescriptor.rewrite(&payload, descriptorAt: 0, pictureID: 0x0102, tl0PictureIndex: 0x42)
        #expect(bytes(payload) == bytes(hexBuffer("AC 81 02 00 42 AA")))
        var noLayer = hexBuffer("8C 05 AA")
        expectError(.unsupported) { try VP9PayloadDescriptor.rewrite(&noLayer, descriptorAt: 0, tl0PictureIndex: 1) }
    }

    @Test func frameHeader() throws {
        var out = ByteBuffer()
        VP9FrameHeader.writePrefix(keyframe: true, width: 1280, height: 720, to: &out)
        let header = try VP9FrameHeader(frame: out)
        #expect(header.isKeyframe && header.profile == 0 && header.showFrame && header.width == 1280 && header.height == 720)
        var inter = ByteBuffer()
        VP9FrameHeader.writePrefix(keyframe: false, to: &inter)
        #expect(try !VP9FrameHeader(frame: inter).isKeyframe)
        expectError(.invalidDescriptor) { try VP9FrameHeader(frame: hexBuffer("00 00")) }
    }
}
