import CCP
import ConnectCore
import Crypto
import Foundation
import NIOCore

/// A client-side failure: the server's `Error` frame, a protocol violation, or a local problem.
public struct CCPClientError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The taxonomy code (from the server's `Error` frame) or a local code (`decode`, `noise`, `closed`).
    public var code: String
    public var detail: String
    public init(code: String, detail: String) {
        self.code = code
        self.detail = detail
    }
    public var description: String { "\(code): \(detail)" }
}

/// The initiator side of a CCP-1 stream (SPEC §4.2) over any byte transport: feed it received
/// bytes, send what it returns. Pure; the transports (WebSocket here, HTTP/2 in tests) move bytes.
public struct CCPClientConnection: Sendable {
    public struct Options: Sendable {
        public var pattern: NoisePattern
        public var domain: String
        public var prologue: String
        public var serverStatic: [UInt8]
        public var user: HandshakeMessages.Hello.User?
        /// Sends the stored certificate in Hello when the identity has one.
        public var presentCertificate: Bool
        public var supportedVersions: [Int]

        public init(
            pattern: NoisePattern = .xk, domain: String, prologue: String = "commucat", serverStatic: [UInt8],
            user: HandshakeMessages.Hello.User? = nil, presentCertificate: Bool = true, supportedVersions: [Int] = [1]
        ) {
            self.pattern = pattern
            self.domain = domain
            self.prologue = prologue
            self.serverStatic = serverStatic
            self.user = user
            self.presentCertificate = presentCertificate
            self.supportedVersions = supportedVersions
        }
    }

    /// What one ``receive(_:)`` produced.
    public struct Events: Sendable {
        /// Bytes to send to the server now.
        public var outgoing = ByteBuffer()
        /// The Ack, once, when the handshake completed.
        public var ack: HandshakeMessages.Ack?
        /// Frames received after the Ack (decrypted) in order.
        public var frames: [CCPFrame] = []
    }

    private enum State: Sendable {
        case idle
        case awaitingAuth(NoiseHandshakeState)
        case awaitingAck(NoiseTransport)
        case established(NoiseTransport)
        case failed
    }

    public let identity: DeviceIdentity
    public let options: Options
    /// Tests only: sign the confirmation with this key instead of the device key (an impostor).
    var confirmationSigner: Curve25519.Signing.PrivateKey?
    private var state: State = .idle
    private var buffer = ByteBuffer()
    private var plaintext = ByteBuffer()
    private var decoder = CCPFrameDecoder()
    private var units = CCPSecureUnits.Decoder()
    private var sequence: UInt32 = 0
    /// The Ack, after the handshake.
    public private(set) var ack: HandshakeMessages.Ack?

    public init(identity: DeviceIdentity, options: Options) {
        self.identity = identity
        self.options = options
    }

    public var isEstablished: Bool {
        if case .established = state { true } else { false }
    }

    /// The Hello frame's bytes (Noise message 1 and the device proof).
    public mutating func start() throws -> ByteBuffer {
        let noiseKey = try identity.noiseKey()
        let deviceKey = try identity.deviceKey()
        var noise = try NoiseHandshakeState(
            configuration: .init(
                pattern: options.pattern, role: .initiator, prologue: Array(options.prologue.utf8), localStatic: noiseKey,
                remoteStatic: options.serverStatic))
        guard case .sendMessage(let message) = try noise.writeMessage() else { throw CCPClientError(code: "noise", detail: "unexpected first message") }
        let proof = try DeviceProof.sign(
            deviceKey: deviceKey, domain: options.domain, deviceID: identity.deviceID, clientStatic: noiseKey.publicKey, handshake: message)
        let hello = HandshakeMessages.Hello(
            pattern: options.pattern.rawValue, supportedVersions: options.supportedVersions, deviceID: identity.deviceID,
            handshake: Hex.encode(message), clientStatic: Hex.encode(noiseKey.publicKey), devicePublic: Hex.encode(deviceKey.publicKey.rawRepresentation),
            deviceProof: Hex.encode(proof), user: options.user, certificate: options.presentCertificate ? identity.certificate : nil)
        state = .awaitingAuth(noise)
        return Self.encode([HandshakeMessages.frame(.hello, sequence: nextSequence(), hello)])
    }

    /// Feeds received bytes. Throws the server's `Error` (code and detail) or a local failure.
    public mutating func receive(_ bytes: ByteBuffer) throws(CCPClientError) -> Events {
        var bytes = bytes
        buffer.writeBuffer(&bytes)
        var events = Events()
        while true {
            switch state {
            case .established(var transport):
                try openUnits(&transport)
                state = .established(transport)
                while let frame = try nextFrame(fromPlaintext: true) {
                    events.frames.append(frame)
                    if frame.type == .error, frame.channelID == 0,
                        let payload = try? HandshakeMessages.decode(HandshakeMessages.ErrorPayload.self, from: frame), payload.error != "unsupported"
                    {
                        return events
                    }
                }
                return events
            case .awaitingAck(var transport):
                // Revision 2: the Ack is the server's first encrypted frame. A refusal of message 3
                // comes before the server could encrypt, as a plaintext Error frame.
                do {
                    try openUnits(&transport)
                } catch {
                    if let refusal = plaintextError() { throw refusal }
                    throw error
                }
                state = .awaitingAck(transport)
                guard let frame = try nextFrame(fromPlaintext: true) else { return events }
                if frame.type == .error { throw serverError(frame) }
                guard frame.type == .ack else { throw fail("expected Ack, got \(frame.type)") }
                let ack = try decodeJSON(HandshakeMessages.Ack.self, frame)
                self.ack = ack
                events.ack = ack
                state = .established(transport)
            default:
                guard let frame = try nextFrame(fromPlaintext: false) else { return events }
                if frame.type == .error { throw serverError(frame) }
                try handshakeStep(frame, events: &events)
            }
        }
    }

