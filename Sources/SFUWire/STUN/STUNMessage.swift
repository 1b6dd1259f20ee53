import NIOCore

/// A parsed STUN message (RFC 8489 §5-§6): a view over the message bytes with the offsets of the
/// attributes ICE needs, found in one pass. Attribute values are read on demand; no per-message
/// arrays are built.
///
/// Attribute rules applied while parsing (RFC 8489 §14.5-§14.7): attributes after
/// MESSAGE-INTEGRITY other than MESSAGE-INTEGRITY-SHA256 and FINGERPRINT are ignored by the typed
/// accessors (they remain visible through ``attributes``); FINGERPRINT must be the last attribute.
public struct STUNMessage: Sendable {
    /// The whole message (header included), exactly `20 + length` bytes.
    public private(set) var buffer: ByteBuffer
    public let type: STUNMessageType
    public let transactionID: STUNTransactionID

    // Offsets from the start of the message to attribute *headers*; value starts 4 bytes later.
    private var usernameOffset: Int?
    private var xorMappedAddressOffset: Int?
    private var errorCodeOffset: Int?
    private var messageIntegrityOffset: Int?
    private var messageIntegritySHA256Offset: Int?
    private var fingerprintOffset: Int?
    /// PRIORITY (RFC 8445 §7.1.1).
    public private(set) var priority: UInt32?
    /// USE-CANDIDATE present (RFC 8445 §7.1.2).
    public private(set) var useCandidate: Bool = false
    /// ICE-CONTROLLING tie-breaker (RFC 8445 §7.1.3).
    public private(set) var iceControlling: UInt64?
    /// ICE-CONTROLLED tie-breaker (RFC 8445 §7.1.3).
    public private(set) var iceControlled: UInt64?

    /// The STUN header size (RFC 8489 §5).
    public static let headerSize = 20

    /// Parses one STUN message from the readable bytes of `buffer` and advances the reader index
    /// past it. The message keeps a slice of `buffer`'s storage.
    public init(parsing buffer: inout ByteBuffer) throws(WireParseError) {
        let start = buffer.readerIndex
        guard buffer.readableBytes >= STUNMessage.headerSize,
              let rawType = buffer.getInteger(at: start, as: UInt16.self),
              let length = buffer.getInteger(at: start + 2, as: UInt16.self),
              let cookie = buffer.getInteger(at: start + 4, as: UInt32.self),
              let high = buffer.getInteger(at: start + 8, as: UInt32.self),
              let low = buffer.getInteger(at: start + 12, as: UInt64.self)
        else { throw WireParseError(.truncated, offset: 0, detail: "STUN header") }
        // RFC 8489 §5: the two most significant bits of every STUN message are zero.
        guard let type = STUNMessageType(rawValue: rawType) else {
            throw WireParseError(.invalidMessageType, offset: 0, detail: "top bits set")
        }
        guard cookie == stunMagicCookie else { throw WireParseError(.badMagicCookie, offset: 4) }
        // RFC 8489 §5: the length is a multiple of 4 (attributes are padded).
        guard length % 4 == 0 else { throw WireParseError(.invalidLength, offset: 2, detail: "not a multiple of 4") }
        let total = STUNMessage.headerSize + Int(length)
        guard buffer.readableBytes >= total, let slice = buffer.readSlice(length: total) else {
            throw WireParseError(.truncated, offset: 2, detail: "STUN length exceeds datagram")
        }
        self.buffer = slice
        self.type = type
        self.transactionID = STUNTransactionID(high: high, low: low)
        try self.indexAttributes()
    }

    /// Parses a datagram that must contain exactly one STUN message.
    public init(bytes: ByteBuffer) throws(WireParseError) {
        var copy = bytes
        try self.init(parsing: &copy)
        guard copy.readableBytes == 0 else {
            throw WireParseError(.invalidLength, offset: 2, detail: "trailing bytes after STUN message")
        }
    }

