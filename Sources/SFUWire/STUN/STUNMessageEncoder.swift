import Crypto
import NIOCore

/// Writes one STUN message into a caller's `ByteBuffer`, attribute by attribute, keeping the
/// header length current after every append so integrity and fingerprint can be computed in place.
///
///     var encoder = STUNMessageEncoder(type: .bindingSuccess, transactionID: id, into: &out)
///     encoder.appendXORMappedAddress(peer, to: &out)
///     encoder.appendMessageIntegrity(key: key, to: &out)
///     encoder.appendFingerprint(to: &out)
public struct STUNMessageEncoder: Sendable {
    /// Writer index of the message's first byte.
    public let start: Int
    public let transactionID: STUNTransactionID

    /// Writes the 20-byte header with length 0.
    public init(type: STUNMessageType, transactionID: STUNTransactionID, into buffer: inout ByteBuffer) {
        self.start = buffer.writerIndex
        self.transactionID = transactionID
        buffer.writeInteger(type.rawValue)
        buffer.writeInteger(UInt16(0))
        buffer.writeInteger(stunMagicCookie)
        buffer.writeInteger(transactionID.high)
        buffer.writeInteger(transactionID.low)
    }

    /// Message bytes written so far.
    public func messageLength(in buffer: ByteBuffer) -> Int { buffer.writerIndex - start }

    private func updateLength(_ buffer: inout ByteBuffer) {
        let length = UInt16(truncatingIfNeeded: buffer.writerIndex - start - STUNMessage.headerSize)
        buffer.setInteger(length, at: start + 2)
    }

    private func pad(_ length: Int, _ buffer: inout ByteBuffer) {
        let padding = (4 - length % 4) % 4
        if padding > 0 { buffer.writeRepeatingByte(0, count: padding) }
    }

    /// Appends any attribute; values longer than 65535 bytes are truncated to fit.
    public func appendAttribute(_ type: STUNAttributeType, bytes: some Collection<UInt8>, to buffer: inout ByteBuffer) {
        let length = min(bytes.count, Int(UInt16.max) - 3)
        buffer.writeInteger(type.rawValue)
        buffer.writeInteger(UInt16(length))
        buffer.writeBytes(bytes.prefix(length))
        pad(length, &buffer)
        updateLength(&buffer)
    }

    /// Appends an attribute whose value is the readable bytes of `value`.
    public func appendAttribute(_ type: STUNAttributeType, value: ByteBuffer, to buffer: inout ByteBuffer) {
        let length = min(value.readableBytes, Int(UInt16.max) - 3)
        buffer.writeInteger(type.rawValue)
        buffer.writeInteger(UInt16(length))
        buffer.writeImmutableBuffer(value.getSlice(at: value.readerIndex, length: length) ?? value)
        pad(length, &buffer)
        updateLength(&buffer)
    }

    public func appendUsername(_ username: String, to buffer: inout ByteBuffer) {
        appendAttribute(.username, bytes: username.utf8, to: &buffer)
    }

    public func appendPriority(_ priority: UInt32, to buffer: inout ByteBuffer) {
        buffer.writeInteger(STUNAttributeType.priority.rawValue)
        buffer.writeInteger(UInt16(4))
        buffer.writeInteger(priority)
        updateLength(&buffer)
    }

    public func appendUseCandidate(to buffer: inout ByteBuffer) {
        buffer.writeInteger(STUNAttributeType.useCandidate.rawValue)
        buffer.writeInteger(UInt16(0))
        updateLength(&buffer)
    }

    public func appendICEControlling(tieBreaker: UInt64, to buffer: inout ByteBuffer) {
        appendUInt64(.iceControlling, tieBreaker, &buffer)
    }

    public func appendICEControlled(tieBreaker: UInt64, to buffer: inout ByteBuffer) {
        appendUInt64(.iceControlled, tieBreaker, &buffer)
    }

    private func appendUInt64(_ type: STUNAttributeType, _ value: UInt64, _ buffer: inout ByteBuffer) {
        buffer.writeInteger(type.rawValue)
        buffer.writeInteger(UInt16(8))
        buffer.writeInteger(value)
        updateLength(&buffer)
    }

