import Testing

@testable import CCP

/// Runs a Swift initiator against a Swift responder.
struct HandshakePair {
    var initiator: NoiseHandshakeState
    var responder: NoiseHandshakeState
    let initiatorStatic = NoiseKeyPair.generate()
    let responderStatic = NoiseKeyPair.generate()

    init(
        pattern: NoisePattern,
        initiatorPrologue: [UInt8] = Array("commucat".utf8),
        responderPrologue: [UInt8] = Array("commucat".utf8),
        believedResponderKey: [UInt8]? = nil
    ) throws {
        self.initiator = try NoiseHandshakeState(
            configuration: NoiseHandshakeConfiguration(
                pattern: pattern,
                role: .initiator,
                prologue: initiatorPrologue,
                localStatic: self.initiatorStatic,
                remoteStatic: believedResponderKey ?? self.responderStatic.publicKey
            )
        )
        self.responder = try NoiseHandshakeState(
            configuration: NoiseHandshakeConfiguration(
                pattern: pattern,
                role: .responder,
                prologue: responderPrologue,
                localStatic: self.responderStatic
            )
        )
    }
}

extension NoiseHandshakeAction {
    var message: [UInt8]? {
        switch self {
        case .sendMessage(let message), .sendMessageAndComplete(let message, _): message
        default: nil
        }
    }

    var payload: [UInt8]? {
        switch self {
        case .receivedPayload(let payload), .receivedPayloadAndComplete(let payload, _): payload
        default: nil
        }
    }

    var result: NoiseHandshakeResult? {
        switch self {
        case .sendMessageAndComplete(_, let result), .receivedPayloadAndComplete(_, let result): result
        default: nil
        }
    }
}

@Suite struct NoiseHandshakeStateTests {
    @Test(arguments: NoisePattern.allCases)
    func swiftInitiatorAndResponderAgree(pattern: NoisePattern) throws {
        var pair = try HandshakePair(pattern: pattern)
        var initiatorResult: NoiseHandshakeResult?
        var responderResult: NoiseHandshakeResult?
        var sizes: [Int] = []
        for index in 0..<pattern.messagePatterns.count {
            let payload = Array("payload-\(index)".utf8)
            let initiatorSends = index % 2 == 0
            #expect(pair.initiator.expectation == (initiatorSends ? .writeMessage : .readMessage))
            #expect(pair.responder.expectation == (initiatorSends ? .readMessage : .writeMessage))
            let written = initiatorSends ? try pair.initiator.writeMessage(payload: payload) : try pair.responder.writeMessage(payload: payload)
            let message = try #require(written.message)
            sizes.append(message.count - payload.count)
            let read = initiatorSends ? try pair.responder.readMessage(message) : try pair.initiator.readMessage(message)
            #expect(read.payload == payload)
            if let result = written.result { initiatorSends ? (initiatorResult = result) : (responderResult = result) }
            if let result = read.result { initiatorSends ? (responderResult = result) : (initiatorResult = result) }
        }
        // Overhead per message: XK 32+16 | 32+16 | 48+16; IK 32+48+16 | 32+16 (Noise §7.5 tokens).
        #expect(sizes == (pattern == .xk ? [48, 48, 64] : [96, 48]))
        var initiatorTransport = try #require(initiatorResult?.transport)
        var responderTransport = try #require(responderResult?.transport)
        #expect(initiatorResult?.handshakeHash == responderResult?.handshakeHash)
        #expect(initiatorResult?.remoteStatic == pair.responderStatic.publicKey)
        #expect(responderResult?.remoteStatic == pair.initiatorStatic.publicKey)
        #expect(pair.initiator.expectation == .completed && pair.responder.expectation == .completed)
        for round in 0..<5 {
            let up = Array("up \(round)".utf8)
            #expect(try responderTransport.decrypt(try initiatorTransport.encrypt(up)) == up)
            let down = Array("down \(round)".utf8)
            #expect(try initiatorTransport.decrypt(try responderTransport.encrypt(down)) == down)
        }
        initiatorTransport.rekeySending()
        responderTransport.rekeyReceiving()
        #expect(try responderTransport.decrypt(try initiatorTransport.encrypt([1])) == [1])
        // Only one side rekeyed: the other direction no longer authenticates.
        responderTransport.rekeySending()
        expectCCPError(.noiseDecryptFailed) { () throws(CCPError) in try initiatorTransport.decrypt(try responderTransport.encrypt([2])) }
    }

    @Test(arguments: NoisePattern.allCases)
    func callsOutOfTurnAreRefused(pattern: NoisePattern) throws {
        var pair = try HandshakePair(pattern: pattern)
        expectCCPError(.noiseUnexpectedCall) { () throws(CCPError) in try pair.responder.writeMessage() }
        expectCCPError(.noiseUnexpectedCall) { () throws(CCPError) in try pair.initiator.readMessage([]) }
        // The refused calls did not disturb either machine.
        let first = try #require(try pair.initiator.writeMessage().message)
        _ = try pair.responder.readMessage(first)
    }

