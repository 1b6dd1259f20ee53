/// What the caller must do after a ``NoiseHandshakeState`` step.
public enum NoiseHandshakeAction: Sendable {
    /// Send this handshake message to the peer, then wait for its reply (``NoiseHandshakeState/readMessage(_:)``).
    case sendMessage([UInt8])
    /// Send this last handshake message; the handshake is complete.
    case sendMessageAndComplete([UInt8], NoiseHandshakeResult)
    /// The peer's message authenticated and carried this payload; write the next message.
    case receivedPayload([UInt8])
    /// The peer's last handshake message authenticated and carried this payload; the handshake is complete.
    case receivedPayloadAndComplete([UInt8], NoiseHandshakeResult)
}

/// The outcome of a completed handshake.
public struct NoiseHandshakeResult: Sendable {
    /// The two transport cipher states, oriented for this party.
    public var transport: NoiseTransport
    /// GetHandshakeHash() (Noise §5.3), for channel binding.
    public var handshakeHash: [UInt8]
    /// The peer's static public key (learned from the handshake by the responder).
    public var remoteStatic: [UInt8]
}

/// A Noise HandshakeState (Noise §5.3) for ``NoisePattern/xk`` and ``NoisePattern/ik`` as a state
/// machine in the shape of postgres-nio's `ConnectionStateMachine`: an enum carrying each state's
/// data; each event returns the action the caller performs.
///
/// Every handshake message, in or out, is at most 65535 bytes (Noise §3). Any failure while
/// processing a message moves the machine to a failed state (Noise §5.3: the handshake is
/// aborted); a refused write of an oversized payload leaves it unchanged.
public struct NoiseHandshakeState: Sendable {
    /// The largest handshake message (Noise §3).
    public static let maxMessageLength = 65535

    /// What the machine expects next.
    public enum Expectation: Hashable, Sendable {
        case writeMessage
        case readMessage
        case completed
        case failed
    }

    private enum State: Sendable {
        case inProgress(HandshakeData)
        case completed
        case failed(CCPError)
    }

    private var state: State

    /// Initialize(…) (Noise §5.3): protocol name, prologue, then the `<- s` pre-message.
    public init(configuration: NoiseHandshakeConfiguration) throws(CCPError) {
        var symmetric = NoiseSymmetricState(protocolName: configuration.pattern.protocolName)
        symmetric.mixHash(configuration.prologue)
        var remoteStatic: [UInt8]?
        switch configuration.role {
        case .initiator:
            guard let responderStatic = configuration.remoteStatic else {
                throw CCPError(.noiseMissingKey, detail: "\(configuration.pattern.rawValue) initiator needs the responder static key")
            }
            guard responderStatic.count == NoiseKeyPair.keyLength else {
                throw CCPError(.noiseInvalidKey, detail: "remote static key of \(responderStatic.count) bytes")
            }
            symmetric.mixHash(responderStatic)
            remoteStatic = responderStatic
        case .responder:
            symmetric.mixHash(configuration.localStatic.publicKey)
        }
        self.state = .inProgress(
            HandshakeData(
                configuration: configuration,
                symmetric: symmetric,
                remoteStatic: remoteStatic,
                ephemeral: nil,
                remoteEphemeral: nil,
                messageIndex: 0
            )
        )
    }

    public var expectation: Expectation {
        switch self.state {
        case .inProgress(let data): data.isOurTurnToWrite ? .writeMessage : .readMessage
        case .completed: .completed
        case .failed: .failed
        }
    }

    /// The handshake hash so far (Noise §5.3 GetHandshakeHash), `nil` once completed or failed.
    public var handshakeHash: [UInt8]? {
        if case .inProgress(let data) = self.state { data.symmetric.handshakeHash } else { nil }
    }

    /// WriteMessage(payload, message_buffer) (Noise §5.3).
    public mutating func writeMessage(payload: [UInt8] = []) throws(CCPError) -> NoiseHandshakeAction {
        var data = try self.dataForStep(write: true)
        let message: [UInt8]
        do throws(CCPError) {
            message = try data.writeTokens(payload: payload)
        } catch {
            self.state = .failed(error)
            throw error
        }
        guard message.count <= Self.maxMessageLength else {
            // Nothing was sent: keep the pre-write state so the caller can retry with less.
            throw CCPError(.noiseMessageTooLarge, detail: "handshake message of \(message.count) bytes")
        }
        data.messageIndex += 1
        guard data.isFinished else {
            self.state = .inProgress(data)
            return .sendMessage(message)
        }
        let result = try self.complete(data)
        return .sendMessageAndComplete(message, result)
    }

    /// ReadMessage(message, payload_buffer) (Noise §5.3).
    public mutating func readMessage(_ message: [UInt8]) throws(CCPError) -> NoiseHandshakeAction {
        var data = try self.dataForStep(write: false)
        let payload: [UInt8]
        do throws(CCPError) {
            guard message.count <= Self.maxMessageLength else {
                throw CCPError(.noiseMessageTooLarge, detail: "handshake message of \(message.count) bytes")
            }
            payload = try data.readTokens(message: message)
        } catch {
            self.state = .failed(error)
            throw error
        }
        data.messageIndex += 1
        guard data.isFinished else {
            self.state = .inProgress(data)
            return .receivedPayload(payload)
        }
        let result = try self.complete(data)
        return .receivedPayloadAndComplete(payload, result)
    }

