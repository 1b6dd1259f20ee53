import CCP
import Crypto
import Foundation
import NIOCore

/// The fixed server side that ``fuzzConnectHello(_:)`` runs against. Every key is public: fuzzing
/// needs determinism, not secrecy. Seed inputs that should get past the device proof and Noise
/// message 1 must be made against exactly these values (Tests/SignallingTests/Connect/ConnectHelloFuzzTests.swift).
public enum ConnectHelloFuzzFixture {
    public static let domain = "localhost"
    public static let prologue = Array("commucat".utf8)
    /// The server static private key, as for the CCP `noise-responder` fuzzer.
    public static let serverStaticPrivate = [UInt8](repeating: 0x42, count: 32)
    /// The server ephemeral private key: with it fixed, message 2 depends only on the input, so a
    /// recorded XK message 3 authenticates when replayed.
    public static let serverEphemeralPrivate = [UInt8](repeating: 0x43, count: 32)
    public static let keepaliveInterval = 30
    public static let deviceCAPublic = [UInt8](repeating: 0xca, count: 32)

    /// The handshake configuration: one server key, version 1.
    public static func configuration() throws(CCPError) -> ConnectHandshake.Configuration {
        let serverStatic = try NoiseKeyPair(privateKeyBytes: serverStaticPrivate)
        let serverEphemeral = try NoiseKeyPair(privateKeyBytes: serverEphemeralPrivate)
        return ConnectHandshake.Configuration(
            domain: domain, prologue: prologue, keepaliveInterval: keepaliveInterval, deviceCAPublic: deviceCAPublic,
            serverKeys: [(version: 1, keyPair: serverStatic)], fixedEphemeral: serverEphemeral)
    }

    /// What the fuzzer's storage side answers for an authorized Hello: a fixed account that echoes
    /// the request's device id, display name and certificate into the Auth and Ack frames.
    public static func device(for request: HelloRequest) -> AuthorizedDevice {
        AuthorizedDevice(
            sessionID: "fuzz-session", deviceID: request.deviceID, userID: "fuzz-user", handle: "fuzz",
            displayName: request.user?.displayName, certificate: request.certificate ?? [], registered: false)
    }
}

private let connectHelloConfiguration = try? ConnectHelloFuzzFixture.configuration()

/// libFuzzer-style entry point for the `/connect` handshake (SPEC §4.2): `bytes` is the inbound byte
/// stream of one connection. Frames are decoded from it and handed to a fresh ``ConnectHandshake``,
/// as `ConnectConnection` does. When the machine asks to authorize, a Hello with an odd sequence
/// number (what clients send) is authorized with ``ConnectHelloFuzzFixture/device(for:)`` and one
/// with an even sequence number is refused, so both paths run. After XK's message 3 (or IK's Auth)
/// the stream is encrypted units: the confirmation, then (once the session is "opened") the rest,
/// decoded as the established session does. Must never crash.
public func fuzzConnectHello(_ bytes: UnsafeRawBufferPointer) {
    _ = runConnectHello(bytes)
}

/// How one input to ``fuzzConnectHello(_:)`` ended; the corpus tests check it.
enum ConnectHelloOutcome: Hashable, Sendable {
    /// The stream ended before the handshake did.
    case incomplete
    /// The frame decoder refused the stream (a CCP error code).
    case frameError(String)
    /// The handshake failed with this taxonomy code.
    case failed(String)
    /// The handshake completed; `frames` frames were decrypted from the units after it.
    case established(NoisePattern, frames: Int)
}

