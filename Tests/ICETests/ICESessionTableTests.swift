import NIOCore
import SFUWire
import Testing
@testable import ICE

@Suite struct ICESessionTableTests {
    @Test func thousandsOfSessionsDemuxByUsernameThenByAddress() throws {
        let sessionCount = 3000
        var table = ICESessionTable<Int>(minimumCapacity: sessionCount)
        var handles: [ICESessionHandle] = []
        for index in 0..<sessionCount {
            handles.append(try table.register(
                local: TestCredentials.server(index), remote: TestCredentials.client, context: index, now: .zero
            ))
        }
        #expect(table.count == sessionCount)
        // Each session's peer checks from its own port, nominating.
        for index in 0..<sessionCount {
            let check = CheckBuilder(serverUfrag: TestCredentials.server(index).ufrag, useCandidate: true)
            let source = address("10.0.\(index / 250).\(index % 250 + 1)", UInt16(10000 + index))
            guard case .session(let handle, let context, let action) = table.receivedSTUN(
                try check.message(), from: source, now: seconds(1)
            ) else {
                Issue.record("session \(index) not found")
                return
            }
            #expect(handle == handles[index])
            #expect(context == index)
            #expect(action.selectsPair)
        }
        // Non-STUN packets now route by 5-tuple.
        for index in stride(from: 0, to: sessionCount, by: 7) {
            let source = address("10.0.\(index / 250).\(index % 250 + 1)", UInt16(10000 + index))
            let routed = table.routeNonSTUN(from: source)
            #expect(routed?.context == index)
            #expect(routed?.handle == handles[index])
        }
        #expect(table.routeNonSTUN(from: address("192.0.2.1", 1)) == nil)
        #expect(table.drops[.unknownSource] == 1)
    }

    @Test func unknownUfragAndInvalidChecksAreCountedNotRouted() throws {
        var table = ICESessionTable<String>()
        _ = try table.register(local: TestCredentials.server, remote: TestCredentials.client, context: "a", now: .zero)
        let source = address("192.0.2.10", 5000)
        guard case .dropped(.unknownUsername) = table.receivedSTUN(
            try CheckBuilder(serverUfrag: "other").message(), from: source, now: .zero
        ) else {
            Issue.record("expected unknownUsername")
            return
        }
        guard case .dropped(.badIntegrity) = table.receivedSTUN(
            try CheckBuilder(password: "wrongpassword01234567890").message(), from: source, now: .zero
        ) else {
            Issue.record("expected badIntegrity")
            return
        }
        // A failed check teaches the table nothing about the source.
        #expect(table.routeNonSTUN(from: source) == nil)
        #expect(table.drops[.unknownUsername] == 1)
        #expect(table.drops[.badIntegrity] == 1)
        #expect(table.drops[.unknownSource] == 1)
        #expect(table.drops.total == 3)
    }

    @Test func removeForgetsUfragAndAddressesAndStaleHandles() throws {
        var table = ICESessionTable<String>()
        let first = try table.register(local: TestCredentials.server, remote: TestCredentials.client, context: "a", now: .zero)
        let source = address("192.0.2.10", 5000)
        _ = table.receivedSTUN(try CheckBuilder().message(), from: source, now: .zero)
        #expect(table.session(boundTo: source) == first)
        #expect(table.remove(first) == "a")
        #expect(table.remove(first) == nil)
        #expect(table.session(boundTo: source) == nil)
        guard case .dropped(.unknownUsername) = table.receivedSTUN(try CheckBuilder().message(), from: source, now: .zero) else {
            Issue.record("removed session still answers")
            return
        }
        // The slot is reused; the old handle does not reach the new session.
        let second = try table.register(local: TestCredentials.server, remote: TestCredentials.client, context: "b", now: .zero)
        #expect(second != first)
        #expect(table.context(first) == nil)
        #expect(table.context(second) == "b")
    }

