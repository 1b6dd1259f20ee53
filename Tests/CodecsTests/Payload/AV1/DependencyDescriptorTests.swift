import NIOCore
import Testing
@testable import Codecs

@Suite struct DependencyDescriptorTests {
    /// L1T3 (AV1 RTP spec Appendix A, §A.7 style): decode targets T0, T0+T1, T0+T1+T2; one chain.
    static let l1t3 = DependencyStructure(
        templateIDOffset: 60,
        decodeTargetCount: 3,
        templates: [
            FrameDependencyTemplate(spatialID: 0, temporalID: 0, decodeTargetIndications: [.switch, .switch, .switch], chainDiffs: [0]),
            FrameDependencyTemplate(spatialID: 0, temporalID: 0, decodeTargetIndications: [.switch, .switch, .switch], frameDiffs: [4], chainDiffs: [4]),
            FrameDependencyTemplate(spatialID: 0, temporalID: 1, decodeTargetIndications: [.notPresent, .discardable, .required], frameDiffs: [2], chainDiffs: [2]),
            FrameDependencyTemplate(spatialID: 0, temporalID: 2, decodeTargetIndications: [.notPresent, .notPresent, .discardable], frameDiffs: [1], chainDiffs: [1]),
            FrameDependencyTemplate(spatialID: 0, temporalID: 2, decodeTargetIndications: [.notPresent, .notPresent, .discardable], frameDiffs: [1, 3], chainDiffs: [3]),
        ],
        chainCount: 1,
        decodeTargetProtectedBy: [0, 0, 0],
        resolutions: [(1280, 720)]
    )

    @Test func mandatoryFieldsOnly() throws {
        // start=1 end=1 template_id=0 frame_number=1 (Appendix A.8.2).
        let descriptor = try DependencyDescriptor(parsing: hexBuffer("C0 00 01"), structure: nil)
        #expect(descriptor.startOfFrame && descriptor.endOfFrame && descriptor.templateID == 0 && descriptor.frameNumber == 1)
        #expect(descriptor.attachedStructure == nil)
        var out = ByteBuffer()
        try descriptor.write(to: &out, structure: nil)
        #expect(bytes(out) == [0xC0, 0x00, 0x01])
        let middle = try DependencyDescriptor(parsing: hexBuffer("05 12 34"), structure: nil)
        #expect(!middle.startOfFrame && !middle.endOfFrame && middle.templateID == 5 && middle.frameNumber == 0x1234)
    }

    @Test func singleLayerStructureByteForByte() throws {
        let bits = hexBuffer("""
            C0 00 01   # start, end, template 0, frame 1
            80         # structure present; no active mask, no custom fields; template_id_offset (3 of 6 bits)
            00         # offset rest, dt_cnt_minus_one = 0
            E2         # next_layer_idc = 3, DTI = Switch, no fdiff, ns(2) chain_cnt = 0, resolutions, width bit 15
            04 FE 02 CE  # render_width_minus_1 = 639, render_height_minus_1 = 359, padding
            """)
        let descriptor = try DependencyDescriptor(parsing: bits, structure: nil)
        let structure = try #require(descriptor.attachedStructure)
        #expect(structure.decodeTargetCount == 1 && structure.templates.count == 1 && structure.chainCount == 0)
        #expect(structure.templates[0].decodeTargetIndications == [.switch])
        #expect(structure.resolutions?.map { [$0.width, $0.height] } == [[640, 360]])
        #expect(descriptor.isSwitchPoint(for: 0, in: structure))
        var out = ByteBuffer()
        try descriptor.write(to: &out, structure: nil)
        #expect(out == bits)
    }

