import NIOCore

/// AV1 OBU types (AV1 spec §6.2.2).
public struct AV1OBUType: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public var rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue & 0x0F }

    public static let sequenceHeader = AV1OBUType(rawValue: 1)
    public static let temporalDelimiter = AV1OBUType(rawValue: 2)
    public static let frameHeader = AV1OBUType(rawValue: 3)
    public static let tileGroup = AV1OBUType(rawValue: 4)
    public static let metadata = AV1OBUType(rawValue: 5)
    public static let frame = AV1OBUType(rawValue: 6)
    public static let redundantFrameHeader = AV1OBUType(rawValue: 7)
    public static let tileList = AV1OBUType(rawValue: 8)
    public static let padding = AV1OBUType(rawValue: 15)

    public var description: String {
        switch rawValue {
        case 1: "OBU_SEQUENCE_HEADER"
        case 2: "OBU_TEMPORAL_DELIMITER"
        case 3: "OBU_FRAME_HEADER"
        case 4: "OBU_TILE_GROUP"
        case 5: "OBU_METADATA"
        case 6: "OBU_FRAME"
        case 7: "OBU_REDUNDANT_FRAME_HEADER"
        case 8: "OBU_TILE_LIST"
        case 15: "OBU_PADDING"
        default: "OBU_RESERVED_\(rawValue)"
        }
    }
}

/// The OBU header (AV1 spec §5.3.2, §5.3.3):
/// `forbidden(1) | type(4) | extension_flag(1) | has_size_field(1) | reserved(1)`, then when the
/// extension flag is set `temporal_id(3) | spatial_id(2) | reserved(3)`.
public struct AV1OBUHeader: Hashable, Sendable {
    public var type: AV1OBUType
    public var hasSizeField: Bool
    /// From the extension byte, when present.
    public var temporalID: UInt8?
    public var spatialID: UInt8?

    public init(type: AV1OBUType, hasSizeField: Bool = true, temporalID: UInt8? = nil, spatialID: UInt8? = nil) {
        self.type = type
        self.hasSizeField = hasSizeField
        self.temporalID = temporalID
        self.spatialID = spatialID
    }

    public var hasExtension: Bool { temporalID != nil || spatialID != nil }
    /// 1 or 2 bytes.
    public var encodedSize: Int { hasExtension ? 2 : 1 }

    init(reader: inout PayloadReader) throws(PayloadError) {
        let at = reader.offset
        let first = try reader.u8("OBU header")
        // AV1 spec §6.2.1: obu_forbidden_bit must be 0.
        guard first & 0x80 == 0 else { throw PayloadError(.invalidOBU, offset: at, detail: "OBU forbidden bit set") }
        type = AV1OBUType(rawValue: first >> 3)
        hasSizeField = first & 0x02 != 0
        temporalID = nil
        spatialID = nil
        if first & 0x04 != 0 {
            let ext = try reader.u8("OBU extension header")
            temporalID = ext >> 5
            spatialID = ext >> 3 & 0x03
        }
    }

    /// Parses a header from the front of `bytes` without consuming.
    public init(bytes: ByteBuffer) throws(PayloadError) {
        var reader = PayloadReader(bytes)
        try self.init(reader: &reader)
    }

    /// Appends the header with `has_size_field` set as given.
    @discardableResult
    public func write(to out: inout ByteBuffer, hasSizeField: Bool) -> Int {
        out.writeInteger(type.rawValue << 3 | (hasExtension ? 0x04 : 0) | (hasSizeField ? 0x02 : 0))
        guard hasExtension else { return 1 }
        out.writeInteger(((temporalID ?? 0) & 7) << 5 | ((spatialID ?? 0) & 3) << 3)
        return 2
    }
}

/// One OBU: its header and its payload bytes (a slice, no copy).
public struct AV1OBU: Hashable, Sendable {
    public var header: AV1OBUHeader
    public var payload: ByteBuffer

    public init(header: AV1OBUHeader, payload: ByteBuffer) {
        self.header = header
        self.payload = payload
    }

    /// Splits a low-overhead bitstream (AV1 spec §5.2, Annex B not supported) into OBUs. Every
    /// OBU should carry `obu_size`; one without it takes the rest of the buffer. A size running
    /// past the end throws `bad_obu_size`.
    public static func parseLowOverhead(_ stream: ByteBuffer) throws(PayloadError) -> [AV1OBU] {
        var reader = PayloadReader(stream)
        var obus: [AV1OBU] = []
        while reader.remaining > 0 {
            let header = try AV1OBUHeader(reader: &reader)
            let size: Int
            if header.hasSizeField {
                size = try reader.leb128()
                guard size <= reader.remaining else {
                    throw PayloadError(.badOBUSize, offset: reader.offset, detail: "obu_size past the end")
                }
            } else {
                size = reader.remaining
            }
            obus.append(AV1OBU(header: header, payload: try reader.slice(size)))
        }
        return obus
    }

    /// Appends the OBU in low-overhead form: header with `has_size_field` = 1 and LEB128 `obu_size`.
    @discardableResult
    public func writeLowOverhead(to out: inout ByteBuffer) -> Int {
        let start = out.writerIndex
        header.write(to: &out, hasSizeField: true)
        LEB128.write(payload.readableBytes, to: &out)
        out.writeImmutableBuffer(payload)
        return out.writerIndex - start
    }
}
