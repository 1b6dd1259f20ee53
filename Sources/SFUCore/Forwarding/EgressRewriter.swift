/// Maps a producer's header extension ids to a consumer's (RFC 8285): a 256-entry table, 0 meaning
/// "strip" (the subscriber did not negotiate that extension). Built once per consumer.
public struct HeaderExtensionIDMap: Hashable, Sendable {
    private var table: [UInt8]

    /// Extensions the subscriber did not negotiate are stripped, and so are the ones whose values
    /// name the publisher's own session: MID (RFC 8843 §15) names the publisher's m-section, which
    /// means nothing, or the wrong section, to a subscriber; RID and repaired RID (RFC 8852) name
    /// the publisher's simulcast encodings. Forwarded as is, a subscriber that demultiplexes by MID
    /// would hand one publisher's packets to another track.
    public init(producer: [RTPHeaderExtensionParameters], consumer: [RTPHeaderExtensionParameters]) {
        table = [UInt8](repeating: 0, count: 256)
        for source in producer where !Self.publisherScoped.contains(source.uri) {
            if let target = consumer.first(where: { $0.uri == source.uri }) { table[Int(source.id)] = target.id }
        }
    }

    /// Header extensions whose values are meaningful only in the publisher's session.
    static let publisherScoped: Set<String> = [
        RTPHeaderExtensionURI.mid, RTPHeaderExtensionURI.rtpStreamID, RTPHeaderExtensionURI.repairedRTPStreamID,
    ]

    /// Every id kept as is.
    public static var identity: HeaderExtensionIDMap {
        var map = HeaderExtensionIDMap(producer: [], consumer: [])
        for id in 0..<256 { map.table[id] = UInt8(id) }
        return map
    }

    /// The consumer's id for producer id `id`; 0 means strip.
    public subscript(id: UInt8) -> UInt8 { table[Int(id)] }
}

/// The per-consumer rewrite of one outgoing RTP packet, done in place on its bytes: SSRC,
/// sequence number, timestamp, payload type (RFC 3550 §5.1) and the RFC 8285 header extension ids.
///
/// Stripping never changes the packet length: a stripped element's header and value bytes become
/// zero, which RFC 8285 §4.2/§4.3 define as padding bytes that receivers skip. An id the one-byte
/// form cannot carry (above 14) is stripped too. Pure and allocation-free.
public enum EgressRewriter {
    /// Rewrites `packet` (a whole, already validated RTP packet). Returns `false` when the header
    /// is shorter than it claims (nothing is then guaranteed about the bytes).
    ///
    /// - Parameter transportSequence: when set with the consumer's transport-cc id `transportCCID`,
    ///   that element's 16-bit value is overwritten (the egress transport numbers its own packets).
    @discardableResult
    public static func rewrite(
        _ packet: UnsafeMutableRawBufferPointer, ssrc: UInt32, sequenceNumber: UInt16, timestamp: UInt32,
        payloadType: UInt8, extensionMap: HeaderExtensionIDMap, transportCCID: UInt8 = 0,
        transportSequence: UInt16 = 0
    ) -> Bool {
        guard packet.count >= 12 else { return false }
        packet[1] = packet[1] & 0x80 | payloadType & 0x7F
        store(sequenceNumber, at: 2, in: packet)
        store(timestamp, at: 4, in: packet)
        store(ssrc, at: 8, in: packet)
        guard packet[0] & 0x10 != 0 else { return true }
        let blockHeader = 12 + 4 * Int(packet[0] & 0x0F)
        guard blockHeader + 4 <= packet.count else { return false }
        let profile = UInt16(packet[blockHeader]) << 8 | UInt16(packet[blockHeader + 1])
        let words = Int(UInt16(packet[blockHeader + 2]) << 8 | UInt16(packet[blockHeader + 3]))
        var position = blockHeader + 4
        let end = position + 4 * words
        guard end <= packet.count else { return false }
        if profile == 0xBEDE {
            while position < end {
                let byte = packet[position]
                if byte == 0 { position += 1; continue }
                let id = byte >> 4
                if id == 15 { break }  // RFC 8285 §4.2: stop processing
                let length = Int(byte & 0x0F) + 1
                guard position + 1 + length <= end else { return false }
                let target = extensionMap[id]
                if target == 0 || target > 14 {
                    for offset in position..<(position + 1 + length) { packet[offset] = 0 }
                } else {
                    packet[position] = target << 4 | byte & 0x0F
                    if target == transportCCID, transportCCID != 0, length == 2 {
                        store(transportSequence, at: position + 1, in: packet)
                    }
                }
                position += 1 + length
            }
        } else if profile & 0xFFF0 == 0x1000 {
            while position < end {
                let id = packet[position]
                if id == 0 { position += 1; continue }
                guard position + 2 <= end else { return false }
                let length = Int(packet[position + 1])
                guard position + 2 + length <= end else { return false }
                let target = extensionMap[id]
                if target == 0 {
                    for offset in position..<(position + 2 + length) { packet[offset] = 0 }
                } else {
                    packet[position] = target
                    if target == transportCCID, transportCCID != 0, length == 2 {
                        store(transportSequence, at: position + 2, in: packet)
                    }
                }
                position += 2 + length
            }
        }
        return true
    }