    /// Opens every complete unit in `buffer` into `plaintext`.
    private mutating func openUnits(_ transport: inout NoiseTransport) throws(CCPClientError) {
        do {
            while let chunk = try units.open(buffer: &buffer, transport: &transport) {
                var chunk = chunk
                plaintext.writeBuffer(&chunk)
            }
        } catch {
            state = .failed
            throw CCPClientError(code: "noise", detail: error.code.rawValue)
        }
    }

    /// A plaintext `Error` frame at the front of `buffer`, as the server's refusal.
    private mutating func plaintextError() -> CCPClientError? {
        var copy = buffer
        var decoder = CCPFrameDecoder()
        guard case .frame(let frame)? = try? decoder.decode(buffer: &copy), frame.type == .error else { return nil }
        return serverError(frame)
    }

    private mutating func serverError(_ frame: CCPFrame) -> CCPClientError {
        state = .failed
        let payload = try? HandshakeMessages.decode(HandshakeMessages.ErrorPayload.self, from: frame)
        return CCPClientError(code: payload?.error ?? "decode", detail: payload?.detail ?? "")
    }

    private mutating func handshakeStep(_ frame: CCPFrame, events: inout Events) throws(CCPClientError) {
        guard case .awaitingAuth(var noise) = state else { throw fail("unexpected frame \(frame.type)") }
        guard frame.type == .auth else { throw fail("expected Auth, got \(frame.type)") }
        let auth = try decodeJSON(HandshakeMessages.ServerAuth.self, frame)
        guard let message = Hex.decode(auth.handshake) else { throw fail("Auth handshake is not hex") }
        let result: NoiseHandshakeResult
        do {
            switch try noise.readMessage(message) {
            case .receivedPayloadAndComplete(_, let complete):
                result = complete
            case .receivedPayload:
                guard case .sendMessageAndComplete(let third, let complete) = try noise.writeMessage() else { throw fail("XK did not complete") }
                events.outgoing.writeImmutableBuffer(
                    Self.encode([HandshakeMessages.frame(.auth, sequence: nextSequence(), HandshakeMessages.ClientAuth(handshake: Hex.encode(third)))]))
                result = complete
            default:
                throw fail("unexpected Noise action")
            }
        } catch let error as CCPError {
            state = .failed
            throw CCPClientError(code: "noise", detail: error.code.rawValue)
        } catch let error as CCPClientError {
            throw error
        } catch {
            throw fail("\(error)")
        }
        // Key confirmation (revision 2): the first encrypted unit proves, over this connection's
        // handshake hash, that this device's key holder is here now.
        var transport = result.transport
        do {
            let proof = try DeviceProof.signConfirmation(
                deviceKey: try confirmationSigner ?? identity.deviceKey(), domain: options.domain, deviceID: identity.deviceID, handshakeHash: result.handshakeHash)
            let confirm = HandshakeMessages.frame(.auth, sequence: nextSequence(), HandshakeMessages.Confirm(deviceProof: Hex.encode(proof)))
            try CCPSecureUnits.seal(Self.encode([confirm]), transport: &transport, into: &events.outgoing)
        } catch {
            throw fail("cannot confirm the handshake: \(error)")
        }
        state = .awaitingAck(transport)
    }

    /// Encrypts frames into units to send.
    public mutating func seal(_ frames: [CCPFrame]) throws(CCPClientError) -> ByteBuffer {
        guard case .established(var transport) = state else { throw CCPClientError(code: "closed", detail: "not established") }
        var out = ByteBuffer()
        do {
            try CCPSecureUnits.seal(Self.encode(frames), transport: &transport, into: &out)
        } catch {
            throw CCPClientError(code: "noise", detail: error.code.rawValue)
        }
        state = .established(transport)
        return out
    }

    /// The next outgoing sequence number.
    public mutating func nextSequence() -> UInt32 {
        sequence &+= 1
        return sequence
    }

    /// The next frame of the decrypted stream (after the Ack) or of the plaintext handshake bytes.
    private mutating func nextFrame(fromPlaintext: Bool) throws(CCPClientError) -> CCPFrame? {
        do {
            let result = fromPlaintext ? try decoder.decode(buffer: &plaintext) : try decoder.decode(buffer: &buffer)
            guard case .frame(let frame) = result else { return nil }
            return frame
        } catch {
            state = .failed
            throw CCPClientError(code: "decode", detail: error.code.rawValue)
        }
    }

    private mutating func fail(_ detail: String) -> CCPClientError {
        state = .failed
        return CCPClientError(code: "decode", detail: detail)
    }

    private func decodeJSON<T: Decodable>(_ type: T.Type, _ frame: CCPFrame) throws(CCPClientError) -> T {
        do {
            return try HandshakeMessages.decode(type, from: frame)
        } catch {
            throw CCPClientError(code: "decode", detail: error.detail)
        }
    }

    static func encode(_ frames: [CCPFrame]) -> ByteBuffer { ConnectHandshake.encode(frames) }
}
