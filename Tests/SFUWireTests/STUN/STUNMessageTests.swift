import Crypto
import NIOCore
import Testing
@testable import SFUWire

/// RFC 5769 test vectors, typed byte for byte.
enum RFC5769 {
    static let password = "VOkJxbRl1RmTxUk/WvJxBt"

    /// §2.1 Sample Request.
    static let request = hexBuffer("""
        00 01 00 58  # Request type and message length
        21 12 a4 42  # Magic cookie
        b7 e7 a7 01  # Transaction ID
        bc 34 d6 86
        fa 87 df ae
        80 22 00 10  # SOFTWARE attribute header
        53 54 55 4e  # "STUN test client"
        20 74 65 73
        74 20 63 6c
        69 65 6e 74
        00 24 00 04  # PRIORITY attribute header
        6e 00 01 ff  # ICE priority value
        80 29 00 08  # ICE-CONTROLLED attribute header
        93 2f f9 b1  # tie breaker
        51 26 3b 36
        00 06 00 09  # USERNAME attribute header
        65 76 74 6a  # "evtj:h6vY" and padding
        3a 68 36 76
        59 20 20 20
        00 08 00 14  # MESSAGE-INTEGRITY attribute header
        9a ea a7 0c  # HMAC-SHA1
        bf d8 cb 56
        78 1e f2 b5
        b2 d3 f2 49
        c1 b5 71 a2
        80 28 00 04  # FINGERPRINT attribute header
        e5 7a 3b cf  # CRC32 fingerprint
        """)

    /// §2.2 Sample IPv4 Response.
    static let ipv4Response = hexBuffer("""
        01 01 00 3c  # Response type and message length
        21 12 a4 42  # Magic cookie
        b7 e7 a7 01  # Transaction ID
        bc 34 d6 86
        fa 87 df ae
        80 22 00 0b  # SOFTWARE attribute header
        74 65 73 74  # "test vector" and padding
        20 76 65 63
        74 6f 72 20
        00 20 00 08  # XOR-MAPPED-ADDRESS attribute header
        00 01 a1 47  # family IPv4, xor'd port
        e1 12 a6 43  # xor'd IPv4 address
        00 08 00 14  # MESSAGE-INTEGRITY attribute header
        2b 91 f5 99  # HMAC-SHA1
        fd 9e 90 c3
        8c 74 89 f9
        2a f9 ba 53
        f0 6b e7 d7
        80 28 00 04  # FINGERPRINT attribute header
        c0 7d 4c 96  # CRC32 fingerprint
        """)

    /// §2.3 Sample IPv6 Response.
    static let ipv6Response = hexBuffer("""
        01 01 00 48  # Response type and message length
        21 12 a4 42  # Magic cookie
        b7 e7 a7 01  # Transaction ID
        bc 34 d6 86
        fa 87 df ae
        80 22 00 0b  # SOFTWARE attribute header
        74 65 73 74  # "test vector" and padding
        20 76 65 63
        74 6f 72 20
        00 20 00 14  # XOR-MAPPED-ADDRESS attribute header
        00 02 a1 47  # family IPv6, xor'd port
        01 13 a9 fa  # xor'd IPv6 address
        a5 d3 f1 79
        bc 25 f4 b5
        be d2 b9 d9
        00 08 00 14  # MESSAGE-INTEGRITY attribute header
        a3 82 95 4e  # HMAC-SHA1
        4b e6 7b f1
        17 84 c9 7c
        82 92 c2 75
        bf e3 ed 41
        80 28 00 04  # FINGERPRINT attribute header
        c8 fb 0b 4c  # CRC32 fingerprint
        """)

    static let transactionID = STUNTransactionID(high: 0xB7E7_A701, low: 0xBC34_D686_FA87_DFAE)
}

@Suite struct STUNMessageTests {
    let key = STUNCredentials.shortTermKey(password: RFC5769.password)

