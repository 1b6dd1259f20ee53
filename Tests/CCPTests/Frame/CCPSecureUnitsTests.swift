import NIOCore
import Testing

@testable import CCP

@Suite struct CCPSecureUnitsTests {
    func transports() throws -> (NoiseTransport, NoiseTransport) {
        let a = [UInt8](repeating: 1, count: 32)
        let b = [UInt8](repeating: 2, count: 32)
        return (
            NoiseTransport(sendCipher: try NoiseCipherState(key: a), receiveCipher: try NoiseCipherState(key: b)),
            NoiseTransport(sendCipher: try NoiseCipherState(key: b), receiveCipher: try NoiseCipherState(key: a))
        )
    }

    @Test func framesSpanningUnitsDecodeAfterOpening() throws {
        var (client, server) = try transports()
        // 3 frames, the middle one 100 000 bytes: the plaintext needs 2 units.
        let frames = [
            CCPFrame(type: .ack, channelID: 0, sequence: 2, json: #"{"ack":1}"#),
            CCPFrame(type: .msg, channelID: 5, sequence: 3, payload: ByteBuffer(repeating: 0x33, count: 100_000)),
            CCPFrame(type: .keepalive, channelID: 0, sequence: 4, json: #"{"nonce":"x"}"#),
        ]
        var plaintext = ByteBuffer()
        for frame in frames { frame.write(to: &plaintext) }
        var wire = ByteBuffer()
        try CCPSecureUnits.seal(plaintext, transport: &client, into: &wire)

        // Every written unit is at most 65535 bytes including its prefix.
        var scan = wire
        var unitCount = 0
        while scan.readableBytes > 0 {
            guard case .value(let length, let prefix) = try CCPVarint.peek(in: scan, at: scan.readerIndex, limit: scan.writerIndex) else { break }
            #expect(prefix + Int(length) <= 65535)
            scan.moveReaderIndex(forwardBy: prefix + Int(length))
            unitCount += 1
        }
        #expect(unitCount == 2)

        // Deliver the wire bytes in awkward slices; reassemble plaintext; decode frames.
        var unitDecoder = CCPSecureUnits.Decoder()
        var frameDecoder = CCPFrameDecoder()
        var received = ByteBuffer()
        var plain = ByteBuffer()
        var decoded: [CCPFrame] = []
        while wire.readableBytes > 0 {
            guard var slice = wire.readSlice(length: min(wire.readableBytes, 7_777)) else { break }
            received.writeBuffer(&slice)
            while var opened = try unitDecoder.open(buffer: &received, transport: &server) {
                plain.writeBuffer(&opened)
            }
            while case .frame(let frame) = try frameDecoder.decode(buffer: &plain) {
                decoded.append(frame)
            }
        }
        #expect(decoded == frames)
        #expect(received.readableBytes == 0 && plain.readableBytes == 0)
    }

    @Test func oversizedUnitLengthFailsFromItsPrefix() throws {
        var (_, server) = try transports()
        var buffer = ByteBuffer()
        CCPVarint.write(65536, to: &buffer)
        var decoder = CCPSecureUnits.Decoder()
        expectCCPError(.noiseMessageTooLarge) { () throws(CCPError) in try decoder.open(buffer: &buffer, transport: &server) }
    }

    @Test func tamperedUnitFailsAndConsumesNothing() throws {
        var (client, server) = try transports()
        var wire = ByteBuffer()
        try CCPSecureUnits.seal(ByteBuffer(bytes: [1, 2, 3]), transport: &client, into: &wire)
        let last = wire.writerIndex - 1
        wire.setInteger((wire.getInteger(at: last, as: UInt8.self) ?? 0) ^ 1, at: last)
        var decoder = CCPSecureUnits.Decoder()
        expectCCPError(.noiseDecryptFailed) { () throws(CCPError) in try decoder.open(buffer: &wire, transport: &server) }
        #expect(wire.readerIndex == 0)
    }

    @Test func emptyPlaintextWritesNothing() throws {
        var (client, _) = try transports()
        var wire = ByteBuffer()
        try CCPSecureUnits.seal(ByteBuffer(), transport: &client, into: &wire)
        #expect(wire.readableBytes == 0)
    }
}