    @Test func duplicateAndOverlongUfragsAreRejected() throws {
        var table = ICESessionTable<Int>()
        _ = try table.register(local: TestCredentials.server, remote: nil, context: 1, now: .zero)
        #expect(throws: ICEError.self) {
            _ = try table.register(local: TestCredentials.server, remote: nil, context: 2, now: .zero)
        }
        let long = ICECredentials(ufrag: String(repeating: "u", count: 33), password: TestCredentials.server.password)
        #expect(throws: ICEError.self) {
            _ = try table.register(local: long, remote: nil, context: 3, now: .zero)
        }
        #expect(table.count == 1)
    }

    @Test func addressMovesToTheSessionThatLastValidatedIt() throws {
        var table = ICESessionTable<String>()
        let a = try table.register(local: TestCredentials.server(1), remote: TestCredentials.client, context: "a", now: .zero)
        let b = try table.register(local: TestCredentials.server(2), remote: TestCredentials.client, context: "b", now: .zero)
        let source = address("192.0.2.10", 5000)
        _ = table.receivedSTUN(try CheckBuilder(serverUfrag: TestCredentials.server(1).ufrag).message(), from: source, now: .zero)
        #expect(table.session(boundTo: source) == a)
        _ = table.receivedSTUN(try CheckBuilder(serverUfrag: TestCredentials.server(2).ufrag).message(), from: source, now: .zero)
        #expect(table.session(boundTo: source) == b)
        table.remove(a)
        #expect(table.session(boundTo: source) == b)
    }

    @Test func tickReportsConsentExpiryPerSession() throws {
        var table = ICESessionTable<Int>()
        for index in 0..<100 {
            let handle = try table.register(local: TestCredentials.server(index), remote: TestCredentials.client, context: index, now: .zero)
            _ = handle
            let check = CheckBuilder(serverUfrag: TestCredentials.server(index).ufrag, useCandidate: true)
            // Even sessions check at 0 s, odd ones at 10 s.
            let time = index % 2 == 0 ? 0.0 : 10.0
            _ = table.receivedSTUN(try check.message(), from: address("10.1.0.1", UInt16(2000 + index)), now: seconds(time))
        }
        var expired: [Int] = []
        table.tick(now: seconds(29.9)) { _, context, _ in expired.append(context) }
        #expect(expired.isEmpty)
        table.tick(now: seconds(30)) { _, context, action in
            if case .consentExpired = action { expired.append(context) }
        }
        #expect(expired == Array(stride(from: 0, to: 100, by: 2)))
    }

    @Test func iceRestartAnswersTheNewUfragOnlyAndKeepsTheSelectedAddress() throws {
        var table = ICESessionTable<String>()
        let handle = try table.register(local: TestCredentials.server, remote: TestCredentials.client, context: "a", now: .zero)
        let source = address("192.0.2.10", 5000)
        guard case .session(_, _, let first) = table.receivedSTUN(try CheckBuilder(useCandidate: true).message(), from: source, now: seconds(1)) else {
            Issue.record("the first check is answered")
            return
        }
        #expect(first.selectsPair)

        let restarted = ICECredentials(ufrag: "srvR", password: "restartedpassword0123456")
        try table.restart(handle, local: restarted)
        // Media keeps its route while the peer checks again.
        #expect(table.routeNonSTUN(from: source)?.handle == handle)
        guard case .dropped(.unknownUsername) = table.receivedSTUN(try CheckBuilder().message(), from: source, now: seconds(2)) else {
            Issue.record("the old ufrag is no longer answered")
            return
        }
        let newClient = CheckBuilder(serverUfrag: "srvR", clientUfrag: "cliR", password: restarted.password, useCandidate: true)
        guard case .session(let answered, _, _) = table.receivedSTUN(try newClient.message(), from: source, now: seconds(3)) else {
            Issue.record("a check with the new credentials is answered")
            return
        }
        #expect(answered == handle)
        #expect(throws: ICEError.self) { try table.restart(handle, local: restarted) }
    }
}
