import NIOCore

/// Decode target indication (AV1 RTP spec Appendix A.8.3 / §A.5).
public enum DecodeTargetIndication: UInt8, Sendable, Hashable {
    /// The frame is not in the decode target.
    case notPresent = 0
    /// In the decode target, and no later frame of it depends on this one.
    case discardable = 1
    /// In the decode target, and a switch point: decoding can start here (all later frames of
    /// the target depend only on this and later Switch frames).
    case `switch` = 2
    /// In the decode target, and later frames may depend on it.
    case required = 3
}

/// One frame dependency template (AV1 RTP spec Appendix A.8.3, `template_dependency_structure`).
public struct FrameDependencyTemplate: Hashable, Sendable {
    public var spatialID: Int
    public var temporalID: Int
    /// One DTI per decode target.
    public var decodeTargetIndications: [DecodeTargetIndication]
    /// Frame number differences of the frames this one references (each 1...16).
    public var frameDiffs: [Int]
    /// Per chain: frame number difference to the previous frame in the chain (0...15).
    public var chainDiffs: [Int]

    public init(
        spatialID: Int, temporalID: Int, decodeTargetIndications: [DecodeTargetIndication], frameDiffs: [Int] = [],
        chainDiffs: [Int] = []
    ) {
        self.spatialID = spatialID
        self.temporalID = temporalID
        self.decodeTargetIndications = decodeTargetIndications
        self.frameDiffs = frameDiffs
        self.chainDiffs = chainDiffs
    }
}

/// The template dependency structure (AV1 RTP spec Appendix A.8.3) carried on keyframes. Parsing
/// allocates (it is rare); the per-frame descriptor refers to it by template id.
public struct DependencyStructure: Hashable, Sendable {
    public var templateIDOffset: Int
    public var decodeTargetCount: Int
    public var templates: [FrameDependencyTemplate]
    /// Number of chains (0 when chains are not used).
    public var chainCount: Int
    /// Per decode target: the chain protecting it.
    public var decodeTargetProtectedBy: [Int]
    /// Render resolution per spatial layer, when present.
    public var resolutions: [(width: Int, height: Int)]?

    public init(
        templateIDOffset: Int = 0, decodeTargetCount: Int, templates: [FrameDependencyTemplate], chainCount: Int = 0,
        decodeTargetProtectedBy: [Int] = [], resolutions: [(width: Int, height: Int)]? = nil
    ) {
        self.templateIDOffset = templateIDOffset
        self.decodeTargetCount = decodeTargetCount
        self.templates = templates
        self.chainCount = chainCount
        self.decodeTargetProtectedBy = decodeTargetProtectedBy
        self.resolutions = resolutions
    }

    public static func == (lhs: Self, rhs: Self) -> Bool {
        lhs.templateIDOffset == rhs.templateIDOffset && lhs.decodeTargetCount == rhs.decodeTargetCount
            && lhs.templates == rhs.templates && lhs.chainCount == rhs.chainCount
            && lhs.decodeTargetProtectedBy == rhs.decodeTargetProtectedBy
            && lhs.resolutions?.map { [$0.width, $0.height] } == rhs.resolutions?.map { [$0.width, $0.height] }
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(templateIDOffset)
        hasher.combine(decodeTargetCount)
        hasher.combine(templates)
    }

    /// Highest spatial id among the templates.
    public var maxSpatialID: Int { templates.map(\.spatialID).max() ?? 0 }

    /// `decode_target_layers()` (Appendix A.8.3): per decode target, the highest spatial and
    /// temporal id of the templates that are present in it.
    public var decodeTargetLayers: [(spatialID: Int, temporalID: Int)] {
        (0..<decodeTargetCount).map { target in
            var spatial = 0
            var temporal = 0
            for template in templates where target < template.decodeTargetIndications.count
                && template.decodeTargetIndications[target] != .notPresent
            {
                spatial = max(spatial, template.spatialID)
                temporal = max(temporal, template.temporalID)
            }
            return (spatial, temporal)
        }
    }

    /// The template a descriptor's `frame_dependency_template_id` selects.
    public func template(id: Int) -> FrameDependencyTemplate? {
        let index = (id + 64 - templateIDOffset) % 64
        return index < templates.count ? templates[index] : nil
    }

