import CCP
import Foundation
import NIOCore

/// A Hello that parsed, named a supported version and pattern, carried a valid device proof and a
/// Noise message 1 that one of the server's keys could read. What remains is the storage side.
public struct HelloRequest: Sendable, Hashable {
    public var pattern: NoisePattern
    public var deviceID: String
    public var devicePublic: [UInt8]
    public var clientStatic: [UInt8]
    public var user: HandshakeMessages.Hello.User?
    public var certificate: [UInt8]?
    public var noiseKeyVersion: Int64
}

/// What the storage side decided about the device (``ConnectAuthorizer``). `sessionID` is empty
/// until the session is opened, after the client confirmed the handshake.
public struct AuthorizedDevice: Sendable, Hashable {
    public var sessionID: String
    public var deviceID: String
    public var userID: String
    public var handle: String
    public var displayName: String?
    public var certificate: [UInt8]
    public var registered: Bool

    public init(
        sessionID: String = "", deviceID: String, userID: String, handle: String, displayName: String?, certificate: [UInt8], registered: Bool
    ) {
        self.sessionID = sessionID
        self.deviceID = deviceID
        self.userID = userID
        self.handle = handle
        self.displayName = displayName
        self.certificate = certificate
        self.registered = registered
    }
}

/// The established session: what the transport loop needs after the Ack.
public struct EstablishedHandshake: Sendable {
    public var transport: NoiseTransport
    public var device: AuthorizedDevice
    public var pattern: NoisePattern
    public var handshakeHash: [UInt8]
    /// Decrypted bytes that followed the confirmation frame in its units (frames the client sent
    /// before it read the Ack); the session decodes them first.
    public var pendingPlaintext: ByteBuffer
}

/// The server side of the `/connect` handshake, revision 2 (SPEC §4.2 with the changes of
/// docs/PROTOCOL.md §1.2), as a state machine in the shape of postgres-nio's
/// `ConnectionStateMachine`: each event returns the action the caller performs.
///
/// `Hello` → ``Action/authorize(_:)`` (storage: may this device connect?) → `Auth` (Noise message
/// 2) → [XK: client `Auth` with message 3] → the client's first encrypted unit, an `Auth` frame with
/// the confirmation proof over the handshake hash → ``Action/openSession(_:)`` (storage: open the
/// REST session) → the `Ack`, encrypted, carrying the session id.
///
/// Nothing is opened and nothing secret is sent before the client has proven, on this connection,
/// that it holds the Noise static key, the session keys and the device key: a replayed Hello (XK or
/// IK) never gets past ``State/awaitingConfirmation``.
public struct ConnectHandshake: Sendable {
    /// The handshake revision this machine speaks; a Hello must carry `handshake_revision: 2`.
    public static let revision = 2

    /// Frame limits before the session exists: a Hello with a certificate fits in a few KB, so a
    /// stranger cannot make the server buffer a 16 MiB frame (SPEC §4.1's limits apply after the Ack).
    public static let frameLimits = CCPFrameDecoder.Limits(maxBodyLength: 16 * 1024, maxPayloadLength: 16 * 1024, maxJSONPayloadLength: 16 * 1024)

    public struct Configuration: Sendable {
        public var domain: String
        public var prologue: [UInt8]
        public var supportedVersions: [Int]
        public var keepaliveInterval: Int
        public var deviceCAPublic: [UInt8]
        /// Usable server keys, newest first: (version, key pair).
        public var serverKeys: [(version: Int64, keyPair: NoiseKeyPair)]
        /// A fixed server ephemeral key pair, for tests and the fuzz entry point only (message 2, and
        /// so a recorded message 3, become reproducible); `nil`, as in the server, draws a fresh one.
        public var fixedEphemeral: NoiseKeyPair?

        public init(
            domain: String, prologue: [UInt8], supportedVersions: [Int] = [1], keepaliveInterval: Int, deviceCAPublic: [UInt8],
            serverKeys: [(version: Int64, keyPair: NoiseKeyPair)], fixedEphemeral: NoiseKeyPair? = nil
        ) {
            self.domain = domain
            self.prologue = prologue
            self.supportedVersions = supportedVersions
            self.keepaliveInterval = keepaliveInterval
            self.deviceCAPublic = deviceCAPublic
            self.serverKeys = serverKeys
            self.fixedEphemeral = fixedEphemeral
        }
    }

