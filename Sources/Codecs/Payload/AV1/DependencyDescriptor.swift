import NIOCore

/// The Dependency Descriptor RTP header extension (AV1 RTP spec Appendix A, §A.8):
///
/// ```
/// mandatory_descriptor_fields: start_of_frame(1) end_of_frame(1) template_id(6) frame_number(16)
/// extended_descriptor_fields (when longer than 3 bytes):
///   template_dependency_structure_present(1) active_decode_targets_present(1)
///   custom_dtis(1) custom_fdiffs(1) custom_chains(1)
///   [template_dependency_structure] [active_decode_targets_bitmask(DtCnt)]
/// frame_dependency_definition: [frame_dtis] [frame_fdiffs] [frame_chains], zero padding
/// ```
///
/// Parsing a descriptor without an attached structure never allocates: custom values are kept in
/// inline ``PackedSmallArray``s. The frame's DTIs, fdiffs and chains come from its template in
/// the current ``DependencyStructure`` unless the descriptor overrides them.
public struct DependencyDescriptor: Hashable, Sendable {
    public var startOfFrame: Bool
    public var endOfFrame: Bool
    /// `frame_dependency_template_id`, 0...63.
    public var templateID: Int
    /// `frame_number`, 16 bits, wrapping.
    public var frameNumber: UInt16
    /// A structure carried by this descriptor (keyframes); it replaces the receiver's current one.
    public var attachedStructure: DependencyStructure?
    /// `active_decode_targets_bitmask` when present in this descriptor.
    public var activeDecodeTargets: UInt32?
    /// Custom values overriding the template (2-bit DTIs, fdiffs up to 16, chain diffs 8-bit).
    public var customDTIs: PackedSmallArray?
    public var customFrameDiffs: PackedSmallArray?
    public var customChainDiffs: PackedSmallArray?

    public init(
        startOfFrame: Bool = true, endOfFrame: Bool = true, templateID: Int, frameNumber: UInt16,
        attachedStructure: DependencyStructure? = nil, activeDecodeTargets: UInt32? = nil
    ) {
        self.startOfFrame = startOfFrame
        self.endOfFrame = endOfFrame
        self.templateID = templateID
        self.frameNumber = frameNumber
        self.attachedStructure = attachedStructure
        self.activeDecodeTargets = activeDecodeTargets
    }

    /// Parses the extension value. `structure` is the latest structure received on the stream;
    /// it is needed when the descriptor uses custom fields or to resolve its template, and an
    /// attached structure takes its place. Throws `missing_structure` when custom fields need one
    /// and none is known, `invalid_descriptor` when the template id selects no template.
    public init(parsing value: ByteBuffer, structure: DependencyStructure?) throws(PayloadError) {
        guard value.readableBytes >= 3 else { throw PayloadError(.truncated, offset: 0, detail: "dependency descriptor < 3 bytes") }
        var bits = BitReader(value)
        startOfFrame = try bits.bit()
        endOfFrame = try bits.bit()
        templateID = Int(try bits.bits(6))
        frameNumber = UInt16(try bits.bits(16))
        attachedStructure = nil
        activeDecodeTargets = nil
        customDTIs = nil
        customFrameDiffs = nil
        customChainDiffs = nil
        guard value.readableBytes > 3 else {
            if let structure, structure.template(id: templateID) == nil {
                throw PayloadError(.invalidDescriptor, offset: 0, detail: "template id selects no template")
            }
            return
        }
        let structurePresent = try bits.bit()
        let activePresent = try bits.bit()
        let customDTIsFlag = try bits.bit()
        let customFdiffsFlag = try bits.bit()
        let customChainsFlag = try bits.bit()
        if structurePresent { attachedStructure = try DependencyStructure(bits: &bits) }
        guard let current = attachedStructure ?? structure else {
            if activePresent || customDTIsFlag || customChainsFlag {
                throw PayloadError(.missingStructure, offset: 3, detail: "descriptor needs a template structure")
            }
            if customFdiffsFlag { customFrameDiffs = try Self.readFrameDiffs(&bits) }
            return
        }
        guard current.template(id: templateID) != nil else {
            throw PayloadError(.invalidDescriptor, offset: 0, detail: "template id selects no template")
        }
        if activePresent { activeDecodeTargets = try bits.bits(current.decodeTargetCount) }
        if customDTIsFlag {
            var dtis = PackedSmallArray(bitWidth: 2)
            for _ in 0..<current.decodeTargetCount { dtis.append(Int(try bits.bits(2))) }
            customDTIs = dtis
        }
        if customFdiffsFlag { customFrameDiffs = try Self.readFrameDiffs(&bits) }
        if customChainsFlag {
            var chains = PackedSmallArray(bitWidth: 8)
            for _ in 0..<current.chainCount { chains.append(Int(try bits.bits(8))) }
            customChainDiffs = chains
        }
    }