    private mutating func dataForStep(write: Bool) throws(CCPError) -> HandshakeData {
        switch self.state {
        case .inProgress(let data):
            guard data.isOurTurnToWrite == write else {
                throw CCPError(.noiseUnexpectedCall, detail: write ? "a read is due" : "a write is due")
            }
            return data
        case .completed:
            throw CCPError(.noiseUnexpectedCall, detail: "handshake already complete")
        case .failed(let error):
            throw error
        }
    }

    private mutating func complete(_ data: HandshakeData) throws(CCPError) -> NoiseHandshakeResult {
        do throws(CCPError) {
            let (initiatorToResponder, responderToInitiator) = try data.symmetric.split()
            guard let remoteStatic = data.remoteStatic else {
                throw CCPError(.noiseMissingKey, detail: "no remote static key after the handshake")
            }
            let transport: NoiseTransport
            switch data.configuration.role {
            case .initiator:
                transport = NoiseTransport(sendCipher: initiatorToResponder, receiveCipher: responderToInitiator)
            case .responder:
                transport = NoiseTransport(sendCipher: responderToInitiator, receiveCipher: initiatorToResponder)
            }
            self.state = .completed
            return NoiseHandshakeResult(
                transport: transport,
                handshakeHash: data.symmetric.handshakeHash,
                remoteStatic: remoteStatic
            )
        } catch {
            self.state = .failed(error)
            throw error
        }
    }
}

/// The data of an in-progress handshake (Noise §5.3 variables s, e, rs, re plus the SymmetricState).
private struct HandshakeData: Sendable {
    let configuration: NoiseHandshakeConfiguration
    var symmetric: NoiseSymmetricState
    var remoteStatic: [UInt8]?
    var ephemeral: NoiseKeyPair?
    var remoteEphemeral: [UInt8]?
    var messageIndex: Int

    var patterns: [[NoisePattern.Token]] { self.configuration.pattern.messagePatterns }
    var isFinished: Bool { self.messageIndex >= self.patterns.count }
    var isOurTurnToWrite: Bool { (self.messageIndex % 2 == 0) == (self.configuration.role == .initiator) }

    mutating func writeTokens(payload: [UInt8]) throws(CCPError) -> [UInt8] {
        var message: [UInt8] = []
        for token in self.patterns[self.messageIndex] {
            switch token {
            case .e:
                let ephemeral = self.configuration.localEphemeral ?? NoiseKeyPair.generate()
                self.ephemeral = ephemeral
                message += ephemeral.publicKey
                self.symmetric.mixHash(ephemeral.publicKey)
            case .s:
                message += try self.symmetric.encryptAndHash(self.configuration.localStatic.publicKey)
            case .ee, .es, .se, .ss:
                try self.symmetric.mixKey(self.diffieHellman(token))
            }
        }
        message += try self.symmetric.encryptAndHash(payload)
        return message
    }

    mutating func readTokens(message: [UInt8]) throws(CCPError) -> [UInt8] {
        var offset = 0
        func take(_ count: Int) throws(CCPError) -> [UInt8] {
            guard message.count - offset >= count else {
                throw CCPError(.noiseMessageTooShort, detail: "handshake message of \(message.count) bytes")
            }
            defer { offset += count }
            return Array(message[offset..<(offset + count)])
        }
        for token in self.patterns[self.messageIndex] {
            switch token {
            case .e:
                let remoteEphemeral = try take(NoiseKeyPair.keyLength)
                self.remoteEphemeral = remoteEphemeral
                self.symmetric.mixHash(remoteEphemeral)
            case .s:
                let length = NoiseKeyPair.keyLength + (self.symmetric.cipherState.hasKey ? NoiseCipherState.tagLength : 0)
                self.remoteStatic = try self.symmetric.decryptAndHash(try take(length))
            case .ee, .es, .se, .ss:
                try self.symmetric.mixKey(self.diffieHellman(token))
            }
        }
        return try self.symmetric.decryptAndHash(Array(message[offset...]))
    }

    /// The DH a token names (Noise §5.3): the first letter is the initiator's key, the second the
    /// responder's; each side uses its private half and the peer's public half.
    func diffieHellman(_ token: NoisePattern.Token) throws(CCPError) -> [UInt8] {
        let isInitiator = self.configuration.role == .initiator
        let useEphemeralLocally: Bool
        let useEphemeralRemotely: Bool
        switch token {
        case .ee: (useEphemeralLocally, useEphemeralRemotely) = (true, true)
        case .ss: (useEphemeralLocally, useEphemeralRemotely) = (false, false)
        case .es: (useEphemeralLocally, useEphemeralRemotely) = (isInitiator, !isInitiator)
        case .se: (useEphemeralLocally, useEphemeralRemotely) = (!isInitiator, isInitiator)
        case .e, .s: throw CCPError(.noiseUnexpectedCall, detail: "not a DH token")
        }
        let local = useEphemeralLocally ? self.ephemeral : self.configuration.localStatic
        let remote = useEphemeralRemotely ? self.remoteEphemeral : self.remoteStatic
        guard let local, let remote else {
            throw CCPError(.noiseMissingKey, detail: "DH before its keys are known")
        }
        return try local.diffieHellman(remote)
    }
}