    /// XOR-MAPPED-ADDRESS (RFC 8489 §14.2).
    public func appendXORMappedAddress(_ address: STUNAddress, to buffer: inout ByteBuffer) {
        buffer.writeInteger(STUNAttributeType.xorMappedAddress.rawValue)
        switch address.ip {
        case .v4(let ip):
            buffer.writeInteger(UInt16(8))
            buffer.writeInteger(UInt16(0x0001))
            buffer.writeInteger(address.port ^ UInt16(stunMagicCookie >> 16))
            buffer.writeInteger(ip ^ stunMagicCookie)
        case .v6(let high, let low):
            buffer.writeInteger(UInt16(20))
            buffer.writeInteger(UInt16(0x0002))
            buffer.writeInteger(address.port ^ UInt16(stunMagicCookie >> 16))
            buffer.writeInteger(high ^ (UInt64(stunMagicCookie) << 32 | UInt64(transactionID.high)))
            buffer.writeInteger(low ^ transactionID.low)
        }
        updateLength(&buffer)
    }

    /// ERROR-CODE (RFC 8489 §14.8); the reason is cut to 127 characters (763 bytes max).
    public func appendErrorCode(_ error: STUNErrorCode, to buffer: inout ByteBuffer) {
        let code = min(max(error.code, 300), 699)
        var value: [UInt8] = [0, 0, UInt8(code / 100), UInt8(code % 100)]
        value.append(contentsOf: String(error.reason.prefix(127)).utf8.prefix(763))
        appendAttribute(.errorCode, bytes: value, to: &buffer)
    }

    /// UNKNOWN-ATTRIBUTES (RFC 8489 §14.9).
    public func appendUnknownAttributes(_ types: [UInt16], to buffer: inout ByteBuffer) {
        var value: [UInt8] = []
        for type in types.prefix(16_000) { value += [UInt8(type >> 8), UInt8(type & 0xFF)] }
        appendAttribute(.unknownAttributes, bytes: value, to: &buffer)
    }

    /// SOFTWARE (RFC 8489 §14.14).
    public func appendSoftware(_ software: String, to buffer: inout ByteBuffer) {
        appendAttribute(.software, bytes: software.utf8.prefix(763), to: &buffer)
    }

    /// MESSAGE-INTEGRITY: HMAC-SHA1 over everything written so far (RFC 8489 §14.5).
    public func appendMessageIntegrity(key: SymmetricKey, to buffer: inout ByteBuffer) {
        let offset = buffer.writerIndex - start
        buffer.writeInteger(STUNAttributeType.messageIntegrity.rawValue)
        buffer.writeInteger(UInt16(20))
        let message = buffer.getSlice(at: start, length: offset) ?? ByteBuffer()
        let mac = STUNIntegrity.mac(Insecure.SHA1.self, message: message, attributeOffset: offset, macLength: 20, key: key)
        mac.withUnsafeBytes { _ = buffer.writeBytes($0) }
        updateLength(&buffer)
    }

    /// MESSAGE-INTEGRITY-SHA256 (RFC 8489 §14.6), full 32 bytes.
    public func appendMessageIntegritySHA256(key: SymmetricKey, to buffer: inout ByteBuffer) {
        let offset = buffer.writerIndex - start
        buffer.writeInteger(STUNAttributeType.messageIntegritySHA256.rawValue)
        buffer.writeInteger(UInt16(32))
        let message = buffer.getSlice(at: start, length: offset) ?? ByteBuffer()
        let mac = STUNIntegrity.mac(SHA256.self, message: message, attributeOffset: offset, macLength: 32, key: key)
        mac.withUnsafeBytes { _ = buffer.writeBytes($0) }
        updateLength(&buffer)
    }

    /// FINGERPRINT, which must be the last attribute (RFC 8489 §14.7).
    public func appendFingerprint(to buffer: inout ByteBuffer) {
        let offset = buffer.writerIndex - start
        buffer.writeInteger(STUNAttributeType.fingerprint.rawValue)
        buffer.writeInteger(UInt16(4))
        buffer.writeInteger(UInt32(0))
        // RFC 8489 §14.7: the header length already counts FINGERPRINT when the CRC is computed.
        updateLength(&buffer)
        let message = buffer.getSlice(at: start, length: offset) ?? ByteBuffer()
        buffer.setInteger(STUNIntegrity.fingerprint(message: message, attributeOffset: offset), at: start + offset + 4)
    }
}

