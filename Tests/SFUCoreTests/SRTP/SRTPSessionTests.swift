import NIOCore
import SFUCore
import Testing

func hexBytes(_ text: String) -> [UInt8] {
    let digits = text.filter { !$0.isWhitespace }
    var bytes: [UInt8] = []
    var index = digits.startIndex
    while index < digits.endIndex {
        let next = digits.index(index, offsetBy: 2)
        bytes.append(UInt8(digits[index..<next], radix: 16) ?? 0)
        index = next
    }
    return bytes
}

/// Keying material with recognisable bytes; `mirrored` gives the peer's view.
func testMaterial(_ profile: SRTPProfile) -> SRTPKeyingMaterial {
    SRTPKeyingMaterial(
        profile: profile,
        localMasterKey: (0..<16).map { UInt8($0) },
        localMasterSalt: (0..<profile.saltLength).map { UInt8(0x40 + $0) },
        remoteMasterKey: (0..<16).map { UInt8(0x80 + $0) },
        remoteMasterSalt: (0..<profile.saltLength).map { UInt8(0xC0 + $0) })
}

/// An RTP packet (RFC 3550 §5.1) in a buffer with trailer room reserved.
func rtpPacket(sequence: UInt16, ssrc: UInt32 = 0x1234_5678, payloadLength: Int = 160) -> ByteBuffer {
    var buffer = ByteBufferAllocator().buffer(capacity: 12 + payloadLength + SRTPSession.maximumTrailerLength)
    buffer.writeInteger(UInt8(0x80))
    buffer.writeInteger(UInt8(96))
    buffer.writeInteger(sequence)
    buffer.writeInteger(UInt32(sequence) * 960)
    buffer.writeInteger(ssrc)
    buffer.writeBytes((0..<payloadLength).map { UInt8(truncatingIfNeeded: $0 &* 7) })
    return buffer
}

/// An RTCP receiver report with one report block (RFC 3550 §6.4.2).
func rtcpPacket(ssrc: UInt32 = 0x1234_5678) -> ByteBuffer {
    var buffer = ByteBufferAllocator().buffer(capacity: 32 + SRTPSession.maximumTrailerLength)
    buffer.writeBytes([0x81, 201, 0x00, 0x07])
    buffer.writeInteger(ssrc)
    buffer.writeBytes((0..<24).map { UInt8($0) })
    return buffer
}

@Suite("SRTPSession")
struct SRTPSessionTests {
    @Test("RTP protected by one side unprotects on the mirrored side", arguments: SRTPProfile.allCases)
    func rtpRoundTrip(profile: SRTPProfile) throws {
        let sender = try SRTPSession(keyingMaterial: testMaterial(profile))
        let receiver = try SRTPSession(keyingMaterial: testMaterial(profile).mirrored)
        for sequence in UInt16(100)..<UInt16(120) {
            let original = rtpPacket(sequence: sequence)
            var packet = original
            try sender.protect(rtp: &packet)
            #expect(packet.readableBytes == original.readableBytes + (profile == .aeadAES128GCM ? 16 : 10))
            #expect(packet.getSlice(at: 0, length: 12) == original.getSlice(at: 0, length: 12))
            #expect(packet.getSlice(at: 12, length: 160) != original.getSlice(at: 12, length: 160))
            try receiver.unprotect(srtp: &packet)
            #expect(packet == original)
        }
    }

    @Test("RTCP protected by one side unprotects on the mirrored side", arguments: SRTPProfile.allCases)
    func rtcpRoundTrip(profile: SRTPProfile) throws {
        let sender = try SRTPSession(keyingMaterial: testMaterial(profile))
        let receiver = try SRTPSession(keyingMaterial: testMaterial(profile).mirrored)
        for _ in 0..<5 {
            let original = rtcpPacket()
            var packet = original
            try sender.protectRTCP(rtcp: &packet)
            // RFC 3711 §3.4: E flag + 31-bit index, then the tag.
            #expect(packet.readableBytes == original.readableBytes + 4 + (profile == .aeadAES128GCM ? 16 : 10))
            try receiver.unprotectRTCP(srtcp: &packet)
            #expect(packet == original)
        }
    }