    private mutating func indexAttributes() throws(WireParseError) {
        let base = buffer.readerIndex
        let end = buffer.readableBytes
        var offset = STUNMessage.headerSize
        var afterIntegrity = false
        var afterIntegritySHA256 = false
        while offset < end {
            guard offset + 4 <= end,
                  let rawType = buffer.getInteger(at: base + offset, as: UInt16.self),
                  let length16 = buffer.getInteger(at: base + offset + 2, as: UInt16.self)
            else { throw WireParseError(.truncated, offset: offset, detail: "attribute header") }
            let length = Int(length16)
            // RFC 8489 §14: values are padded to a multiple of 4 bytes.
            let padded = (length + 3) & ~3
            guard offset + 4 + padded <= end else {
                throw WireParseError(.truncated, offset: offset, detail: "attribute value")
            }
            if fingerprintOffset != nil {
                throw WireParseError(.attributeAfterFingerprint, offset: offset)
            }
            let valueAt = base + offset + 4
            let type = STUNAttributeType(rawValue: rawType)
            switch type {
            case .fingerprint:
                guard length == 4 else { throw WireParseError(.invalidAttribute, offset: offset, detail: "FINGERPRINT") }
                fingerprintOffset = offset
            case .messageIntegritySHA256 where !afterIntegritySHA256:
                // RFC 8489 §14.6: 16 to 32 bytes, a multiple of 4.
                guard length >= 16, length <= 32, length % 4 == 0 else {
                    throw WireParseError(.invalidAttribute, offset: offset, detail: "MESSAGE-INTEGRITY-SHA256")
                }
                messageIntegritySHA256Offset = offset
                afterIntegritySHA256 = true
                afterIntegrity = true
            case _ where afterIntegrity:
                break // RFC 8489 §14.5: ignored after MESSAGE-INTEGRITY.
            case .messageIntegrity:
                guard length == 20 else { throw WireParseError(.invalidAttribute, offset: offset, detail: "MESSAGE-INTEGRITY") }
                messageIntegrityOffset = offset
                afterIntegrity = true
            case .username:
                // RFC 8489 §14.3: fewer than 509 bytes.
                guard length < 509 else { throw WireParseError(.invalidAttribute, offset: offset, detail: "USERNAME") }
                if usernameOffset == nil { usernameOffset = offset }
            case .xorMappedAddress:
                guard length == 8 || length == 20 else {
                    throw WireParseError(.invalidAttribute, offset: offset, detail: "XOR-MAPPED-ADDRESS")
                }
                let family = buffer.getInteger(at: valueAt + 1, as: UInt8.self)
                guard (family == 1 && length == 8) || (family == 2 && length == 20) else {
                    throw WireParseError(.unsupportedAddressFamily, offset: offset + 5)
                }
                if xorMappedAddressOffset == nil { xorMappedAddressOffset = offset }
            case .errorCode:
                guard length >= 4, length <= 4 + 763 else {
                    throw WireParseError(.invalidAttribute, offset: offset, detail: "ERROR-CODE")
                }
                if errorCodeOffset == nil { errorCodeOffset = offset }
            case .priority:
                guard length == 4, let value = buffer.getInteger(at: valueAt, as: UInt32.self) else {
                    throw WireParseError(.invalidAttribute, offset: offset, detail: "PRIORITY")
                }
                if priority == nil { priority = value }
            case .useCandidate:
                guard length == 0 else { throw WireParseError(.invalidAttribute, offset: offset, detail: "USE-CANDIDATE") }
                useCandidate = true
            case .iceControlling:
                guard length == 8, let value = buffer.getInteger(at: valueAt, as: UInt64.self) else {
                    throw WireParseError(.invalidAttribute, offset: offset, detail: "ICE-CONTROLLING")
                }
                if iceControlling == nil { iceControlling = value }
            case .iceControlled:
                guard length == 8, let value = buffer.getInteger(at: valueAt, as: UInt64.self) else {
                    throw WireParseError(.invalidAttribute, offset: offset, detail: "ICE-CONTROLLED")
                }
                if iceControlled == nil { iceControlled = value }
            default:
                break // Unknown attributes stay visible through `attributes`.
            }
            offset += 4 + padded
        }
    }

    /// Bytes of the message on the wire.
    public var encodedSize: Int { buffer.readableBytes }

    /// Writes the message bytes unchanged.
    @discardableResult
    public func write(to out: inout ByteBuffer) -> Int { out.writeImmutableBuffer(buffer) }

    /// All attributes in wire order, unknown ones included, each with a value slice.
    public var attributes: STUNAttributeSequence { STUNAttributeSequence(message: buffer) }

    /// Value slice of the first attribute of `type`, if any.
    public func attribute(_ type: STUNAttributeType) -> ByteBuffer? {
        for attribute in attributes where attribute.type == type { return attribute.value }
        return nil
    }