    @Test func l1t3StructureRoundTripAndSwitchPoints() throws {
        let key = DependencyDescriptor(templateID: 60, frameNumber: 100, attachedStructure: Self.l1t3)
        var out = ByteBuffer()
        try key.write(to: &out, structure: nil)
        let parsed = try DependencyDescriptor(parsing: out, structure: nil)
        let structure = try #require(parsed.attachedStructure)
        #expect(structure == Self.l1t3)
        #expect(structure.decodeTargetLayers.map { [$0.spatialID, $0.temporalID] } == [[0, 0], [0, 1], [0, 2]])
        #expect(parsed.activeDecodeTargets == nil)

        // Later frames: template id 62 → index 2 (T1), 63 → index 3 (T2).
        let t1 = try DependencyDescriptor(parsing: hexBuffer("FE 00 65"), structure: structure)
        #expect(t1.layer(in: structure)! == (0, 1))
        #expect(t1.decodeTargetIndication(0, in: structure) == .notPresent)
        #expect(t1.decodeTargetIndication(2, in: structure) == .required)
        #expect(!t1.isSwitchPoint(for: 1, in: structure))
        #expect(t1.frameDiffs(in: structure) == [2] && t1.chainDiffs(in: structure) == [2])
        let t0 = try DependencyDescriptor(parsing: hexBuffer("FD 00 68"), structure: structure)  // id 61 → T0 delta
        #expect(t0.isSwitchPoint(for: 0, in: structure) && t0.frameDiffs(in: structure) == [4])
        expectError(.invalidDescriptor) { try DependencyDescriptor(parsing: hexBuffer("C5 00 01"), structure: structure) }
    }

    @Test func customFieldsAndActiveDecodeTargets() throws {
        var descriptor = DependencyDescriptor(templateID: 63, frameNumber: 7, activeDecodeTargets: 0b011)
        var dtis = PackedSmallArray(bitWidth: 2)
        for dti in [DecodeTargetIndication.notPresent, .required, .switch] { dtis.append(Int(dti.rawValue)) }
        descriptor.customDTIs = dtis
        var diffs = PackedSmallArray(bitWidth: 16)
        for diff in [1, 17, 300] { diffs.append(diff) }
        descriptor.customFrameDiffs = diffs
        var chains = PackedSmallArray(bitWidth: 8)
        chains.append(200)
        descriptor.customChainDiffs = chains
        var out = ByteBuffer()
        try descriptor.write(to: &out, structure: Self.l1t3)
        let parsed = try DependencyDescriptor(parsing: out, structure: Self.l1t3)
        #expect(parsed == descriptor)
        #expect(parsed.activeDecodeTargets == 0b011)
        #expect(parsed.isSwitchPoint(for: 2, in: Self.l1t3))
        #expect(parsed.frameDiffs(in: Self.l1t3) == [1, 17, 300])
        #expect(parsed.chainDiffs(in: Self.l1t3) == [200])
        // Without a structure the custom DTIs cannot be read.
        expectError(.missingStructure) { try DependencyDescriptor(parsing: out, structure: nil) }
        expectError(.missingStructure) { try descriptor.write(to: &out, structure: nil) }
    }

    @Test func malformedDescriptors() {
        expectError(.truncated) { try DependencyDescriptor(parsing: hexBuffer("C0 00"), structure: nil) }
        // Structure flag set, structure cut short.
        expectError(.truncated) { try DependencyDescriptor(parsing: hexBuffer("C0 00 01 80"), structure: nil) }
        // 65 templates (next_layer_idc = 0 forever).
        expectError(.invalidDescriptor) { try DependencyDescriptor(parsing: buffer([0xC0, 0, 1, 0x80, 0] + [UInt8](repeating: 0, count: 40)), structure: nil) }
    }

    @Test func writerRejectsBadStructures() {
        var bad = Self.l1t3
        bad.templates.swapAt(0, 3)
        let descriptor = DependencyDescriptor(templateID: 0, frameNumber: 0, attachedStructure: bad)
        var out = ByteBuffer()
        expectError(.valueOutOfRange) { try descriptor.write(to: &out, structure: nil) }
    }
}