    @Test("a tampered packet fails authentication", arguments: SRTPProfile.allCases)
    func tampered(profile: SRTPProfile) throws {
        let sender = try SRTPSession(keyingMaterial: testMaterial(profile))
        let receiver = try SRTPSession(keyingMaterial: testMaterial(profile).mirrored)
        var packet = rtpPacket(sequence: 1)
        try sender.protect(rtp: &packet)
        packet.setInteger(packet.getInteger(at: 40, as: UInt8.self).map { $0 ^ 0x01 } ?? 0, at: 40)
        let before = packet
        #expect { try receiver.unprotect(srtp: &packet) } throws: { ($0 as? SRTPError)?.code == .authFail }
        #expect(packet.readableBytes == before.readableBytes)

        var rtcp = rtcpPacket()
        try sender.protectRTCP(rtcp: &rtcp)
        rtcp.setInteger(UInt8(0xFF), at: 10)
        #expect { try receiver.unprotectRTCP(srtcp: &rtcp) } throws: { ($0 as? SRTPError)?.code == .authFail }

        // Wrong keys look the same as tampering.
        let stranger = try SRTPSession(keyingMaterial: testMaterial(profile))
        var other = rtpPacket(sequence: 2)
        try sender.protect(rtp: &other)
        #expect { try stranger.unprotect(srtp: &other) } throws: { ($0 as? SRTPError)?.code == .authFail }
    }

    @Test("a replayed packet fails the replay check", arguments: SRTPProfile.allCases)
    func replay(profile: SRTPProfile) throws {
        let sender = try SRTPSession(keyingMaterial: testMaterial(profile))
        let receiver = try SRTPSession(keyingMaterial: testMaterial(profile).mirrored)
        var packet = rtpPacket(sequence: 500)
        try sender.protect(rtp: &packet)
        var copy = packet
        try receiver.unprotect(srtp: &packet)
        #expect { try receiver.unprotect(srtp: &copy) } throws: { ($0 as? SRTPError)?.code == .replayFail }

        var rtcp = rtcpPacket()
        try sender.protectRTCP(rtcp: &rtcp)
        var rtcpCopy = rtcp
        try receiver.unprotectRTCP(srtcp: &rtcp)
        #expect { try receiver.unprotectRTCP(srtcp: &rtcpCopy) } throws: { ($0 as? SRTPError)?.code == .replayFail }
    }

    @Test("out-of-order packets inside the 1024-packet window are accepted, older ones rejected")
    func replayWindow() throws {
        let sender = try SRTPSession(keyingMaterial: testMaterial(.aeadAES128GCM))
        let receiver = try SRTPSession(keyingMaterial: testMaterial(.aeadAES128GCM).mirrored)
        var protected: [ByteBuffer] = []
        for sequence in UInt16(0)..<UInt16(1100) {
            var packet = rtpPacket(sequence: sequence, payloadLength: 20)
            try sender.protect(rtp: &packet)
            protected.append(packet)
        }
        var newest = protected[1099]
        try receiver.unprotect(srtp: &newest)
        var inside = protected[1099 - 1000]
        try receiver.unprotect(srtp: &inside)
        var outside = protected[1099 - 1050]
        #expect { try receiver.unprotect(srtp: &outside) } throws: { ($0 as? SRTPError)?.code == .replayOld }
    }

    @Test("retransmissions with the same sequence number can be protected again")
    func repeatTransmission() throws {
        let sender = try SRTPSession(keyingMaterial: testMaterial(.aes128CMHMACSHA1_80))
        var first = rtpPacket(sequence: 9)
        var again = rtpPacket(sequence: 9)
        try sender.protect(rtp: &first)
        try sender.protect(rtp: &again)
        #expect(first == again)
    }