    public enum Action: Sendable {
        /// Authorize the device (storage, read-mostly: no session yet), then call
        /// ``ConnectHandshake/authorized(_:)`` or ``ConnectHandshake/authorizationFailed(_:)``.
        case authorize(HelloRequest)
        /// Send these plaintext frames and wait for the next client frame.
        case send([CCPFrame])
        /// The Noise handshake is complete: feed the client's next bytes to
        /// ``ConnectHandshake/receiveUnits(_:)`` (they are encrypted units from now on).
        case awaitConfirmation
        /// The client confirmed: open the session in storage, then call
        /// ``ConnectHandshake/sessionOpened(_:)`` (or ``ConnectHandshake/authorizationFailed(_:)``).
        case openSession(AuthorizedDevice)
        /// Send these encrypted units (the Ack); the session runs on `established`.
        case complete(ByteBuffer, EstablishedHandshake)
        /// Send this plaintext `Error` frame and close the stream.
        case fail(ConnectError, CCPFrame)
        /// Send these encrypted units (an `Error` frame) and close the stream.
        case failSealed(ConnectError, ByteBuffer)
    }

    private struct Confirming: Sendable {
        var request: HelloRequest
        var device: AuthorizedDevice
        var transport: NoiseTransport
        var handshakeHash: [UInt8]
        var units = CCPSecureUnits.Decoder()
        var decoder = CCPFrameDecoder(limits: ConnectHandshake.frameLimits)
        var plaintext = ByteBuffer()
    }

    private enum State: Sendable {
        case awaitingHello
        case authorizing(HelloRequest, NoiseHandshakeState)
        case awaitingClientAuth(HelloRequest, NoiseHandshakeState, AuthorizedDevice)
        case awaitingConfirmation(Confirming)
        case openingSession(Confirming)
        case established
        case failed
    }

    private var state: State = .awaitingHello
    private var sequence: UInt32 = 0
    public let configuration: Configuration

    public init(configuration: Configuration) {
        self.configuration = configuration
    }

    /// Whether the handshake ended (established or failed).
    public var isFinished: Bool {
        switch state {
        case .established, .failed: true
        default: false
        }
    }

    /// Whether the client's bytes are now encrypted units (for ``receiveUnits(_:)``).
    public var expectsUnits: Bool {
        if case .awaitingConfirmation = state { true } else { false }
    }

    /// A plaintext frame from the client.
    public mutating func receive(_ frame: CCPFrame) -> Action {
        switch state {
        case .awaitingHello:
            guard frame.type == .hello else { return fail(ConnectError(.decode, "expected Hello, got frame type \(frame.type.rawValue)")) }
            do throws(ConnectError) {
                let (request, noise) = try readHello(frame)
                state = .authorizing(request, noise)
                return .authorize(request)
            } catch {
                return fail(error)
            }
        case .awaitingClientAuth(let request, var noise, let device):
            guard frame.type == .auth else { return fail(ConnectError(.decode, "expected Auth, got frame type \(frame.type.rawValue)")) }
            do throws(ConnectError) {
                let auth = try HandshakeMessages.decode(HandshakeMessages.ClientAuth.self, from: frame)
                guard let message = Hex.decode(auth.handshake) else { throw ConnectError(.decode, "handshake is not hex") }
                let action: NoiseHandshakeAction
                do {
                    action = try noise.readMessage(message)
                } catch {
                    throw ConnectError(.noise, "message 3: \(error.code.rawValue)")
                }
                guard case .receivedPayloadAndComplete(_, let result) = action else { throw ConnectError(.noise, "handshake did not complete") }
                guard result.remoteStatic == request.clientStatic else { throw ConnectError(.noise, "client static key differs from client_static") }
                state = .awaitingConfirmation(
                    Confirming(request: request, device: device, transport: result.transport, handshakeHash: result.handshakeHash))
                return .awaitConfirmation
            } catch {
                return fail(error)
            }
        case .authorizing, .openingSession:
            return fail(ConnectError(.decode, "frame out of turn"))
        case .awaitingConfirmation:
            return fail(ConnectError(.decode, "expected an encrypted unit"))
        case .established, .failed:
            return fail(ConnectError(.decode, "unexpected plaintext frame"))
        }
    }