    @Test func sampleRequestParsesAndVerifies() throws {
        let message = try STUNMessage(bytes: RFC5769.request)
        #expect(message.type == .bindingRequest)
        #expect(message.transactionID == RFC5769.transactionID)
        #expect(message.username == "evtj:h6vY")
        #expect(message.priority == 0x6E00_01FF)
        #expect(message.iceControlled == 0x932F_F9B1_5126_3B36)
        #expect(message.iceControlling == nil)
        #expect(message.useCandidate == false)
        #expect(message.attribute(.software).map { String(buffer: $0) } == "STUN test client")
        #expect(message.verifyMessageIntegrity(key: key))
        #expect(message.hasValidFingerprint)
        #expect(message.attributes.map(\.type) == [.software, .priority, .iceControlled, .username, .messageIntegrity, .fingerprint])
    }

    @Test func sampleIPv4ResponseDecodesAddress() throws {
        let message = try STUNMessage(bytes: RFC5769.ipv4Response)
        #expect(message.type == .bindingSuccess)
        #expect(message.xorMappedAddress == STUNAddress(ipAddress: "192.0.2.1", port: 32853))
        #expect(message.verifyMessageIntegrity(key: key))
        #expect(message.hasValidFingerprint)
    }

    @Test func sampleIPv6ResponseDecodesAddress() throws {
        let message = try STUNMessage(bytes: RFC5769.ipv6Response)
        #expect(message.xorMappedAddress == STUNAddress(ipAddress: "2001:db8:1234:5678:11:2233:4455:6677", port: 32853))
        #expect(message.verifyMessageIntegrity(key: key))
        #expect(message.hasValidFingerprint)
    }

    @Test func wrongPasswordFailsIntegrity() throws {
        let message = try STUNMessage(bytes: RFC5769.request)
        #expect(!message.verifyMessageIntegrity(key: STUNCredentials.shortTermKey(password: "VOkJxbRl1RmTxUk/WvJxBu")))
    }

    @Test func flippedByteFailsIntegrityAndFingerprint() throws {
        var tampered = RFC5769.request
        tampered.setInteger(UInt8(0x6F), at: 48)  // PRIORITY value
        let message = try STUNMessage(bytes: tampered)
        #expect(!message.verifyMessageIntegrity(key: key))
        #expect(!message.hasValidFingerprint)
    }

    @Test func messageTypeEncodingRoundTrips() {
        #expect(STUNMessageType.bindingRequest.rawValue == 0x0001)
        #expect(STUNMessageType.bindingIndication.rawValue == 0x0011)
        #expect(STUNMessageType.bindingSuccess.rawValue == 0x0101)
        #expect(STUNMessageType.bindingError.rawValue == 0x0111)
        for raw in stride(from: UInt16(0), to: 0x4000, by: 7) {
            #expect(STUNMessageType(rawValue: raw)?.rawValue == raw)
        }
        #expect(STUNMessageType(rawValue: 0x8001) == nil)
    }

    @Test func headerErrorsAreTyped() {
        var badCookie = RFC5769.request
        badCookie.setInteger(UInt32(0x2112_A443), at: 4)
        #expect(throws: WireParseError(.badMagicCookie, offset: 4)) { try STUNMessage(bytes: badCookie) }

        var short = RFC5769.request
        short.moveWriterIndex(to: 19)
        #expect { try STUNMessage(bytes: short) } throws: { ($0 as? WireParseError)?.code == .truncated }

        var truncated = RFC5769.request
        truncated.moveWriterIndex(to: 60)
        #expect { try STUNMessage(bytes: truncated) } throws: { ($0 as? WireParseError)?.code == .truncated }

        var oddLength = RFC5769.request
        oddLength.setInteger(UInt16(0x57), at: 2)
        #expect { try STUNMessage(bytes: oddLength) } throws: { ($0 as? WireParseError)?.code == .invalidLength }

        var topBits = RFC5769.request
        topBits.setInteger(UInt8(0x80), at: 0)
        #expect { try STUNMessage(bytes: topBits) } throws: { ($0 as? WireParseError)?.code == .invalidMessageType }
    }