    @Test("packets that are not RTP/RTCP are rejected before libsrtp")
    func invalidPackets() throws {
        let session = try SRTPSession(keyingMaterial: testMaterial(.aeadAES128GCM))
        var extensionTooLong = rtpPacket(sequence: 1, payloadLength: 0)
        extensionTooLong.setInteger(UInt8(0x90), at: 0)
        extensionTooLong.writeBytes([0xBE, 0xDE, 0x00, 0x09])
        let cases: [ByteBuffer] = [
            ByteBuffer(), ByteBuffer(bytes: [0x80, 96, 0, 1]),
            ByteBuffer(bytes: [UInt8](repeating: 0x40, count: 40)),  // version 1
            ByteBuffer(bytes: [0x8F] + [UInt8](repeating: 0, count: 30)),  // 15 CSRCs in 31 bytes
            extensionTooLong,
        ]
        for var packet in cases {
            #expect { try session.protect(rtp: &packet) } throws: { ($0 as? SRTPError)?.code == .invalidPacket }
            #expect { try session.unprotect(srtp: &packet) } throws: { ($0 as? SRTPError)?.code == .invalidPacket }
        }
        var shortRTCP = ByteBuffer(bytes: [0x80, 200, 0, 0])
        #expect { try session.unprotectRTCP(srtcp: &shortRTCP) } throws: { ($0 as? SRTPError)?.code == .invalidPacket }
        // A well-formed header with a truncated tag reaches libsrtp and fails there.
        var truncated = rtpPacket(sequence: 3, payloadLength: 4)
        #expect(throws: SRTPError.self) { try session.unprotect(srtp: &truncated) }
    }

    @Test("wrong key lengths and window sizes are bad_param")
    func badParameters() {
        var material = testMaterial(.aeadAES128GCM)
        material.localMasterSalt.append(0)
        #expect { _ = try SRTPSession(keyingMaterial: material) } throws: { ($0 as? SRTPError)?.code == .badParam }
        #expect { _ = try SRTPSession(keyingMaterial: testMaterial(.aeadAES128GCM), replayWindowSize: 16) } throws: {
            ($0 as? SRTPError)?.code == .badParam
        }
    }

    @Test("protecting into reserved trailer room keeps the buffer's storage")
    func inPlace() throws {
        let sender = try SRTPSession(keyingMaterial: testMaterial(.aeadAES128GCM))
        var packet = rtpPacket(sequence: 1, payloadLength: 1000)
        let capacity = packet.capacity
        let address = packet.withUnsafeReadableBytes { UInt(bitPattern: $0.baseAddress) }
        try sender.protect(rtp: &packet)
        #expect(packet.capacity == capacity)
        #expect(packet.withUnsafeReadableBytes { UInt(bitPattern: $0.baseAddress) } == address)
    }

    @Test("keying material splits client key | server key | client salt | server salt")
    func keyingMaterialLayout() throws {
        let exported = (0..<60).map { UInt8($0) }
        let client = try #require(SRTPKeyingMaterial(exported: exported, profile: .aes128CMHMACSHA1_80, isClient: true))
        let server = try #require(SRTPKeyingMaterial(exported: exported, profile: .aes128CMHMACSHA1_80, isClient: false))
        #expect(client.localMasterKey == Array(0..<16))
        #expect(client.remoteMasterKey == Array(16..<32))
        #expect(client.localMasterSalt == Array(32..<46))
        #expect(client.remoteMasterSalt == Array(46..<60))
        #expect(server == client.mirrored)
        #expect(SRTPKeyingMaterial(exported: Array(exported.prefix(56)), profile: .aes128CMHMACSHA1_80, isClient: true) == nil)
        let gcm = try #require(SRTPKeyingMaterial(exported: Array(exported.prefix(56)), profile: .aeadAES128GCM, isClient: true))
        #expect(gcm.localMasterSalt == Array(32..<44))
        #expect(gcm.remoteMasterSalt == Array(44..<56))
        #expect(!"\(gcm)".contains("32"))
    }

    @Test("micro-benchmark: protect + unprotect of 1200-byte packets (prints packets/s)",
          arguments: SRTPProfile.allCases)
    func benchmark(profile: SRTPProfile) throws {
        let sender = try SRTPSession(keyingMaterial: testMaterial(profile))
        let receiver = try SRTPSession(keyingMaterial: testMaterial(profile).mirrored)
        let count = 100_000
        var packet = rtpPacket(sequence: 0, payloadLength: 1200 - 12)
        let start = NIODeadline.now()
        for index in 0..<count {
            packet.moveReaderIndex(to: 0)
            packet.setInteger(UInt16(truncatingIfNeeded: index), at: 2)
            try sender.protect(rtp: &packet)
            try receiver.unprotect(srtp: &packet)
        }
        let seconds = Double((NIODeadline.now() - start).nanoseconds) / 1e9
        let rate = Double(count) / seconds
        print("SRTP benchmark \(profile): \(count) × 1200 B protect+unprotect in \(Int(seconds * 1000)) ms = \(Int(rate)) packets/s")
        #expect(packet.readableBytes == 1200)
    }
}
