import NIOCore
import SFUWire
import Testing
@testable import ICE

@Suite struct ICEAgentTests {
    let peer = address("203.0.113.7", 54321)

    func makeAgent(
        remote: ICECredentials? = TestCredentials.client, configuration: ICEAgent.Configuration = .init()
    ) throws -> ICEAgent {
        try ICEAgent(local: TestCredentials.server, remote: remote, configuration: configuration, now: .zero)
    }

    @Test func validCheckGetsAVerifiedSuccessWithTheMappedAddress() throws {
        var agent = try makeAgent()
        let check = CheckBuilder()
        let action = agent.receivedBindingRequest(from: peer, message: try check.message(), now: seconds(1))
        guard case .send(let bytes, let destination) = action else {
            Issue.record("expected a response, got \(action)")
            return
        }
        #expect(destination == peer)
        let response = try STUNMessage(bytes: bytes)
        #expect(response.type == .bindingSuccess)
        #expect(response.transactionID == check.transactionID)
        #expect(response.xorMappedAddress == peer)
        #expect(response.verifyMessageIntegrity(key: serverKey))
        #expect(response.hasValidFingerprint)
        #expect(agent.state == .checking)
        #expect(agent.pairs.map(\.remote) == [peer])
    }

    @Test func ipv6SourceIsMappedBack() throws {
        var agent = try makeAgent()
        let source = address("2001:db8::42", 40000)
        let action = agent.receivedBindingRequest(from: source, message: try CheckBuilder().message(), now: .zero)
        let response = try STUNMessage(bytes: try #require(action.response))
        #expect(response.xorMappedAddress == source)
    }

    @Test(arguments: [
        ("wrong password", CheckBuilder(password: "notthepassword0123456789"), ICEDropReason.badIntegrity),
        ("wrong remote ufrag", CheckBuilder(clientUfrag: "zzzz"), .wrongUsername),
        ("wrong local ufrag", CheckBuilder(serverUfrag: "nope"), .wrongUsername),
        ("no integrity", CheckBuilder(integrity: false), .missingIntegrity),
        ("no fingerprint", CheckBuilder(fingerprint: false), .missingFingerprint),
    ])
    func badChecksGetNoResponse(_ name: String, _ check: CheckBuilder, _ reason: ICEDropReason) throws {
        var agent = try makeAgent()
        let action = agent.receivedBindingRequest(from: peer, message: try check.message(), now: .zero)
        #expect(action.dropReason == reason, "\(name)")
        #expect(agent.pairs.isEmpty)
    }

    @Test func badFingerprintIsDropped() throws {
        var bytes = CheckBuilder().bytes
        let last = bytes.writerIndex - 1
        bytes.setInteger(try #require(bytes.getInteger(at: last, as: UInt8.self)) ^ 0xFF, at: last)
        var agent = try makeAgent()
        let action = agent.receivedBindingRequest(from: peer, message: try STUNMessage(bytes: bytes), now: .zero)
        #expect(action.dropReason == .badFingerprint)
    }

    @Test func nonBindingRequestsAreDropped() throws {
        var agent = try makeAgent()
        var indication = ByteBuffer()
        let encoder = STUNMessageEncoder(type: .bindingIndication, transactionID: .random(), into: &indication)
        encoder.appendFingerprint(to: &indication)
        #expect(agent.receivedBindingRequest(from: peer, message: try STUNMessage(bytes: indication), now: .zero)
            .dropReason == .bindingIndication)

        var success = ByteBuffer()
        STUNMessage.writeBindingSuccess(to: &success, transactionID: .random(), mappedAddress: peer, integrityKey: serverKey)
        #expect(agent.receivedBindingRequest(from: peer, message: try STUNMessage(bytes: success), now: .zero)
            .dropReason == .notBindingRequest)
    }

