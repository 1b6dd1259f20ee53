import NIOCore

/// The AV1 RTP aggregation header (AV1 RTP payload spec v1.0 §4.4):
///
/// ```
///  0 1 2 3 4 5 6 7
/// +-+-+-+-+-+-+-+-+
/// |Z|Y| W |N|-|-|-|
/// +-+-+-+-+-+-+-+-+
/// ```
public struct AV1AggregationHeader: Hashable, Sendable {
    /// Z: the first OBU element continues an OBU fragment of the previous packet.
    public var continuesFragment: Bool
    /// Y: the last OBU element continues in the next packet.
    public var fragmentContinues: Bool
    /// W: number of OBU elements (1...3, the last without a length field), or 0 (all with lengths).
    public var elementCount: Int
    /// N: first packet of a coded video sequence.
    public var startsSequence: Bool

    public init(continuesFragment: Bool = false, fragmentContinues: Bool = false, elementCount: Int = 0, startsSequence: Bool = false) {
        self.continuesFragment = continuesFragment
        self.fragmentContinues = fragmentContinues
        self.elementCount = elementCount
        self.startsSequence = startsSequence
    }

    public init(_ byte: UInt8) {
        continuesFragment = byte & 0x80 != 0
        fragmentContinues = byte & 0x40 != 0
        elementCount = Int(byte >> 4 & 0x03)
        startsSequence = byte & 0x08 != 0
    }

    public var byte: UInt8 {
        (continuesFragment ? 0x80 : 0) | (fragmentContinues ? 0x40 : 0) | UInt8(elementCount & 3) << 4
            | (startsSequence ? 0x08 : 0)
    }

    /// Calls `body` with each OBU element of `payload` (after the aggregation header) as a slice,
    /// in order, with whether it is the first (possibly a continuation) and the last. Never
    /// allocates. Throws `bad_obu_size` for an element length of 0 or past the end, `truncated`
    /// for a payload without the header or with fewer elements than W says.
    public static func forEachElement(
        in payload: ByteBuffer, _ body: (_ element: ByteBuffer, _ index: Int, _ isLast: Bool) throws(PayloadError) -> Void
    ) throws(PayloadError) -> AV1AggregationHeader {
        var reader = PayloadReader(payload)
        let header = AV1AggregationHeader(try reader.u8("AV1 aggregation header"))
        guard reader.remaining > 0 else { throw PayloadError(.truncated, offset: 1, detail: "AV1 packet without OBU elements") }
        var index = 0
        while reader.remaining > 0 {
            let length: Int
            if header.elementCount != 0, index == header.elementCount - 1 {
                length = reader.remaining  // §4.4: the last of W elements has no length field.
            } else {
                let at = reader.offset
                length = try reader.leb128()
                guard length > 0, length <= reader.remaining else {
                    throw PayloadError(.badOBUSize, offset: at, detail: "OBU element length 0 or past the end")
                }
            }
            let element = try reader.slice(length)
            try body(element, index, reader.remaining == 0)
            index += 1
        }
        if header.elementCount != 0, index != header.elementCount {
            throw PayloadError(.truncated, offset: reader.offset, detail: "fewer OBU elements than W")
        }
        return header
    }

    /// Keyframe test on one RTP payload: N=1 and an OBU element starting in it is a sequence
    /// header (AV1 RTP spec §4.4, §7.5). Never allocates.
    public static func isKeyframe(payload: ByteBuffer) -> Bool {
        guard let first = payload.getInteger(at: payload.readerIndex, as: UInt8.self),
              AV1AggregationHeader(first).startsSequence
        else { return false }
        var found = false
        let skipFirst = AV1AggregationHeader(first).continuesFragment
        _ = try? forEachElement(in: payload) { element, index, _ in
            if index == 0, skipFirst { return }
            if let byte = element.getInteger(at: element.readerIndex, as: UInt8.self),
               AV1OBUType(rawValue: byte >> 3) == .sequenceHeader
            {
                found = true
            }
        }
        return found
    }
}
