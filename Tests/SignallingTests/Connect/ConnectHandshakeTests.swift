import CCP
import ConnectCore
import Crypto
import Foundation
import NIOCore
import Testing

@testable import Signalling

/// The server machine against the client machine, in memory.
@Suite struct ConnectHandshakeTests {
    let serverKey = NoiseKeyPair.generate()
    let ca = Curve25519.Signing.PrivateKey()

    func server(keys: [(Int64, NoiseKeyPair)]? = nil) -> ConnectHandshake {
        ConnectHandshake(
            configuration: .init(
                domain: "example.org", prologue: Array("commucat".utf8), keepaliveInterval: 30, deviceCAPublic: [UInt8](ca.publicKey.rawRepresentation),
                serverKeys: (keys ?? [(1, serverKey)]).map { (version: $0.0, keyPair: $0.1) }))
    }

    func client(_ pattern: NoisePattern, serverStatic: [UInt8]? = nil, domain: String = "example.org", versions: [Int] = [1]) -> CCPClientConnection {
        CCPClientConnection(
            identity: .generate(deviceID: "dev-1"),
            options: .init(pattern: pattern, domain: domain, serverStatic: serverStatic ?? serverKey.publicKey, supportedVersions: versions))
    }

    func device() -> AuthorizedDevice {
        AuthorizedDevice(sessionID: "s1", deviceID: "dev-1", userID: "u1", handle: "alice", displayName: nil, certificate: [1, 2, 3], registered: false)
    }

    /// The plaintext frames at the front of `bytes` (encrypted units may follow them: in XK the
    /// client sends message 3 and its confirmation unit together).
    static func frames(_ bytes: ByteBuffer) throws -> [CCPFrame] {
        var buffer = bytes
        var decoder = CCPFrameDecoder()
        var out: [CCPFrame] = []
        while true {
            do {
                guard case .frame(let frame) = try decoder.decode(buffer: &buffer) else { return out }
                out.append(frame)
            } catch {
                if out.isEmpty { throw error }
                return out
            }
        }
    }

    /// Drives `client` against `server` in memory until the server completes, fails, or asks for
    /// something else; `openSession` is answered with `sessionID`.
    static func drive(
        _ server: inout ConnectHandshake, _ client: inout CCPClientConnection, device: AuthorizedDevice, sessionID: String = "s1"
    ) throws -> (ConnectHandshake.Action, CCPClientConnection.Events) {
        var inbound = try client.start()
        var events = CCPClientConnection.Events()
        for _ in 0..<8 {
            var action: ConnectHandshake.Action?
            if server.expectsUnits {
                action = server.receiveUnits(&inbound)
            } else if let frame = try frames(inbound).first {
                inbound.moveReaderIndex(forwardBy: frame.encodedSize)
                action = server.receive(frame)
            }
            guard var next = action else { return (.awaitConfirmation, events) }
            if case .authorize = next { next = server.authorized(device) }
            if case .openSession = next { next = server.sessionOpened(sessionID) }
            switch next {
            case .send(let frames):
                events = try client.receive(ConnectConnection.encode(frames))
                inbound = events.outgoing
            case .awaitConfirmation:
                continue
            case .complete(let units, _):
                events = try client.receive(units)
                return (next, events)
            default:
                return (next, events)
            }
        }
        return (.awaitConfirmation, events)
    }

    /// Runs a full handshake; checks the encrypted Ack and an encrypted exchange after it.
    @Test(arguments: [NoisePattern.xk, .ik])
    func completesAndEncrypts(pattern: NoisePattern) throws {
        var server = server()
        var client = client(pattern)
        let (action, events) = try Self.drive(&server, &client, device: device())
        guard case .complete(_, let established) = action else { Issue.record("did not complete: \(action)"); return }
        #expect(established.pattern == pattern)
        #expect(established.device.sessionID == "s1")
        let ack = try #require(events.ack ?? client.ack)
        #expect(ack.handshake == "ok")
        #expect(ack.session == "s1")
        #expect(ack.deviceCertificate == "010203")
        #expect(ack.noiseKeyVersion == 1)
        #expect(ack.keepaliveInterval == 30)
        #expect(client.isEstablished)

        var serverTransport = established.transport
        let units = try client.seal([CCPFrame(type: .keepalive, channelID: 0, sequence: 9, json: "{\"nonce\":\"n\"}")])
        var buffer = units
        var decoder = CCPSecureUnits.Decoder()
        let plaintext = try #require(try decoder.open(buffer: &buffer, transport: &serverTransport))
        #expect(try Self.frames(plaintext).first?.type == .keepalive)
    }