    @Test func controlledPeerGetsRoleConflict() throws {
        var agent = try makeAgent()
        let check = CheckBuilder(role: .controlled(tieBreaker: 1), useCandidate: true)
        let action = agent.receivedBindingRequest(from: peer, message: try check.message(), now: .zero)
        let response = try STUNMessage(bytes: try #require(action.response))
        #expect(response.type == .bindingError)
        #expect(response.errorCode?.code == 487)
        #expect(response.verifyMessageIntegrity(key: serverKey))
        #expect(agent.state == .checking)
        #expect(agent.pairs.isEmpty)
    }

    @Test func unknownComprehensionRequiredAttributeGets420() throws {
        var bytes = ByteBuffer()
        let id = STUNTransactionID.random()
        let encoder = STUNMessageEncoder(type: .bindingRequest, transactionID: id, into: &bytes)
        encoder.appendUsername("srvA:cliB", to: &bytes)
        encoder.appendPriority(100, to: &bytes)
        encoder.appendAttribute(STUNAttributeType(rawValue: 0x7777), bytes: [1, 2, 3, 4], to: &bytes)
        encoder.appendMessageIntegrity(key: serverKey, to: &bytes)
        encoder.appendFingerprint(to: &bytes)
        var agent = try makeAgent()
        let action = agent.receivedBindingRequest(from: peer, message: try STUNMessage(bytes: bytes), now: .zero)
        let response = try STUNMessage(bytes: try #require(action.response))
        #expect(response.errorCode?.code == 420)
        #expect(response.attribute(.unknownAttributes) == ByteBuffer(bytes: [0x77, 0x77]))
    }

    @Test func useCandidateSelectsThePair() throws {
        var agent = try makeAgent()
        let plain = agent.receivedBindingRequest(from: peer, message: try CheckBuilder().message(), now: seconds(1))
        #expect(!plain.selectsPair)
        #expect(agent.selectedAddress == nil)
        let nominated = agent.receivedBindingRequest(
            from: peer, message: try CheckBuilder(useCandidate: true).message(), now: seconds(2)
        )
        #expect(nominated.selectsPair)
        #expect(agent.state == .connected(selected: peer))
        // A repeated nomination of the same pair changes nothing.
        let again = agent.receivedBindingRequest(from: peer, message: try CheckBuilder(useCandidate: true).message(), now: seconds(3))
        #expect(!again.selectsPair)
        #expect(agent.pairs.count == 1)
    }

    @Test func higherPriorityNominationReplacesTheSelectedPair() throws {
        var agent = try makeAgent()
        let other = address("198.51.100.9", 6000)
        _ = agent.receivedBindingRequest(from: peer, message: try CheckBuilder(priority: 1000, useCandidate: true).message(), now: seconds(1))
        let lower = agent.receivedBindingRequest(
            from: other, message: try CheckBuilder(priority: 500, useCandidate: true).message(), now: seconds(2)
        )
        #expect(!lower.selectsPair)
        #expect(agent.selectedAddress == peer)
        let higher = agent.receivedBindingRequest(
            from: other, message: try CheckBuilder(priority: 5000, useCandidate: true).message(), now: seconds(3)
        )
        #expect(higher.selectsPair)
        #expect(agent.selectedAddress == other)
    }

    @Test func mostRecentPolicyFollowsEveryNomination() throws {
        var agent = try makeAgent(configuration: .init(nominationPolicy: .mostRecent))
        let other = address("198.51.100.9", 6000)
        _ = agent.receivedBindingRequest(from: peer, message: try CheckBuilder(priority: 1000, useCandidate: true).message(), now: seconds(1))
        let lower = agent.receivedBindingRequest(
            from: other, message: try CheckBuilder(priority: 5, useCandidate: true).message(), now: seconds(2)
        )
        #expect(lower.selectsPair)
        #expect(agent.selectedAddress == other)
    }

    @Test func silentSelectedPairFallsBackToAFreshNominatedPair() throws {
        var agent = try makeAgent()
        let other = address("198.51.100.9", 6000)
        _ = agent.receivedBindingRequest(from: peer, message: try CheckBuilder(priority: 1000, useCandidate: true).message(), now: seconds(0))
        _ = agent.receivedBindingRequest(from: other, message: try CheckBuilder(priority: 10, useCandidate: true).message(), now: seconds(7))
        #expect(agent.selectedAddress == peer)
        guard case .none = agent.tick(now: seconds(7.9)) else {
            Issue.record("no change expected before the selected pair goes stale")
            return
        }
        guard case .selectedPair(let remote) = agent.tick(now: seconds(8)) else {
            Issue.record("expected a fallback")
            return
        }
        #expect(remote == other)
        #expect(agent.selectedAddress == other)
    }

    @Test func consentExpiresThirtySecondsAfterTheLastValidCheck() throws {
        var agent = try makeAgent()
        _ = agent.receivedBindingRequest(from: peer, message: try CheckBuilder(useCandidate: true).message(), now: seconds(0))
        _ = agent.receivedBindingRequest(from: peer, message: try CheckBuilder().message(), now: seconds(10))
        // Invalid checks do not refresh consent.
        _ = agent.receivedBindingRequest(from: peer, message: try CheckBuilder(password: "x123456789012345678901234").message(), now: seconds(20))
        for time in stride(from: 10.0, to: 40.0, by: 0.5) {
            guard case .none = agent.tick(now: seconds(time)) else {
                Issue.record("consent expired early at \(time) s")
                return
            }
        }
        guard case .none = agent.tick(now: seconds(39.999)) else {
            Issue.record("consent expired before 30 s")
            return
        }
        guard case .consentExpired = agent.tick(now: seconds(40)) else {
            Issue.record("consent should expire at 30 s")
            return
        }
        #expect(agent.state == .consentExpired)
        guard case .none = agent.tick(now: seconds(41)) else {
            Issue.record("consentExpired must be reported once")
            return
        }
        #expect(agent.receivedBindingRequest(from: peer, message: try CheckBuilder().message(), now: seconds(42))
            .dropReason == .sessionClosed)
    }

    @Test func consentTimeoutIsConfigurable() throws {
        var agent = try makeAgent(configuration: .init(consentTimeout: .seconds(5)))
        _ = agent.receivedBindingRequest(from: peer, message: try CheckBuilder(useCandidate: true).message(), now: seconds(0))
        guard case .none = agent.tick(now: seconds(4.9)), case .consentExpired = agent.tick(now: seconds(5)) else {
            Issue.record("consent should expire at exactly 5 s")
            return
        }
    }

    @Test func noNominationFailsTheSession() throws {
        var agent = try makeAgent(configuration: .init(nominationTimeout: .seconds(10)))
        _ = agent.receivedBindingRequest(from: peer, message: try CheckBuilder().message(), now: seconds(1))
        guard case .none = agent.tick(now: seconds(9.99)), case .failed(.nominationTimeout) = agent.tick(now: seconds(10)) else {
            Issue.record("expected failure at the nomination timeout")
            return
        }
        #expect(agent.isClosed)
    }

    @Test func checksBeforeTheRemoteSDPAreAnsweredThenTheUfragIsEnforced() throws {
        var agent = try makeAgent(remote: nil)
        let early = agent.receivedBindingRequest(from: peer, message: try CheckBuilder(clientUfrag: "anyone").message(), now: .zero)
        #expect(early.response != nil)
        try agent.setRemoteCredentials(TestCredentials.client)
        #expect(agent.receivedBindingRequest(from: peer, message: try CheckBuilder(clientUfrag: "anyone").message(), now: .zero)
            .dropReason == .wrongUsername)
        #expect(agent.receivedBindingRequest(from: peer, message: try CheckBuilder().message(), now: .zero).response != nil)
    }

