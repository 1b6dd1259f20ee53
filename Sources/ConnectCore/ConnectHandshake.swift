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

/// What the storage side decided about the device (``ConnectAuthorizer``).
public struct AuthorizedDevice: Sendable, Hashable {
    public var sessionID: String
    public var deviceID: String
    public var userID: String
    public var handle: String
    public var displayName: String?
    public var certificate: [UInt8]
    public var registered: Bool

    public init(sessionID: String, deviceID: String, userID: String, handle: String, displayName: String?, certificate: [UInt8], registered: Bool) {
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
}

/// The server side of the CCP-1 handshake (SPEC §4.2) as a state machine in the shape of
/// postgres-nio's `ConnectionStateMachine`: each event returns the action the caller performs.
///
/// `Hello` → (``Action/authorize(_:)``: the caller consults storage, then calls
/// ``authorized(_:)``) → `Auth` → [XK: client `Auth`] → `Ack`.
public struct ConnectHandshake: Sendable {
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
        /// Authorize the device (storage), then call ``ConnectHandshake/authorized(_:)`` or ``ConnectHandshake/authorizationFailed(_:)``.
        case authorize(HelloRequest)
        /// Send these plaintext frames and wait for the next client frame.
        case send([CCPFrame])
        /// Send these plaintext frames; every later unit is encrypted with `established.transport`.
        case complete([CCPFrame], EstablishedHandshake)
        /// Send this `Error` frame and close the stream.
        case fail(ConnectError, CCPFrame)
    }

    private enum State: Sendable {
        case awaitingHello
        case authorizing(HelloRequest, NoiseHandshakeState)
        case awaitingClientAuth(HelloRequest, NoiseHandshakeState, AuthorizedDevice)
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
                state = .established
                let established = EstablishedHandshake(
                    transport: result.transport, device: device, pattern: request.pattern, handshakeHash: result.handshakeHash)
                return .complete([ackFrame(request, device)], established)
            } catch {
                return fail(error)
            }
        case .authorizing:
            return fail(ConnectError(.decode, "frame before the server's Auth"))
        case .established, .failed:
            return fail(ConnectError(.decode, "unexpected plaintext frame"))
        }
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
                session: device.sessionID, deviceID: device.deviceID, handshake: Hex.encode(message),
                serverStatic: Hex.encode(key.keyPair.publicKey), protocolVersion: 1, supportedVersions: configuration.supportedVersions)
            return HandshakeMessages.frame(.auth, sequence: nextSequence(), auth)
        }
        switch action {
        case .sendMessage(let message):
            state = .awaitingClientAuth(request, noise, device)
            return .send([authFrame(message)])
        case .sendMessageAndComplete(let message, let result):
            guard result.remoteStatic == request.clientStatic else { return fail(ConnectError(.noise, "client static key differs from client_static")) }
            state = .established
            let auth = authFrame(message)
            let established = EstablishedHandshake(transport: result.transport, device: device, pattern: request.pattern, handshakeHash: result.handshakeHash)
            return .complete([auth, ackFrame(request, device)], established)
        case .receivedPayload, .receivedPayloadAndComplete:
            return fail(ConnectError(.noise, "unexpected handshake state"))
        }
    }

    /// Storage refused the device (or failed).
    public mutating func authorizationFailed(_ error: ConnectError) -> Action {
        fail(error)
    }

    private mutating func fail(_ error: ConnectError) -> Action {
        state = .failed
        return .fail(error, HandshakeMessages.errorFrame(error, sequence: nextSequence()))
    }

    private mutating func nextSequence() -> UInt32 {
        sequence &+= 1
        return sequence
    }

    private func ackFrame(_ request: HelloRequest, _ device: AuthorizedDevice) -> CCPFrame {
        let ack = HandshakeMessages.Ack(
            handshake: "ok", session: device.sessionID,
            user: .init(id: device.userID, handle: device.handle, displayName: device.displayName),
            deviceCertificate: Hex.encode(device.certificate), deviceCAPublic: Hex.encode(configuration.deviceCAPublic),
            noiseKeyVersion: request.noiseKeyVersion, keepaliveInterval: configuration.keepaliveInterval)
        var copy = self
        return HandshakeMessages.frame(.ack, sequence: copy.nextSequence(), ack)
    }

    /// Validates a Hello in the taxonomy's order: decode, protocol_version, pattern, proof, noise.
    private func readHello(_ frame: CCPFrame) throws(ConnectError) -> (HelloRequest, NoiseHandshakeState) {
        let hello = try HandshakeMessages.decode(HandshakeMessages.Hello.self, from: frame)
        guard hello.supportedVersions.contains(where: { configuration.supportedVersions.contains($0) }) else {
            throw ConnectError(.protocolVersion, "supported versions \(hello.supportedVersions) share none with \(configuration.supportedVersions)")
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