    /// Issue 14 items 1–2: the session id is never in a plaintext frame, and a replayed Hello never
    /// reaches `openSession` — the replayer cannot confirm (XK: message 3 fails; IK: the recorded
    /// confirmation does not decrypt under the new ephemeral).
    @Test(arguments: [NoisePattern.xk, .ik])
    func aReplayedHelloNeverOpensASession(pattern: NoisePattern) throws {
        var original = client(pattern)
        let helloBytes = try original.start()
        var first = server()
        let hello = try #require(try Self.frames(helloBytes).first)
        guard case .authorize = first.receive(hello), case .send(let auth) = first.authorized(device()) else {
            Issue.record("Hello refused")
            return
        }
        #expect(!String(buffer: auth[0].payload).contains("session"), "Auth must not carry a session")
        let reply = try original.receive(ConnectConnection.encode(auth))
        // The attacker saw Hello and the client's reply (message 3 and/or the confirmation unit).
        var replayed = server()
        guard case .authorize = replayed.receive(hello), case .send = replayed.authorized(device()) else {
            Issue.record("the replayed Hello is authorized like any Hello (storage is read only)")
            return
        }
        var recorded = reply.outgoing
        if pattern == .xk {
            let third = try #require(try Self.frames(recorded).first)
            recorded.moveReaderIndex(forwardBy: third.encodedSize)
            guard case .fail(let error, _) = replayed.receive(third) else { Issue.record("a replayed message 3 was accepted"); return }
            #expect(error.code == .noise)
        } else {
            let action = replayed.receiveUnits(&recorded)
            guard case .failSealed(let error, _) = action else { Issue.record("a replayed confirmation was accepted: \(String(describing: action))"); return }
            #expect(error.code == .noise)
        }
    }

    /// A confirmation signed by another device key is a `proof` refusal, sent sealed; a tampered
    /// confirmation unit is a `noise` refusal.
    @Test(arguments: [NoisePattern.xk, .ik])
    func aConfirmationByAnotherKeyIsRefused(pattern: NoisePattern) throws {
        var impostor = client(pattern)
        impostor.confirmationSigner = Curve25519.Signing.PrivateKey()
        var server = server()
        let (action, _) = try Self.drive(&server, &impostor, device: device())
        guard case .failSealed(let error, let units) = action else { Issue.record("accepted: \(action)"); return }
        #expect(error.code == .proof)
        #expect(throws: CCPClientError.self) { try impostor.receive(units) }

        var honest = client(pattern)
        var tamperingServer = self.server()
        let hello = try #require(try Self.frames(honest.start()).first)
        guard case .authorize = tamperingServer.receive(hello), case .send(let auth) = tamperingServer.authorized(device()) else {
            Issue.record("Hello refused")
            return
        }
        var units2 = try honest.receive(ConnectConnection.encode(auth)).outgoing
        if pattern == .xk {
            let third = try #require(try Self.frames(units2).first)
            units2.moveReaderIndex(forwardBy: third.encodedSize)
            guard case .awaitConfirmation = tamperingServer.receive(third) else { Issue.record("message 3 refused"); return }
        }
        var tampered = Array(units2.readableBytesView)
        tampered[tampered.count - 1] ^= 1
        var buffer = ByteBuffer(bytes: tampered)
        guard case .failSealed(let tamperError, _) = tamperingServer.receiveUnits(&buffer) else { Issue.record("tampered unit accepted"); return }
        #expect(tamperError.code == .noise)
    }

    @Test func aHelloWithoutRevisionTwoIsRefused() throws {
        #expect(refusal(try mutatedHello { $0.removeValue(forKey: "handshake_revision") }) == "protocol_version")
        #expect(refusal(try mutatedHello { $0["handshake_revision"] = 1 }) == "protocol_version")
    }

    func refusal(_ hello: CCPFrame, server: ConnectHandshake? = nil) -> String? {
        var machine = server ?? self.server()
        guard case .fail(let error, let frame) = machine.receive(hello) else { return nil }
        #expect(frame.type == .error)
        #expect(String(buffer: frame.payload).contains("\"error\":\"\(error.code.rawValue)\""))
        return error.code.rawValue
    }

    func mutatedHello(_ mutate: (inout [String: Any]) -> Void) throws -> CCPFrame {
        var client = client(.xk)
        let hello = try #require(try Self.frames(client.start()).first)
        var object = try #require(try JSONSerialization.jsonObject(with: Data(hello.payload.readableBytesView)) as? [String: Any])
        mutate(&object)
        return CCPFrame(type: .hello, channelID: 0, sequence: 1, payload: ByteBuffer(bytes: try JSONSerialization.data(withJSONObject: object)))
    }