    init(bits: inout BitReader) throws(PayloadError) {
        templateIDOffset = Int(try bits.bits(6))
        decodeTargetCount = Int(try bits.bits(5)) + 1
        // template_layers()
        var layers: [(spatial: Int, temporal: Int)] = []
        var spatial = 0
        var temporal = 0
        while true {
            layers.append((spatial, temporal))
            guard layers.count <= 64 else {
                throw PayloadError(.invalidDescriptor, offset: bits.position / 8, detail: "more than 64 templates")
            }
            let next = try bits.bits(2)
            if next == 3 { break }
            if next == 1 {
                temporal += 1
            } else if next == 2 {
                temporal = 0
                spatial += 1
            }
        }
        guard spatial < 4, temporal < 8 else {
            throw PayloadError(.invalidDescriptor, offset: bits.position / 8, detail: "layer id out of range")
        }
        templates = []
        templates.reserveCapacity(layers.count)
        // template_dtis()
        for layer in layers {
            var dtis: [DecodeTargetIndication] = []
            dtis.reserveCapacity(decodeTargetCount)
            for _ in 0..<decodeTargetCount {
                dtis.append(DecodeTargetIndication(rawValue: UInt8(try bits.bits(2))) ?? .notPresent)
            }
            templates.append(FrameDependencyTemplate(spatialID: layer.spatial, temporalID: layer.temporal, decodeTargetIndications: dtis))
        }
        // template_fdiffs()
        for index in templates.indices {
            while try bits.bit() {
                templates[index].frameDiffs.append(Int(try bits.bits(4)) + 1)
                guard templates[index].frameDiffs.count <= 16 else {
                    throw PayloadError(.invalidDescriptor, offset: bits.position / 8, detail: "too many template fdiffs")
                }
            }
        }
        // template_chains()
        chainCount = try bits.nonSymmetric(decodeTargetCount + 1)
        decodeTargetProtectedBy = []
        if chainCount > 0 {
            for _ in 0..<decodeTargetCount { decodeTargetProtectedBy.append(try bits.nonSymmetric(chainCount)) }
            for index in templates.indices {
                for _ in 0..<chainCount { templates[index].chainDiffs.append(Int(try bits.bits(4))) }
            }
        }
        // render_resolutions()
        resolutions = nil
        if try bits.bit() {
            var list: [(width: Int, height: Int)] = []
            for _ in 0...(layers.map(\.spatial).max() ?? 0) {
                list.append((Int(try bits.bits(16)) + 1, Int(try bits.bits(16)) + 1))
            }
            resolutions = list
        }
    }

    func write(to bits: inout BitWriter) throws(PayloadError) {
        guard (1...32).contains(decodeTargetCount), (1...64).contains(templates.count),
              (0..<64).contains(templateIDOffset), (0...decodeTargetCount).contains(chainCount),
              chainCount == 0 || decodeTargetProtectedBy.count == decodeTargetCount,
              decodeTargetProtectedBy.allSatisfy({ (0..<max(chainCount, 1)).contains($0) })
        else { throw PayloadError(.valueOutOfRange, detail: "dependency structure counts") }
        bits.write(UInt32(templateIDOffset), bits: 6)
        bits.write(UInt32(decodeTargetCount - 1), bits: 5)
        guard templates[0].spatialID == 0, templates[0].temporalID == 0 else {
            throw PayloadError(.valueOutOfRange, detail: "first template must be S0T0")
        }
        for (index, template) in templates.enumerated() {
            guard index + 1 < templates.count else {
                bits.write(3, bits: 2)
                break
            }
            let next = templates[index + 1]
            if next.spatialID == template.spatialID, next.temporalID == template.temporalID {
                bits.write(0, bits: 2)
            } else if next.spatialID == template.spatialID, next.temporalID == template.temporalID + 1 {
                bits.write(1, bits: 2)
            } else if next.spatialID == template.spatialID + 1, next.temporalID == 0 {
                bits.write(2, bits: 2)
            } else {
                throw PayloadError(.valueOutOfRange, detail: "templates not in layer order")
            }
        }
        for template in templates {
            guard template.decodeTargetIndications.count == decodeTargetCount else {
                throw PayloadError(.valueOutOfRange, detail: "template DTI count")
            }
            for dti in template.decodeTargetIndications { bits.write(UInt32(dti.rawValue), bits: 2) }
        }
        for template in templates {
            for diff in template.frameDiffs {
                guard (1...16).contains(diff) else { throw PayloadError(.valueOutOfRange, detail: "template fdiff") }
                bits.write(true)
                bits.write(UInt32(diff - 1), bits: 4)
            }
            bits.write(false)
        }
        bits.writeNonSymmetric(chainCount, decodeTargetCount + 1)
        if chainCount > 0 {
            for chain in decodeTargetProtectedBy { bits.writeNonSymmetric(chain, chainCount) }
            for template in templates {
                guard template.chainDiffs.count == chainCount else { throw PayloadError(.valueOutOfRange, detail: "template chain count") }
                for diff in template.chainDiffs { bits.write(UInt32(diff & 0xF), bits: 4) }
            }
        }
        bits.write(resolutions != nil)
        if let resolutions {
            guard resolutions.count == maxSpatialID + 1 else { throw PayloadError(.valueOutOfRange, detail: "resolution count") }
            for resolution in resolutions {
                bits.write(UInt32(truncatingIfNeeded: resolution.width - 1), bits: 16)
                bits.write(UInt32(truncatingIfNeeded: resolution.height - 1), bits: 16)
            }
        }
    }
}