    @Test func callsAfterCompletionAreRefused() throws {
        var pair = try HandshakePair(pattern: .ik)
        let first = try #require(try pair.initiator.writeMessage().message)
        _ = try pair.responder.readMessage(first)
        let second = try #require(try pair.responder.writeMessage().message)
        #expect(try pair.initiator.readMessage(second).result != nil)
        expectCCPError(.noiseUnexpectedCall) { () throws(CCPError) in try pair.initiator.writeMessage() }
        expectCCPError(.noiseUnexpectedCall) { () throws(CCPError) in try pair.responder.readMessage(second) }
    }

    @Test func initiatorNeedsAValidResponderKey() {
        let local = NoiseKeyPair.generate()
        expectCCPError(.noiseMissingKey) { () throws(CCPError) in
            try NoiseHandshakeState(configuration: .init(pattern: .xk, role: .initiator, prologue: [], localStatic: local))
        }
        expectCCPError(.noiseInvalidKey) { () throws(CCPError) in
            try NoiseHandshakeState(configuration: .init(pattern: .ik, role: .initiator, prologue: [], localStatic: local, remoteStatic: [1]))
        }
    }

    @Test(arguments: NoisePattern.allCases)
    func tamperedMessageFailsAndTheHandshakeStaysFailed(pattern: NoisePattern) throws {
        var pair = try HandshakePair(pattern: pattern)
        var first = try #require(try pair.initiator.writeMessage(payload: [1, 2, 3]).message)
        first[first.count - 1] ^= 0x80
        expectCCPError(.noiseDecryptFailed) { () throws(CCPError) in try pair.responder.readMessage(first) }
        #expect(pair.responder.expectation == .failed)
        first[first.count - 1] ^= 0x80
        expectCCPError(.noiseDecryptFailed) { () throws(CCPError) in try pair.responder.readMessage(first) }
    }

    @Test(arguments: NoisePattern.allCases)
    func prologueMismatchFailsTheFirstMessage(pattern: NoisePattern) throws {
        var pair = try HandshakePair(pattern: pattern, responderPrologue: Array("other".utf8))
        let first = try #require(try pair.initiator.writeMessage().message)
        expectCCPError(.noiseDecryptFailed) { () throws(CCPError) in try pair.responder.readMessage(first) }
    }

    @Test(arguments: NoisePattern.allCases)
    func wrongResponderKeyFailsTheFirstMessage(pattern: NoisePattern) throws {
        var pair = try HandshakePair(pattern: pattern, believedResponderKey: NoiseKeyPair.generate().publicKey)
        let first = try #require(try pair.initiator.writeMessage().message)
        expectCCPError(.noiseDecryptFailed) { () throws(CCPError) in try pair.responder.readMessage(first) }
    }

    @Test(arguments: NoisePattern.allCases)
    func shortMessagesAreRejected(pattern: NoisePattern) throws {
        for length in [0, 31, 32, 47] {
            var pair = try HandshakePair(pattern: pattern)
            let code: CCPError.Code = .noiseMessageTooShort
            expectCCPError(code) { () throws(CCPError) in try pair.responder.readMessage([UInt8](repeating: 9, count: length)) }
        }
    }

    @Test func handshakeMessagesAreCappedAt65535Bytes() throws {
        var pair = try HandshakePair(pattern: .xk)
        // XK message 1 is 48 bytes + payload.
        expectCCPError(.noiseMessageTooLarge) { () throws(CCPError) in
            try pair.initiator.writeMessage(payload: [UInt8](repeating: 0, count: 65535 - 48 + 1))
        }
        #expect(pair.initiator.expectation == .writeMessage)
        let largest = try #require(try pair.initiator.writeMessage(payload: [UInt8](repeating: 0, count: 65535 - 48)).message)
        #expect(largest.count == 65535)
        #expect(try pair.responder.readMessage(largest).payload?.count == 65535 - 48)
        var other = try HandshakePair(pattern: .xk)
        expectCCPError(.noiseMessageTooLarge) { () throws(CCPError) in try other.responder.readMessage([UInt8](repeating: 0, count: 65536)) }
    }

    @Test func lowOrderEphemeralKeyIsRejected() throws {
        var pair = try HandshakePair(pattern: .xk)
        // An all-zero X25519 public key gives an all-zero shared secret (RFC 7748 §6.1).
        let message = [UInt8](repeating: 0, count: 48)
        expectCCPError(.noiseInvalidKey) { () throws(CCPError) in try pair.responder.readMessage(message) }
    }

    @Test func protocolNamesAreNoiseNames() {
        #expect(NoisePattern.xk.protocolName == "Noise_XK_25519_ChaChaPoly_BLAKE2s")
        #expect(NoisePattern.ik.protocolName == "Noise_IK_25519_ChaChaPoly_BLAKE2s")
        #expect(NoisePattern(protocolName: "Noise_XX_25519_ChaChaPoly_BLAKE2s") == nil)
    }
}
