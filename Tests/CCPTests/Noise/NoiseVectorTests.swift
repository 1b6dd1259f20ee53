import Foundation
import Testing

@testable import CCP

/// One entry of Fixtures/noise-vectors.json (cacophony / snow vector format).
struct NoiseVector: Decodable, Sendable, CustomTestStringConvertible {
    struct Message: Decodable, Sendable {
        var payload: String
        var ciphertext: String
    }

    var protocol_name: String
    var init_prologue: String
    var init_static: String
    var init_ephemeral: String
    var init_remote_static: String
    var resp_prologue: String
    var resp_static: String
    var resp_ephemeral: String
    var handshake_hash: String?
    var messages: [Message]
    var source: String

    var testDescription: String { "\(self.protocol_name) from \(self.source)" }

    static func load() throws -> [NoiseVector] {
        struct File: Decodable { var vectors: [NoiseVector] }
        let data = try Data(contentsOf: fixturesDirectory.appendingPathComponent("noise-vectors.json"))
        return try JSONDecoder().decode(File.self, from: data).vectors
    }
}

/// Vectors load lazily; a missing or unreadable fixture fails the tests that use it.
let noiseVectors: [NoiseVector] = (try? NoiseVector.load()) ?? []

@Suite struct NoiseVectorTests {
    @Test func fixtureHoldsBothProtocolsFromBothSources() throws {
        let vectors = try NoiseVector.load()
        #expect(vectors.count == 4)
        #expect(Set(vectors.map(\.protocol_name)) == Set(NoisePattern.allCases.map(\.protocolName)))
        #expect(vectors.filter { $0.handshake_hash != nil }.count == 2)
    }

    @Test(arguments: noiseVectors)
    func vectorReproducesByteForByte(vector: NoiseVector) throws {
        let pattern = try #require(NoisePattern(protocolName: vector.protocol_name))
        let initiatorConfiguration = NoiseHandshakeConfiguration(
            pattern: pattern,
            role: .initiator,
            prologue: try #require(bytes(hex: vector.init_prologue)),
            localStatic: try NoiseKeyPair(privateKeyBytes: try #require(bytes(hex: vector.init_static))),
            remoteStatic: bytes(hex: vector.init_remote_static),
            localEphemeral: try NoiseKeyPair(privateKeyBytes: try #require(bytes(hex: vector.init_ephemeral)))
        )
        let responderStatic = try NoiseKeyPair(privateKeyBytes: try #require(bytes(hex: vector.resp_static)))
        #expect(responderStatic.publicKey == bytes(hex: vector.init_remote_static))
        let responderConfiguration = NoiseHandshakeConfiguration(
            pattern: pattern,
            role: .responder,
            prologue: try #require(bytes(hex: vector.resp_prologue)),
            localStatic: responderStatic,
            localEphemeral: try NoiseKeyPair(privateKeyBytes: try #require(bytes(hex: vector.resp_ephemeral)))
        )
        var initiator = try NoiseHandshakeState(configuration: initiatorConfiguration)
        var responder = try NoiseHandshakeState(configuration: responderConfiguration)
        var initiatorTransport: NoiseTransport?
        var responderTransport: NoiseTransport?
        var handshakeHashes: [[UInt8]] = []
        let handshakeLength = pattern.messagePatterns.count
        #expect(vector.messages.count > handshakeLength)

        for (index, message) in vector.messages.enumerated() {
            let payload = try #require(bytes(hex: message.payload))
            let expected = try #require(bytes(hex: message.ciphertext))
            let initiatorSends = index % 2 == 0
            if index < handshakeLength {
                let sent: [UInt8]
                switch initiatorSends ? try initiator.writeMessage(payload: payload) : try responder.writeMessage(payload: payload) {
                case .sendMessage(let bytes):
                    sent = bytes
                case .sendMessageAndComplete(let bytes, let result):
                    sent = bytes
                    if initiatorSends { initiatorTransport = result.transport } else { responderTransport = result.transport }
                    handshakeHashes.append(result.handshakeHash)
                default:
                    Issue.record("write produced no message at \(index)")
                    return
                }
                #expect(sent == expected, "handshake message \(index)")
                let received: [UInt8]
                switch initiatorSends ? try responder.readMessage(sent) : try initiator.readMessage(sent) {
                case .receivedPayload(let bytes):
                    received = bytes
                case .receivedPayloadAndComplete(let bytes, let result):
                    received = bytes
                    if initiatorSends { responderTransport = result.transport } else { initiatorTransport = result.transport }
                    handshakeHashes.append(result.handshakeHash)
                    #expect(result.remoteStatic.count == 32)
                default:
                    Issue.record("read produced no payload at \(index)")
                    return
                }
                #expect(received == payload, "handshake payload \(index)")
            } else {
                var sender = try #require(initiatorSends ? initiatorTransport : responderTransport)
                var receiver = try #require(initiatorSends ? responderTransport : initiatorTransport)
                let sent = try sender.encrypt(payload)
                #expect(sent == expected, "transport message \(index)")
                #expect(try receiver.decrypt(sent) == payload)
                if initiatorSends {
                    (initiatorTransport, responderTransport) = (sender, receiver)
                } else {
                    (responderTransport, initiatorTransport) = (sender, receiver)
                }
            }
        }
        #expect(initiator.expectation == .completed && responder.expectation == .completed)
        #expect(handshakeHashes.count == 2 && handshakeHashes.first == handshakeHashes.last)
        if let hash = vector.handshake_hash {
            #expect(handshakeHashes.first == bytes(hex: hash))
        }
    }
}