    /// Builds an RTX packet (RFC 4588 §4) from the original packet `original` into `out`: the
    /// original header with the RTX SSRC, payload type and sequence number and no padding, then
    /// the original sequence number (OSN), then the original payload. Returns `false` for a
    /// malformed original.
    public static func writeRTX(
        from original: UnsafeRawBufferPointer, ssrc: UInt32, sequenceNumber: UInt16, payloadType: UInt8,
        into out: UnsafeMutableRawBufferPointer
    ) -> Int? {
        guard original.count >= 12 else { return nil }
        var headerLength = 12 + 4 * Int(original[0] & 0x0F)
        if original[0] & 0x10 != 0 {
            guard headerLength + 4 <= original.count else { return nil }
            let words = Int(UInt16(original[headerLength + 2]) << 8 | UInt16(original[headerLength + 3]))
            headerLength += 4 + 4 * words
        }
        guard headerLength <= original.count else { return nil }
        var padding = 0
        if original[0] & 0x20 != 0, let last = original.last {
            padding = Int(last)
            guard padding >= 1, headerLength + padding <= original.count else { return nil }
        }
        let payloadLength = original.count - headerLength - padding
        let total = headerLength + 2 + payloadLength
        guard total <= out.count, let source = original.baseAddress, let target = out.baseAddress else { return nil }
        target.copyMemory(from: source, byteCount: headerLength)
        out[0] &= ~0x20  // P=0: the padding is not carried over
        out[1] = original[1] & 0x80 | payloadType & 0x7F
        store(sequenceNumber, at: 2, in: out)
        store(ssrc, at: 8, in: out)
        out[headerLength] = original[2]  // OSN, network order
        out[headerLength + 1] = original[3]
        (target + headerLength + 2).copyMemory(from: source + headerLength, byteCount: payloadLength)
        return total
    }

    @inline(__always)
    static func store(_ value: UInt16, at offset: Int, in bytes: UnsafeMutableRawBufferPointer) {
        bytes[offset] = UInt8(truncatingIfNeeded: value >> 8)
        bytes[offset + 1] = UInt8(truncatingIfNeeded: value)
    }

    @inline(__always)
    static func store(_ value: UInt32, at offset: Int, in bytes: UnsafeMutableRawBufferPointer) {
        bytes[offset] = UInt8(truncatingIfNeeded: value >> 24)
        bytes[offset + 1] = UInt8(truncatingIfNeeded: value >> 16)
        bytes[offset + 2] = UInt8(truncatingIfNeeded: value >> 8)
        bytes[offset + 3] = UInt8(truncatingIfNeeded: value)
    }
}