    /// The client's bytes while ``expectsUnits``: opens units and reads the confirmation frame.
    /// Returns nil while more bytes are needed; consumes only whole units from `buffer`.
    public mutating func receiveUnits(_ buffer: inout ByteBuffer) -> Action? {
        guard case .awaitingConfirmation(var confirming) = state else {
            return fail(ConnectError(.decode, "encrypted unit out of turn"))
        }
        let frame: CCPFrame
        do throws(CCPError) {
            while true {
                if case .frame(let decoded) = try confirming.decoder.decode(buffer: &confirming.plaintext) {
                    frame = decoded
                    break
                }
                guard var chunk = try confirming.units.open(buffer: &buffer, transport: &confirming.transport) else {
                    state = .awaitingConfirmation(confirming)
                    return nil
                }
                confirming.plaintext.writeBuffer(&chunk)
            }
        } catch {
            let code: ConnectError.Code = error.code.taxonomyCode == "noise" ? .noise : .decode
            return failSealed(ConnectError(code, "confirmation: \(error.code.rawValue)"), confirming)
        }
        guard frame.type == .auth, frame.channelID == 0 else {
            return failSealed(ConnectError(.decode, "expected the confirmation Auth, got frame type \(frame.type.rawValue)"), confirming)
        }
        let confirm: HandshakeMessages.Confirm
        do {
            confirm = try HandshakeMessages.decode(HandshakeMessages.Confirm.self, from: frame)
        } catch {
            return failSealed(error, confirming)
        }
        guard let proof = Hex.decode(confirm.deviceProof),
            DeviceProof.verifyConfirmation(
                signature: proof, devicePublic: confirming.request.devicePublic, domain: configuration.domain,
                deviceID: confirming.request.deviceID, handshakeHash: confirming.handshakeHash)
        else {
            return failSealed(ConnectError(.proof, "confirmation device_proof does not verify"), confirming)
        }
        state = .openingSession(confirming)
        return .openSession(confirming.device)
    }

    /// The device may connect: write Noise message 2.
    public mutating func authorized(_ device: AuthorizedDevice) -> Action {
        guard case .authorizing(let request, var noise) = state else { return fail(ConnectError(.internal, "authorized out of turn")) }
        let action: NoiseHandshakeAction
        do {
            action = try noise.writeMessage()
        } catch {
            return fail(ConnectError(.noise, "message 2: \(error.code.rawValue)"))
        }
        guard let key = configuration.serverKeys.first(where: { $0.version == request.noiseKeyVersion }) else {
            return fail(ConnectError(.internal, "server key vanished"))
        }
        func authFrame(_ message: [UInt8]) -> CCPFrame {
            let auth = HandshakeMessages.ServerAuth(
                session: nil, deviceID: device.deviceID, handshake: Hex.encode(message),
                serverStatic: Hex.encode(key.keyPair.publicKey), protocolVersion: 1, supportedVersions: configuration.supportedVersions)
            return HandshakeMessages.frame(.auth, sequence: nextSequence(), auth)
        }
        switch action {
        case .sendMessage(let message):
            state = .awaitingClientAuth(request, noise, device)
            return .send([authFrame(message)])
        case .sendMessageAndComplete(let message, let result):
            guard result.remoteStatic == request.clientStatic else { return fail(ConnectError(.noise, "client static key differs from client_static")) }
            state = .awaitingConfirmation(Confirming(request: request, device: device, transport: result.transport, handshakeHash: result.handshakeHash))
            return .send([authFrame(message)])
        case .receivedPayload, .receivedPayloadAndComplete:
            return fail(ConnectError(.noise, "unexpected handshake state"))
        }
    }

    /// Storage opened the session `sessionID`: seal the Ack.
    public mutating func sessionOpened(_ sessionID: String) -> Action {
        guard case .openingSession(var confirming) = state else { return fail(ConnectError(.internal, "session opened out of turn")) }
        confirming.device.sessionID = sessionID
        let ack = ackFrame(confirming.request, confirming.device)
        var out = ByteBuffer()
        do {
            try CCPSecureUnits.seal(Self.encode([ack]), transport: &confirming.transport, into: &out)
        } catch {
            return fail(ConnectError(.internal, "sealing the Ack: \(error.code.rawValue)"))
        }
        state = .established
        let established = EstablishedHandshake(
            transport: confirming.transport, device: confirming.device, pattern: confirming.request.pattern,
            handshakeHash: confirming.handshakeHash, pendingPlaintext: confirming.plaintext)
        return .complete(out, established)
    }

    /// Storage refused the device (or failed); also a deadline or a transport failure.
    public mutating func authorizationFailed(_ error: ConnectError) -> Action {
        switch state {
        case .awaitingConfirmation(let confirming), .openingSession(let confirming):
            return failSealed(error, confirming)
        default:
            return fail(error)
        }
    }

