import NIOCore

/// The two RFC 8285 header extension forms, plus any other profile (carried opaquely).
public enum RTPHeaderExtensionForm: Hashable, Sendable {
    /// Profile 0xBEDE: one-byte element headers, ids 1...14, lengths 1...16 (RFC 8285 §4.2).
    case oneByte
    /// Profile 0x100X: two-byte element headers, ids 1...255, lengths 0...255 (RFC 8285 §4.3).
    /// `appBits` are the low four bits of the profile.
    case twoByte(appBits: UInt8)
    /// Any other RFC 3550 §5.3.1 profile; elements are not interpreted.
    case other(profile: UInt16)

    public init(profile: UInt16) {
        if profile == 0xBEDE {
            self = .oneByte
        } else if profile & 0xFFF0 == 0x1000 {
            self = .twoByte(appBits: UInt8(profile & 0x000F))
        } else {
            self = .other(profile: profile)
        }
    }

    /// The 16-bit "defined by profile" field.
    public var profile: UInt16 {
        switch self {
        case .oneByte: return 0xBEDE
        case .twoByte(let appBits): return 0x1000 | UInt16(appBits & 0x0F)
        case .other(let profile): return profile
        }
    }
}

/// One extension element located in a packet: its id and where its value lies.
public struct RTPHeaderExtensionElement: Hashable, Sendable {
    public var id: UInt8
    /// Offset of the value's first byte from the start of the packet.
    public var valueOffset: Int
    /// Value length in bytes.
    public var length: Int
}

/// Walks RFC 8285 elements in a block without allocating.
public struct RTPHeaderExtensionIterator: IteratorProtocol, Sendable {
    let buffer: ByteBuffer
    let form: RTPHeaderExtensionForm
    var position: Int  // relative to packet start
    let end: Int

    init(buffer: ByteBuffer, form: RTPHeaderExtensionForm, start: Int, end: Int) {
        self.buffer = buffer
        self.form = form
        self.position = start
        self.end = end
    }

    public mutating func next() -> RTPHeaderExtensionElement? {
        switch RTPHeaderExtensionIterator.step(buffer, form, &position, end) {
        case .element(let element): return element
        case .end, .malformed: return nil
        }
    }

    enum Step {
        case element(RTPHeaderExtensionElement)
        case end
        case malformed
    }

    /// One step shared by validation at parse time and iteration.
    static func step(_ buffer: ByteBuffer, _ form: RTPHeaderExtensionForm, _ position: inout Int, _ end: Int) -> Step {
        let base = buffer.readerIndex
        switch form {
        case .other:
            return .end
        case .oneByte:
            while position < end {
                guard let byte = buffer.getInteger(at: base + position, as: UInt8.self) else { return .malformed }
                if byte == 0 { position += 1; continue }  // RFC 8285 §4.2: padding byte
                let id = byte >> 4
                // RFC 8285 §4.2: id 15 stops processing of the whole block.
                if id == 15 { position = end; return .end }
                let length = Int(byte & 0x0F) + 1
                guard position + 1 + length <= end else { return .malformed }
                let element = RTPHeaderExtensionElement(id: id, valueOffset: position + 1, length: length)
                position += 1 + length
                return .element(element)
            }
            return .end
        case .twoByte:
            while position < end {
                guard let id = buffer.getInteger(at: base + position, as: UInt8.self) else { return .malformed }
                if id == 0 { position += 1; continue }  // RFC 8285 §4.3: padding byte
                guard position + 2 <= end,
                      let length8 = buffer.getInteger(at: base + position + 1, as: UInt8.self)
                else { return .malformed }
                let length = Int(length8)
                guard position + 2 + length <= end else { return .malformed }
                let element = RTPHeaderExtensionElement(id: id, valueOffset: position + 2, length: length)
                position += 2 + length
                return .element(element)
            }
            return .end
        }
    }
}

/// The elements of a packet's extension block, as a `Sequence` (no allocation).
public struct RTPHeaderExtensions: Sequence, Sendable {
    let buffer: ByteBuffer
    public let form: RTPHeaderExtensionForm
    let start: Int
    let end: Int

    public func makeIterator() -> RTPHeaderExtensionIterator {
        RTPHeaderExtensionIterator(buffer: buffer, form: form, start: start, end: end)
    }
}

/// Builds an RFC 8285 extension block (4-byte header, elements, zero padding to 32 bits).
/// Used when originating packets; the forwarding path rewrites values in place instead.
public struct RTPHeaderExtensionsBuilder: Hashable, Sendable {
    public private(set) var form: RTPHeaderExtensionForm
    public private(set) var elementBytes: [UInt8] = []

    public init(form: RTPHeaderExtensionForm = .oneByte) {
        self.form = form
    }

    /// Appends one element. One-byte form: id 1...14 and 1...16 bytes; two-byte form: id 1...255
    /// and 0...255 bytes (RFC 8285 §4.2-§4.3).
    public mutating func append(id: UInt8, value: some Collection<UInt8>) throws(WireParseError) {
        switch form {
        case .oneByte:
            guard (1...14).contains(id), (1...16).contains(value.count) else {
                throw WireParseError(.valueOutOfRange, detail: "one-byte extension id or length")
            }
            elementBytes.append(id << 4 | UInt8(value.count - 1))
        case .twoByte:
            guard id >= 1, value.count <= 255 else {
                throw WireParseError(.valueOutOfRange, detail: "two-byte extension id or length")
            }
            elementBytes.append(id)
            elementBytes.append(UInt8(value.count))
        case .other:
            throw WireParseError(.valueOutOfRange, detail: "not an RFC 8285 profile")
        }
        elementBytes.append(contentsOf: value)
        // RFC 3550 §5.3.1: the block length is a 16-bit count of 32-bit words.
        guard elementBytes.count <= 4 * Int(UInt16.max) else {
            elementBytes.removeLast(value.count + (form == .oneByte ? 1 : 2))
            throw WireParseError(.valueOutOfRange, detail: "extension block longer than 65535 words")
        }
    }

    /// Bytes the block takes on the wire, header included.
    public var encodedSize: Int { 4 + (elementBytes.count + 3) / 4 * 4 }

    @discardableResult
    public func write(to buffer: inout ByteBuffer) -> Int {
        let padded = (elementBytes.count + 3) / 4 * 4
        buffer.writeInteger(form.profile)
        buffer.writeInteger(UInt16(truncatingIfNeeded: padded / 4))
        buffer.writeBytes(elementBytes)
        buffer.writeRepeatingByte(0, count: padded - elementBytes.count)
        return 4 + padded
    }
}