    @Test func pairsAreBounded() throws {
        var agent = try makeAgent(configuration: .init(maxCandidatePairs: 4))
        _ = agent.receivedBindingRequest(from: peer, message: try CheckBuilder(useCandidate: true).message(), now: .zero)
        for port in UInt16(1)...20 {
            _ = agent.receivedBindingRequest(from: address("198.51.100.1", port), message: try CheckBuilder().message(), now: seconds(Double(port)))
        }
        #expect(agent.pairs.count == 4)
        #expect(agent.pairs.contains { $0.remote == peer })
        #expect(agent.selectedAddress == peer)
    }

    @Test func invalidCredentialsAreRejected() {
        #expect(throws: ICEError.self) {
            try ICEAgent(local: ICECredentials(ufrag: "ab", password: "serverpassword0123456789"), remote: nil, now: .zero)
        }
        #expect(throws: ICEError.self) {
            try ICEAgent(local: ICECredentials(ufrag: "abcd", password: "short"), remote: nil, now: .zero)
        }
    }

    @Test func pairPriorityFollowsRFC8445() {
        // RFC 8445 §6.1.2.3 with G = 10, D = 20: 2^32·10 + 2·20 + 0.
        #expect(ICECandidatePair.priority(controlling: 10, controlled: 20) == (10 << 32) + 40)
        #expect(ICECandidatePair.priority(controlling: 20, controlled: 10) == (10 << 32) + 41)
    }

    @Test func randomCredentialsAreValid() throws {
        let credentials = ICECredentials.random()
        try credentials.validate()
        #expect(credentials.ufrag.count == 8)
        #expect(credentials.password.count == 24)
    }
}