    private mutating func fail(_ error: ConnectError) -> Action {
        state = .failed
        return .fail(error, HandshakeMessages.errorFrame(error, sequence: nextSequence()))
    }

    /// After the Noise handshake the client reads units, so the Error travels sealed.
    private mutating func failSealed(_ error: ConnectError, _ confirming: Confirming) -> Action {
        state = .failed
        var transport = confirming.transport
        var out = ByteBuffer()
        let frame = HandshakeMessages.errorFrame(error, sequence: nextSequence())
        guard (try? CCPSecureUnits.seal(Self.encode([frame]), transport: &transport, into: &out)) != nil else { return .fail(error, frame) }
        return .failSealed(error, out)
    }

    private mutating func nextSequence() -> UInt32 {
        sequence &+= 1
        return sequence
    }

    private mutating func ackFrame(_ request: HelloRequest, _ device: AuthorizedDevice) -> CCPFrame {
        let ack = HandshakeMessages.Ack(
            handshake: "ok", session: device.sessionID,
            user: .init(id: device.userID, handle: device.handle, displayName: device.displayName),
            deviceCertificate: Hex.encode(device.certificate), deviceCAPublic: Hex.encode(configuration.deviceCAPublic),
            noiseKeyVersion: request.noiseKeyVersion, keepaliveInterval: configuration.keepaliveInterval)
        return HandshakeMessages.frame(.ack, sequence: nextSequence(), ack)
    }

    /// The wire bytes of `frames`, back to back (the one encoder the server and client sides share).
    public static func encode(_ frames: [CCPFrame]) -> ByteBuffer {
        var out = ByteBuffer()
        for frame in frames { frame.write(to: &out) }
        return out
    }

    /// Validates a Hello in the taxonomy's order: decode, protocol_version, pattern, proof, noise.
    private func readHello(_ frame: CCPFrame) throws(ConnectError) -> (HelloRequest, NoiseHandshakeState) {
        let hello = try HandshakeMessages.decode(HandshakeMessages.Hello.self, from: frame)
        guard hello.supportedVersions.contains(where: { configuration.supportedVersions.contains($0) }) else {
            throw ConnectError(.protocolVersion, "supported versions \(hello.supportedVersions) share none with \(configuration.supportedVersions)")
        }
        guard hello.handshakeRevision == Self.revision else {
            throw ConnectError(
                .protocolVersion,
                "handshake_revision \(hello.handshakeRevision.map(String.init) ?? "missing") is not \(Self.revision): this server needs the confirmed handshake (docs/PROTOCOL.md §1.2); update the client"
            )
        }
        guard let pattern = NoisePattern(rawValue: hello.pattern) else {
            throw ConnectError(.pattern, "pattern \(hello.pattern.prefix(16)) is not XK or IK")
        }
        guard !hello.deviceID.isEmpty, hello.deviceID.utf8.count <= 255 else { throw ConnectError(.decode, "device_id must be 1…255 bytes") }
        guard let message = Hex.decode(hello.handshake), let clientStatic = Hex.decode(hello.clientStatic), clientStatic.count == 32,
            let devicePublic = Hex.decode(hello.devicePublic), devicePublic.count == 32, let proof = Hex.decode(hello.deviceProof)
        else { throw ConnectError(.decode, "handshake, client_static, device_public and device_proof must be hex of the right size") }
        var certificate: [UInt8]?
        if let text = hello.certificate {
            guard let bytes = Hex.decode(text) else { throw ConnectError(.certificate, "certificate is not hex") }
            certificate = bytes
        }
        guard
            DeviceProof.verify(
                signature: proof, devicePublic: devicePublic, domain: configuration.domain, deviceID: hello.deviceID,
                clientStatic: clientStatic, handshake: message)
        else { throw ConnectError(.proof, "device_proof does not verify") }

        var lastError = "no server key"
        for key in configuration.serverKeys {
            let setup = NoiseHandshakeConfiguration(
                pattern: pattern, role: .responder, prologue: configuration.prologue, localStatic: key.keyPair,
                localEphemeral: configuration.fixedEphemeral)
            do {
                var noise = try NoiseHandshakeState(configuration: setup)
                _ = try noise.readMessage(message)
                let request = HelloRequest(
                    pattern: pattern, deviceID: hello.deviceID, devicePublic: devicePublic, clientStatic: clientStatic, user: hello.user,
                    certificate: certificate, noiseKeyVersion: key.version)
                return (request, noise)
            } catch {
                lastError = error.code.rawValue
            }
        }
        throw ConnectError(.noise, "message 1: \(lastError)")
    }
}