    /// `frame_fdiffs()` (Appendix A.8.2).
    private static func readFrameDiffs(_ bits: inout BitReader) throws(PayloadError) -> PackedSmallArray {
        var diffs = PackedSmallArray(bitWidth: 16)
        while true {
            let size = Int(try bits.bits(2))
            if size == 0 { break }
            let diff = Int(try bits.bits(4 * size)) + 1
            guard diffs.append(diff) else {
                throw PayloadError(.unsupported, offset: bits.position / 8, detail: "more than 16 frame fdiffs")
            }
        }
        return diffs
    }

    // MARK: Resolving against the structure

    /// The frame's spatial and temporal id from its template.
    public func layer(in structure: DependencyStructure) -> (spatialID: Int, temporalID: Int)? {
        guard let template = structure.template(id: templateID) else { return nil }
        return (template.spatialID, template.temporalID)
    }

    /// The frame's indication for `decodeTarget` (custom or from the template).
    public func decodeTargetIndication(_ decodeTarget: Int, in structure: DependencyStructure) -> DecodeTargetIndication {
        guard decodeTarget >= 0, decodeTarget < structure.decodeTargetCount else { return .notPresent }
        if let customDTIs, decodeTarget < customDTIs.count {
            return DecodeTargetIndication(rawValue: UInt8(customDTIs[decodeTarget])) ?? .notPresent
        }
        guard let template = structure.template(id: templateID), decodeTarget < template.decodeTargetIndications.count
        else { return .notPresent }
        return template.decodeTargetIndications[decodeTarget]
    }

    /// A switch point for `decodeTarget`: a forwarder may start sending that target here
    /// (DTI = Switch, Appendix A.5). Frames of a new coded video sequence carry Switch for all.
    public func isSwitchPoint(for decodeTarget: Int, in structure: DependencyStructure) -> Bool {
        decodeTargetIndication(decodeTarget, in: structure) == .switch
    }

    /// Frame number differences of the frames this one depends on.
    public func frameDiffs(in structure: DependencyStructure) -> [Int] {
        if let customFrameDiffs { return Array(customFrameDiffs) }
        return structure.template(id: templateID)?.frameDiffs ?? []
    }

    /// Chain diffs (custom or from the template).
    public func chainDiffs(in structure: DependencyStructure) -> [Int] {
        if let customChainDiffs { return Array(customChainDiffs) }
        return structure.template(id: templateID)?.chainDiffs ?? []
    }

    // MARK: Writing

    /// Appends the descriptor, using `structure` (or the attached one) for field widths. Writes
    /// only the 3 mandatory bytes when nothing else is set.
    public func write(to out: inout ByteBuffer, structure: DependencyStructure?) throws(PayloadError) {
        guard (0..<64).contains(templateID) else { throw PayloadError(.valueOutOfRange, detail: "template id") }
        var bits = BitWriter()
        bits.write(startOfFrame)
        bits.write(endOfFrame)
        bits.write(UInt32(templateID), bits: 6)
        bits.write(UInt32(frameNumber), bits: 16)
        let extended = attachedStructure != nil || activeDecodeTargets != nil || customDTIs != nil
            || customFrameDiffs != nil || customChainDiffs != nil
        if extended {
            let current = attachedStructure ?? structure
            bits.write(attachedStructure != nil)
            bits.write(activeDecodeTargets != nil)
            bits.write(customDTIs != nil)
            bits.write(customFrameDiffs != nil)
            bits.write(customChainDiffs != nil)
            try attachedStructure?.write(to: &bits)
            if activeDecodeTargets != nil || customDTIs != nil || customChainDiffs != nil, current == nil {
                throw PayloadError(.missingStructure, detail: "custom fields need a structure")
            }
            if let activeDecodeTargets, let current { bits.write(activeDecodeTargets, bits: current.decodeTargetCount) }
            if let customDTIs, let current {
                for index in 0..<current.decodeTargetCount { bits.write(UInt32(customDTIs[index]), bits: 2) }
            }
            if let customFrameDiffs {
                for diff in customFrameDiffs {
                    guard (1...4096).contains(diff) else { throw PayloadError(.valueOutOfRange, detail: "frame fdiff") }
                    let size = diff - 1 < 16 ? 1 : diff - 1 < 256 ? 2 : 3
                    bits.write(UInt32(size), bits: 2)
                    bits.write(UInt32(diff - 1), bits: 4 * size)
                }
                bits.write(0, bits: 2)
            }
            if let customChainDiffs, let current {
                for index in 0..<current.chainCount { bits.write(UInt32(customChainDiffs[index] & 0xFF), bits: 8) }
            }
        }
        out.writeBytes(bits.bytes)
    }
}