    @Test func attributeAfterFingerprintIsRejected() {
        var buffer = ByteBuffer()
        let encoder = STUNMessageEncoder(type: .bindingRequest, transactionID: RFC5769.transactionID, into: &buffer)
        encoder.appendFingerprint(to: &buffer)
        encoder.appendPriority(1, to: &buffer)
        #expect { try STUNMessage(bytes: buffer) } throws: { ($0 as? WireParseError)?.code == .attributeAfterFingerprint }
    }

    @Test func attributesAfterIntegrityAreIgnoredByAccessors() throws {
        var buffer = ByteBuffer()
        let encoder = STUNMessageEncoder(type: .bindingRequest, transactionID: RFC5769.transactionID, into: &buffer)
        encoder.appendUsername("a:b", to: &buffer)
        encoder.appendMessageIntegrity(key: key, to: &buffer)
        encoder.appendPriority(7, to: &buffer)  // RFC 8489 §14.5: must be ignored
        let message = try STUNMessage(bytes: buffer)
        #expect(message.priority == nil)
        #expect(message.verifyMessageIntegrity(key: key))
        #expect(message.attributes.contains { $0.type == .priority })
    }

    @Test func unknownAttributesArePreservedWithPadding() throws {
        var buffer = ByteBuffer()
        let encoder = STUNMessageEncoder(type: .bindingRequest, transactionID: RFC5769.transactionID, into: &buffer)
        encoder.appendAttribute(STUNAttributeType(rawValue: 0x7777), bytes: [1, 2, 3], to: &buffer)
        encoder.appendAttribute(STUNAttributeType(rawValue: 0xC001), bytes: [9], to: &buffer)
        encoder.appendUsername("u", to: &buffer)
        let message = try STUNMessage(bytes: buffer)
        #expect(message.encodedSize == 20 + 8 + 8 + 8)
        #expect(message.attribute(STUNAttributeType(rawValue: 0x7777)).map(bytes) == [1, 2, 3])
        #expect(message.unknownComprehensionRequiredTypes == [0x7777])
        #expect(message.username == "u")
    }

    @Test func messageIntegritySHA256VerifiesAndTruncates() throws {
        var buffer = ByteBuffer()
        let encoder = STUNMessageEncoder(type: .bindingRequest, transactionID: RFC5769.transactionID, into: &buffer)
        encoder.appendUsername("evtj:h6vY", to: &buffer)
        encoder.appendMessageIntegrity(key: key, to: &buffer)
        encoder.appendMessageIntegritySHA256(key: key, to: &buffer)
        encoder.appendFingerprint(to: &buffer)
        let message = try STUNMessage(bytes: buffer)
        #expect(message.verifyMessageIntegrity(key: key))
        #expect(message.verifyMessageIntegritySHA256(key: key))
        #expect(message.hasValidFingerprint)
        #expect(!message.verifyMessageIntegritySHA256(key: STUNCredentials.shortTermKey(password: "nope")))
    }

    @Test func errorCodeDecodes() throws {
        var buffer = ByteBuffer()
        STUNMessage.writeBindingError(to: &buffer, transactionID: RFC5769.transactionID, error: .roleConflict)
        let message = try STUNMessage(bytes: buffer)
        #expect(message.type == .bindingError)
        #expect(message.errorCode == .roleConflict)
        #expect(message.hasValidFingerprint)
    }

    @Test func longTermKeyIsMD5OfTriple() {
        let key = STUNCredentials.longTermKey(username: "user", realm: "realm", password: "pass")
        let expected = Insecure.MD5.hash(data: Array("user:realm:pass".utf8))
        #expect(key.withUnsafeBytes { Array($0) } == Array(expected))
    }
}