func runConnectHello(_ bytes: UnsafeRawBufferPointer) -> ConnectHelloOutcome {
    guard let configuration = connectHelloConfiguration else { return .incomplete }
    var handshake = ConnectHandshake(configuration: configuration)
    var buffer = ByteBuffer(bytes: bytes)
    var decoder = CCPFrameDecoder(limits: ConnectHandshake.frameLimits)
    // Each step consumes at least 2 bytes or ends the run, so this bound is never the one that stops the loop.
    for _ in 0...bytes.count {
        var action: ConnectHandshake.Action
        if handshake.expectsUnits {
            guard let next = handshake.receiveUnits(&buffer) else { return .incomplete }
            action = next
        } else {
            let frame: CCPFrame
            do {
                guard case .frame(let decoded) = try decoder.decode(buffer: &buffer) else { return .incomplete }
                frame = decoded
            } catch {
                return .frameError(error.code.rawValue)
            }
            action = handshake.receive(frame)
            if case .authorize(let request) = action {
                precondition(!handshake.isFinished, "asked to authorize after the handshake ended")
                if frame.sequence % 2 == 1 {
                    action = handshake.authorized(ConnectHelloFuzzFixture.device(for: request))
                } else {
                    action = handshake.authorizationFailed(ConnectError(.pairingRequired, "refused by the fuzz entry point"))
                }
            }
        }
        if case .openSession = action {
            action = handshake.sessionOpened("fuzz-session")
        }
        switch action {
        case .authorize, .openSession:
            preconditionFailure("authorized(_:), authorizationFailed(_:) and sessionOpened(_:) never ask again")
        case .send(let frames):
            precondition(!handshake.isFinished && !frames.isEmpty, "send must leave the handshake open and send something")
            writeAll(frames)
        case .awaitConfirmation:
            precondition(handshake.expectsUnits, "awaitConfirmation must switch to units")
        case .complete(let units, let established):
            precondition(handshake.isFinished && units.readableBytes > 0, "complete must finish the handshake with the sealed Ack")
            var pending = established.pendingPlaintext
            return .established(established.pattern, frames: countFrames(&pending) + openUnits(&buffer, transport: established.transport))
        case .fail(let error, let errorFrame):
            precondition(handshake.isFinished && errorFrame.type == .error, "fail must finish the handshake with an Error frame")
            writeAll([errorFrame])
            return .failed(error.code.rawValue)
        case .failSealed(let error, let units):
            precondition(handshake.isFinished && units.readableBytes > 0, "failSealed must finish the handshake with sealed units")
            return .failed(error.code.rawValue)
        }
    }
    return .incomplete
}

/// Frames decodable from `plaintext` (the bytes after the confirmation frame).
private func countFrames(_ plaintext: inout ByteBuffer) -> Int {
    var decoder = CCPFrameDecoder()
    var frames = 0
    while case .frame = try? decoder.decode(buffer: &plaintext) { frames += 1 }
    return frames
}

/// Encodes what the server would send; the encoding must agree with `encodedSize`.
private func writeAll(_ frames: [CCPFrame]) {
    var out = ByteBuffer()
    for frame in frames {
        let written = frame.write(to: &out)
        precondition(written == frame.encodedSize, "encodedSize disagrees with write(to:)")
    }
}

/// Opens the encrypted units that follow the handshake and decodes the frames inside them, as the
/// established session does; returns how many frames were decoded.
private func openUnits(_ buffer: inout ByteBuffer, transport initial: NoiseTransport) -> Int {
    var transport = initial
    var units = CCPSecureUnits.Decoder()
    var decoder = CCPFrameDecoder()
    var plaintext = ByteBuffer()
    var frames = 0
    // Each unit consumes at least 1 byte, so this bound is never the one that stops the loop.
    for _ in 0...buffer.readableBytes {
        do {
            guard var chunk = try units.open(buffer: &buffer, transport: &transport) else { return frames }
            plaintext.writeBuffer(&chunk)
            while case .frame = try decoder.decode(buffer: &plaintext) { frames += 1 }
        } catch {
            return frames
        }
    }
    return frames
}

/// The fixed device CA the `device-certificate` fuzzer verifies against (public: determinism only).
private let fuzzDeviceCA = try? Curve25519.Signing.PrivateKey(rawRepresentation: [UInt8](repeating: 0x5a, count: 32))

/// libFuzzer-style entry point for ``DeviceCertificate/init(parsing:)`` (the `certificate` of a
/// Hello, SPEC §5): any bytes parse or throw; what parses encodes back to the same bytes and its
/// verification (signature, validity window) answers without trapping.
public func fuzzDeviceCertificate(_ bytes: UnsafeRawBufferPointer) {
    let input = Array(bytes)
    guard let certificate = try? DeviceCertificate(parsing: input) else { return }
    precondition(certificate.encoded == input, "a parsed certificate must encode to its input")
    if let ca = fuzzDeviceCA {
        try? certificate.verify(caPublic: ca.publicKey, now: Date(timeIntervalSince1970: 1_800_000_000))
    }
}
