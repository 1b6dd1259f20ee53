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

    static func frames(_ bytes: ByteBuffer) throws -> [CCPFrame] {
        var buffer = bytes
        var decoder = CCPFrameDecoder()
        var out: [CCPFrame] = []
        while case .frame(let frame) = try decoder.decode(buffer: &buffer) { out.append(frame) }
        return out
    }

    /// Runs a full handshake; returns both sides' transports after checking an encrypted exchange.
    @Test(arguments: [NoisePattern.xk, .ik])
    func completesAndEncrypts(pattern: NoisePattern) throws {
        var server = server()
        var client = client(pattern)
        let hello = try #require(try Self.frames(client.start()).first)
        guard case .authorize(let request) = server.receive(hello) else { Issue.record("Hello refused"); return }
        #expect(request.pattern == pattern)
        #expect(request.deviceID == "dev-1")
        var established: EstablishedHandshake?
        var toClient: [CCPFrame] = []
        switch server.authorized(device()) {
        case .send(let frames): toClient = frames
        case .complete(let frames, let result):
            toClient = frames
            established = result
        default: Issue.record("unexpected action")
        }
        #expect(pattern == .ik ? established != nil : established == nil)
        var events = try client.receive(ConnectConnection.encode(toClient))
        if pattern == .xk {
            let auth = try #require(try Self.frames(events.outgoing).first)
            guard case .complete(let frames, let result) = server.receive(auth) else { Issue.record("client Auth refused"); return }
            established = result
            events = try client.receive(ConnectConnection.encode(frames))
        }
        let ack = try #require(events.ack ?? client.ack)
        #expect(ack.handshake == "ok")
        #expect(ack.session == "s1")
        #expect(ack.deviceCertificate == "010203")
        #expect(ack.noiseKeyVersion == 1)
        #expect(ack.keepaliveInterval == 30)
        #expect(client.isEstablished)

        var serverTransport = try #require(established).transport
        let units = try client.seal([CCPFrame(type: .keepalive, channelID: 0, sequence: 9, json: "{\"nonce\":\"n\"}")])
        var buffer = units
        var decoder = CCPSecureUnits.Decoder()
        let plaintext = try #require(try decoder.open(buffer: &buffer, transport: &serverTransport))
        #expect(try Self.frames(plaintext).first?.type == .keepalive)
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