/// ICE role of a binding request's sender with its tie-breaker (RFC 8445 §7.1.3).
public enum ICERoleAttribute: Hashable, Sendable {
    case controlling(tieBreaker: UInt64)
    case controlled(tieBreaker: UInt64)
}

/// A connectivity-check binding request (RFC 8445 §7.1), used by our client and load generator.
public struct STUNBindingRequest: Sendable {
    public var transactionID: STUNTransactionID
    /// `"<remote ufrag>:<local ufrag>"` (RFC 8445 §7.2.2).
    public var username: String
    public var priority: UInt32
    public var role: ICERoleAttribute
    public var useCandidate: Bool
    /// Remote password as a short-term key; `nil` sends no MESSAGE-INTEGRITY.
    public var integrityKey: SymmetricKey?
    public var fingerprint: Bool

    public init(
        transactionID: STUNTransactionID, username: String, priority: UInt32, role: ICERoleAttribute,
        useCandidate: Bool = false, integrityKey: SymmetricKey?, fingerprint: Bool = true
    ) {
        self.transactionID = transactionID
        self.username = username
        self.priority = priority
        self.role = role
        self.useCandidate = useCandidate
        self.integrityKey = integrityKey
        self.fingerprint = fingerprint
    }

    /// Writes the request; returns the bytes written.
    @discardableResult
    public func write(to buffer: inout ByteBuffer) -> Int {
        let encoder = STUNMessageEncoder(type: .bindingRequest, transactionID: transactionID, into: &buffer)
        encoder.appendUsername(username, to: &buffer)
        encoder.appendPriority(priority, to: &buffer)
        switch role {
        case .controlling(let tieBreaker): encoder.appendICEControlling(tieBreaker: tieBreaker, to: &buffer)
        case .controlled(let tieBreaker): encoder.appendICEControlled(tieBreaker: tieBreaker, to: &buffer)
        }
        if useCandidate { encoder.appendUseCandidate(to: &buffer) }
        if let integrityKey { encoder.appendMessageIntegrity(key: integrityKey, to: &buffer) }
        if fingerprint { encoder.appendFingerprint(to: &buffer) }
        return encoder.messageLength(in: buffer)
    }
}

extension STUNMessage {
    /// Writes a binding success response (RFC 8445 §7.3.1.4): XOR-MAPPED-ADDRESS of the request's
    /// source, MESSAGE-INTEGRITY with the local password, FINGERPRINT. Returns the bytes written.
    @discardableResult
    public static func writeBindingSuccess(
        to buffer: inout ByteBuffer, transactionID: STUNTransactionID, mappedAddress: STUNAddress,
        integrityKey: SymmetricKey, software: String? = nil
    ) -> Int {
        let encoder = STUNMessageEncoder(type: .bindingSuccess, transactionID: transactionID, into: &buffer)
        if let software { encoder.appendSoftware(software, to: &buffer) }
        encoder.appendXORMappedAddress(mappedAddress, to: &buffer)
        encoder.appendMessageIntegrity(key: integrityKey, to: &buffer)
        encoder.appendFingerprint(to: &buffer)
        return encoder.messageLength(in: buffer)
    }

    /// Writes a binding error response (RFC 8489 §6.3.1.1) with ERROR-CODE, UNKNOWN-ATTRIBUTES for
    /// 420, MESSAGE-INTEGRITY when a key is given (not for 400/401 on unauthenticated requests),
    /// and FINGERPRINT. Returns the bytes written.
    @discardableResult
    public static func writeBindingError(
        to buffer: inout ByteBuffer, transactionID: STUNTransactionID, error: STUNErrorCode,
        unknownAttributes: [UInt16] = [], integrityKey: SymmetricKey? = nil
    ) -> Int {
        let encoder = STUNMessageEncoder(type: .bindingError, transactionID: transactionID, into: &buffer)
        encoder.appendErrorCode(error, to: &buffer)
        if !unknownAttributes.isEmpty { encoder.appendUnknownAttributes(unknownAttributes, to: &buffer) }
        if let integrityKey { encoder.appendMessageIntegrity(key: integrityKey, to: &buffer) }
        encoder.appendFingerprint(to: &buffer)
        return encoder.messageLength(in: buffer)
    }
}