    /// Comprehension-required attribute types (< 0x8000) this parser does not know, for a 420
    /// response's UNKNOWN-ATTRIBUTES (RFC 8489 §6.3.1.1).
    public var unknownComprehensionRequiredTypes: [UInt16] {
        let known: Set<STUNAttributeType> = [
            .mappedAddress, .username, .messageIntegrity, .errorCode, .unknownAttributes, .realm, .nonce,
            .messageIntegritySHA256, .xorMappedAddress, .priority, .useCandidate,
        ]
        return attributes.filter { $0.type.isComprehensionRequired && !known.contains($0.type) }.map(\.type.rawValue)
    }

    func valueSlice(atAttribute offset: Int?) -> ByteBuffer? {
        guard let offset,
              let length = buffer.getInteger(at: buffer.readerIndex + offset + 2, as: UInt16.self)
        else { return nil }
        return buffer.getSlice(at: buffer.readerIndex + offset + 4, length: Int(length))
    }

    /// USERNAME value bytes (RFC 8489 §14.3), a slice.
    public var usernameBytes: ByteBuffer? { valueSlice(atAttribute: usernameOffset) }

    /// USERNAME as UTF-8 text (allocates a String; use ``usernameBytes`` on hot paths).
    public var username: String? {
        usernameBytes.map { String(buffer: $0) }
    }

    /// XOR-MAPPED-ADDRESS decoded (RFC 8489 §14.2).
    public var xorMappedAddress: STUNAddress? {
        guard let value = valueSlice(atAttribute: xorMappedAddressOffset) else { return nil }
        return STUNMessage.decodeXORAddress(value, transactionID: transactionID)
    }

    /// ERROR-CODE (RFC 8489 §14.8): class × 100 + number, and the reason phrase.
    public var errorCode: STUNErrorCode? {
        guard var value = valueSlice(atAttribute: errorCodeOffset),
              let header = value.readInteger(as: UInt32.self)
        else { return nil }
        let code = UInt16((header >> 8) & 0x7) * 100 + UInt16(header & 0xFF)
        return STUNErrorCode(code: code, reason: value.readString(length: value.readableBytes) ?? "")
    }

    /// Offset of the MESSAGE-INTEGRITY attribute header, if present.
    public var messageIntegrityAttributeOffset: Int? { messageIntegrityOffset }
    /// Offset of the MESSAGE-INTEGRITY-SHA256 attribute header, if present.
    public var messageIntegritySHA256AttributeOffset: Int? { messageIntegritySHA256Offset }
    /// Offset of the FINGERPRINT attribute header, if present.
    public var fingerprintAttributeOffset: Int? { fingerprintOffset }

    static func decodeXORAddress(_ value: ByteBuffer, transactionID: STUNTransactionID) -> STUNAddress? {
        let at = value.readerIndex
        guard let family = value.getInteger(at: at + 1, as: UInt8.self),
              let xPort = value.getInteger(at: at + 2, as: UInt16.self)
        else { return nil }
        // RFC 8489 §14.2: port XOR the top 16 bits of the cookie; address XOR cookie (‖ txid).
        let port = xPort ^ UInt16(stunMagicCookie >> 16)
        switch family {
        case 1:
            guard let x = value.getInteger(at: at + 4, as: UInt32.self) else { return nil }
            return STUNAddress(ip: .v4(x ^ stunMagicCookie), port: port)
        case 2:
            guard let xHigh = value.getInteger(at: at + 4, as: UInt64.self),
                  let xLow = value.getInteger(at: at + 12, as: UInt64.self)
            else { return nil }
            let highMask = UInt64(stunMagicCookie) << 32 | UInt64(transactionID.high)
            return STUNAddress(ip: .v6(xHigh ^ highMask, xLow ^ transactionID.low), port: port)
        default:
            return nil
        }
    }
}

/// The attributes of a message in wire order. Iterates a validated message, so never fails.
public struct STUNAttributeSequence: Sequence, Sendable {
    let message: ByteBuffer

    public struct Iterator: IteratorProtocol, Sendable {
        let message: ByteBuffer
        var offset = STUNMessage.headerSize

        public mutating func next() -> STUNAttribute? {
            let base = message.readerIndex
            guard offset + 4 <= message.readableBytes,
                  let type = message.getInteger(at: base + offset, as: UInt16.self),
                  let length = message.getInteger(at: base + offset + 2, as: UInt16.self),
                  let value = message.getSlice(at: base + offset + 4, length: Int(length))
            else { return nil }
            let attribute = STUNAttribute(type: STUNAttributeType(rawValue: type), value: value, offset: offset)
            offset += 4 + ((Int(length) + 3) & ~3)
            return attribute
        }
    }

    public func makeIterator() -> Iterator { Iterator(message: message) }
}
