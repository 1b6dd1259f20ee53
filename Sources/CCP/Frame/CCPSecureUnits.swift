import NIOCore

/// The encrypted units of a CCP-1 session after the handshake Ack (SPEC §4.2):
/// `unit := varint(len) ciphertext`, where `ciphertext` is one Noise transport message over a
/// chunk of the plaintext byte stream of encoded frames (a frame may span units).
///
/// SPEC §4.2 says "a unit is ≤ 65535 bytes" without saying whether the length prefix counts. This
/// type is strict when sending and lenient when receiving (docs/PROTOCOL-CCP.md §3): it writes units
/// of at most 65535 bytes *including* the prefix, and accepts any ciphertext of up to 65535 bytes
/// (the Noise §3 limit) after the prefix.
public enum CCPSecureUnits {
    /// The largest accepted `len` (a Noise transport message, Noise §3).
    public static let maxCiphertextLength = NoiseTransport.maxMessageLength
    /// The largest unit written, prefix included.
    public static let maxWrittenUnitLength = 65535
    /// The largest plaintext chunk sealed into one written unit: 65535 - 3 (prefix) - 16 (tag).
    public static let maxPlaintextPerUnit = maxWrittenUnitLength - 3 - NoiseCipherState.tagLength

    /// Encrypts `plaintext` (encoded frames) into as many units as needed, in order, and appends
    /// them to `out`. An empty plaintext writes nothing.
    public static func seal(
        _ plaintext: ByteBuffer,
        transport: inout NoiseTransport,
        into out: inout ByteBuffer
    ) throws(CCPError) {
        var remaining = plaintext
        while remaining.readableBytes > 0 {
            let chunkLength = min(remaining.readableBytes, Self.maxPlaintextPerUnit)
            guard let chunk = remaining.readBytes(length: chunkLength) else { return }
            let ciphertext = try transport.encrypt(chunk)
            CCPVarint.write(UInt64(ciphertext.count), to: &out)
            out.writeBytes(ciphertext)
        }
    }

    /// Reads units from the front of a received byte stream and decrypts them.
    public struct Decoder: Sendable {
        public init() {}

        /// Decrypts the next complete unit at the front of `buffer` and returns its plaintext, or
        /// `nil` (consuming nothing) while the unit is incomplete. A `len` above 65535 fails as
        /// soon as its varint is complete.
        public mutating func open(
            buffer: inout ByteBuffer,
            transport: inout NoiseTransport
        ) throws(CCPError) -> ByteBuffer? {
            let start = buffer.readerIndex
            guard case .value(let length, let prefixLength) = try CCPVarint.peek(in: buffer, at: start, limit: buffer.writerIndex) else {
                return nil
            }
            guard length <= UInt64(CCPSecureUnits.maxCiphertextLength) else {
                throw CCPError(.noiseMessageTooLarge, detail: "unit of \(length) bytes")
            }
            guard let ciphertext = buffer.getBytes(at: start + prefixLength, length: Int(length)) else { return nil }
            let plaintext = try transport.decrypt(ciphertext)
            buffer.moveReaderIndex(forwardBy: prefixLength + Int(length))
            return ByteBuffer(bytes: plaintext)
        }
    }
}
