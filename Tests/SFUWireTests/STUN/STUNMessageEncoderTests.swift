import Crypto
import NIOCore
import Testing
@testable import SFUWire

@Suite struct STUNMessageEncoderTests {
    let key = STUNCredentials.shortTermKey(password: RFC5769.password)

    /// Re-encoding the RFC 5769 request's attributes reproduces its bytes exactly, including the
    /// integrity and fingerprint values.
    @Test func reproducesRFC5769RequestByteForByte() {
        var buffer = ByteBuffer()
        let encoder = STUNMessageEncoder(type: .bindingRequest, transactionID: RFC5769.transactionID, into: &buffer)
        encoder.appendSoftware("STUN test client", to: &buffer)
        encoder.appendPriority(0x6E00_01FF, to: &buffer)
        encoder.appendICEControlled(tieBreaker: 0x932F_F9B1_5126_3B36, to: &buffer)
        // RFC 5769 pads USERNAME with spaces; pad explicitly to match the vector.
        encoder.appendAttribute(.username, bytes: Array("evtj:h6vY".utf8), to: &buffer)
        buffer.setBytes([0x20, 0x20, 0x20], at: buffer.writerIndex - 3)
        encoder.appendMessageIntegrity(key: key, to: &buffer)
        encoder.appendFingerprint(to: &buffer)
        #expect(bytes(buffer) == bytes(RFC5769.request))
    }

    @Test func bindingSuccessIPv4MatchesRFC5769Response() {
        var buffer = ByteBuffer()
        let encoder = STUNMessageEncoder(type: .bindingSuccess, transactionID: RFC5769.transactionID, into: &buffer)
        encoder.appendAttribute(.software, bytes: Array("test vector".utf8), to: &buffer)
        buffer.setBytes([0x20], at: buffer.writerIndex - 1)
        encoder.appendXORMappedAddress(STUNAddress(ip: .v4(0xC000_0201), port: 32853), to: &buffer)
        encoder.appendMessageIntegrity(key: key, to: &buffer)
        encoder.appendFingerprint(to: &buffer)
        #expect(bytes(buffer) == bytes(RFC5769.ipv4Response))
    }

    @Test func bindingSuccessRoundTripsIPv4AndIPv6() throws {
        for text in ["203.0.113.7", "2001:db8::1", "::ffff:10.0.0.1"] {
            let address = try #require(STUNAddress(ipAddress: text, port: 50_000))
            var buffer = ByteBuffer(bytes: [0xEE])  // writes start mid-buffer
            let written = STUNMessage.writeBindingSuccess(
                to: &buffer, transactionID: RFC5769.transactionID, mappedAddress: address, integrityKey: key, software: "commucat"
            )
            #expect(buffer.readableBytes == written + 1)
            buffer.moveReaderIndex(forwardBy: 1)
            let message = try STUNMessage(bytes: buffer)
            #expect(message.type == .bindingSuccess)
            #expect(message.transactionID == RFC5769.transactionID)
            #expect(message.xorMappedAddress == address)
            #expect(message.verifyMessageIntegrity(key: key))
            #expect(message.hasValidFingerprint)
        }
    }

    @Test func bindingErrorWithUnknownAttributes() throws {
        var buffer = ByteBuffer()
        STUNMessage.writeBindingError(
            to: &buffer, transactionID: RFC5769.transactionID, error: .unknownAttribute, unknownAttributes: [0x7777, 0x0042],
            integrityKey: key
        )
        let message = try STUNMessage(bytes: buffer)
        #expect(message.errorCode == STUNErrorCode(code: 420, reason: "Unknown Attribute"))
        #expect(message.attribute(.unknownAttributes).map(bytes) == [0x77, 0x77, 0x00, 0x42])
        #expect(message.verifyMessageIntegrity(key: key))
        #expect(message.hasValidFingerprint)
    }

    @Test func bindingRequestBuilderCarriesICEAttributes() throws {
        let request = STUNBindingRequest(
            transactionID: RFC5769.transactionID, username: "remote:local", priority: 1_853_824_767,
            role: .controlling(tieBreaker: 42), useCandidate: true, integrityKey: key
        )
        var buffer = ByteBuffer()
        let written = request.write(to: &buffer)
        #expect(written == buffer.readableBytes)
        let message = try STUNMessage(bytes: buffer)
        #expect(message.type == .bindingRequest)
        #expect(message.username == "remote:local")
        #expect(message.priority == 1_853_824_767)
        #expect(message.iceControlling == 42)
        #expect(message.useCandidate)
        #expect(message.verifyMessageIntegrity(key: key))
        #expect(message.hasValidFingerprint)
    }

    @Test func transactionIDBytesRoundTrip() {
        var generator = SplitMix64(seed: 7)
        let id = STUNTransactionID.random(using: &generator)
        #expect(STUNTransactionID(bytes: id.bytes) == id)
        #expect(STUNTransactionID(bytes: [1, 2, 3]) == nil)
        #expect(RFC5769.transactionID.description == "b7e7a701bc34d686fa87dfae")
    }
}