    @Test func taxonomyCodesForBadHellos() throws {
        #expect(refusal(try mutatedHello { $0["supported_versions"] = [2, 3] }) == "protocol_version")
        #expect(refusal(try mutatedHello { $0["pattern"] = "NN" }) == "pattern")
        #expect(refusal(try mutatedHello { $0["device_id"] = "someone-else" }) == "proof")
        #expect(refusal(try mutatedHello { $0["client_static"] = Hex.encode(NoiseKeyPair.generate().publicKey) }) == "proof")
        #expect(refusal(try mutatedHello { $0["handshake"] = "zz" }) == "decode")
        #expect(refusal(try mutatedHello { $0.removeValue(forKey: "device_proof") }) == "decode")
        #expect(refusal(CCPFrame(type: .hello, channelID: 0, sequence: 1, json: "[1]")) == "decode")
        #expect(refusal(CCPFrame(type: .msg, channelID: 0, sequence: 1, json: "{}")) == "decode")
    }

    @Test func wrongServerKeyIsANoiseError() throws {
        var client = client(.ik, serverStatic: NoiseKeyPair.generate().publicKey)
        let hello = try #require(try Self.frames(client.start()).first)
        #expect(refusal(hello) == "noise")
    }

    @Test func domainIsBoundIntoTheProof() throws {
        var client = client(.xk, domain: "evil.example")
        let hello = try #require(try Self.frames(client.start()).first)
        #expect(refusal(hello) == "proof")
    }

    @Test func olderKeyIsTriedAfterTheNewest() throws {
        let newer = NoiseKeyPair.generate()
        let machine = server(keys: [(2, newer), (1, serverKey)])
        var client = client(.xk, serverStatic: serverKey.publicKey)
        let hello = try #require(try Self.frames(client.start()).first)
        var server = machine
        guard case .authorize(let request) = server.receive(hello) else { Issue.record("refused"); return }
        #expect(request.noiseKeyVersion == 1)
    }

    @Test func tamperedMessageThreeIsANoiseError() throws {
        var server = server()
        var client = client(.xk)
        let hello = try #require(try Self.frames(client.start()).first)
        _ = server.receive(hello)
        guard case .send(let frames) = server.authorized(device()) else { Issue.record("no Auth"); return }
        let events = try client.receive(ConnectConnection.encode(frames))
        var auth = try #require(try Self.frames(events.outgoing).first)
        #expect(auth.type == .auth)
        var object = try #require(try JSONSerialization.jsonObject(with: Data(auth.payload.readableBytesView)) as? [String: String])
        var bytes = try #require(Hex.decode(object["handshake"] ?? ""))
        bytes[bytes.count - 1] ^= 1
        object["handshake"] = Hex.encode(bytes)
        auth.payload = ByteBuffer(bytes: try JSONSerialization.data(withJSONObject: object))
        guard case .fail(let error, _) = server.receive(auth) else { Issue.record("accepted"); return }
        #expect(error.code == .noise)
    }

    @Test func keepaliveReplyEchoesTheNonce() {
        #expect(ConnectConnection.keepaliveReply(CCPFrame(type: .keepalive, channelID: 0, sequence: 1, json: "{\"nonce\":42}")) == "{\"nonce\":42}")
        #expect(ConnectConnection.keepaliveReply(CCPFrame(type: .keepalive, channelID: 0, sequence: 1, json: "{\"nonce\":\"a\"}")) == "{\"nonce\":\"a\"}")
        #expect(ConnectConnection.keepaliveReply(CCPFrame(type: .keepalive, channelID: 0, sequence: 1, json: "{}")) == "{}")
        #expect(ConnectConnection.keepaliveReply(CCPFrame(type: .keepalive, channelID: 0, sequence: 1, json: "7")) == "{}")
    }

    @Test func idleDeadlineIsThreeIntervals() {
        let clock = ContinuousClock()
        let start = clock.now
        var idle = IdleDeadline(interval: .seconds(10), now: start)
        #expect(!idle.isExpired(at: start.advanced(by: .seconds(29))))
        #expect(idle.isExpired(at: start.advanced(by: .seconds(30))))
        idle.activity(at: start.advanced(by: .seconds(25)))
        #expect(!idle.isExpired(at: start.advanced(by: .seconds(54))))
        #expect(idle.isExpired(at: start.advanced(by: .seconds(55))))
    }
}
