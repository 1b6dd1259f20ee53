import CCP
import Foundation
import NIOCore
import Synchronization
import Testing

@testable import Signalling

/// One connected device in a messaging test: its live CCP-1 session and everything it received.
/// Inbox entries are acknowledged on receipt when `autoAck` is on (what a real client does after it
/// has stored the message).
final class TestDevice: Sendable {
    let client: CCPLiveClient
    let identity: DeviceIdentity
    let autoAck: Bool
    private final class Frames: Sendable {
        let frames = Mutex<[CCPFrame]>([])
        func withLock<T>(_ body: (inout [CCPFrame]) -> T) -> T { frames.withLock { body(&$0) } }
    }
    private let received = Frames()
    private let reader: Task<Void, Never>

    var deviceID: String { identity.deviceID }
    var userID: String { client.ack.user.id }
    var session: String { client.ack.session }

    private init(client: CCPLiveClient, identity: DeviceIdentity, autoAck: Bool) {
        self.client = client
        self.identity = identity
        self.autoAck = autoAck
        let received = self.received
        self.reader = Task {
            for await frame in client.frames {
                received.withLock { $0.append(frame) }
                if autoAck && ClientCommands.isInboxEntry(frame) {
                    client.send(.ack, channel: frame.channelID, json: "{\"ack\":\(frame.sequence)}")
                }
            }
        }
    }

    /// Connects `identity` (registered by auto-approval under `handle` on first use).
    static func connect(_ endpoints: TestEndpoints, handle: String, identity: DeviceIdentity = .generate(), autoAck: Bool = true) async throws -> TestDevice {
        let connection = try await clientConnection(endpoints, identity: identity, pattern: .xk, handle: handle)
        let client = try await CCPLiveClient.connect(url: endpoints.webSocket, connection: connection)
        return TestDevice(client: client, identity: identity, autoAck: autoAck)
    }

    /// Removes and returns the first received frame that matches, waiting up to `timeout`.
    func expect(
        _ type: CCPFrameType, timeout: Duration = .seconds(15), sourceLocation: SourceLocation = #_sourceLocation,
        where matches: @Sendable (CCPFrame) -> Bool = { _ in true }
    ) async throws -> CCPFrame {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            let found = received.withLock { frames -> CCPFrame? in
                guard let index = frames.firstIndex(where: { $0.type == type && matches($0) }) else { return nil }
                return frames.remove(at: index)
            }
            if let found { return found }
            try await Task.sleep(for: .milliseconds(20))
        }
        let seen = received.withLock { $0.map { "\($0.type) ch\($0.channelID) \(String(buffer: $0.payload).prefix(120))" } }
        Issue.record("\(deviceID) never received \(type); it holds \(seen)", sourceLocation: sourceLocation)
        throw TimedOut()
    }

    /// Frames received and not yet taken by `expect`.
    func pending(_ type: CCPFrameType) -> [CCPFrame] { received.withLock { $0.filter { $0.type == type } } }

    /// Sends a frame and waits for the server's Ack or Error on that channel for that sequence;
    /// returns the JSON object of the reply and its type.
    func request(_ type: CCPFrameType, channel: UInt32, json: String) async throws -> (CCPFrameType, [String: Any]) {
        let number = client.send(type, channel: channel, json: json)
        return try await reply(to: number, channel: channel)
    }

    func request(_ type: CCPFrameType, channel: UInt32, bytes: [UInt8]) async throws -> (CCPFrameType, [String: Any]) {
        let number = client.send(type, channel: channel, bytes: bytes)
        return try await reply(to: number, channel: channel)
    }

    private func reply(to number: UInt32, channel: UInt32) async throws -> (CCPFrameType, [String: Any]) {
        let deadline = ContinuousClock.now + .seconds(15)
        while ContinuousClock.now < deadline {
            let found = received.withLock { frames -> CCPFrame? in
                guard let index = frames.firstIndex(where: { frame in
                    frame.channelID == channel
                        && (frame.type == .error || (frame.type == .ack && (Self.json(frame)["ack"] as? Int).map { UInt32($0) == number } == true))
                }) else { return nil }
                return frames.remove(at: index)
            }
            if let found { return (found.type, Self.json(found)) }
            try await Task.sleep(for: .milliseconds(20))
        }
        Issue.record("\(deviceID): no Ack or Error for sequence \(number) on channel \(channel)")
        throw TimedOut()
    }

    func close() async {
        await client.close()
        reader.cancel()
    }

    static func json(_ frame: CCPFrame) -> [String: Any] {
        ((try? JSONSerialization.jsonObject(with: Data(frame.payload.readableBytesView))) as? [String: Any]) ?? [:]
    }
}

/// Makes two users mutual friends over REST: `a` asks, `b` accepts.
func befriend(_ endpoints: TestEndpoints, _ a: TestDevice, _ b: TestDevice, bHandle: String) async throws {
    let created = try await fetch(endpoints.http + "/api/friends/requests/\(bHandle)", method: .POST, bearer: a.session, json: ["message": "hi"])
    #expect(created.status == 201, "friend request: \(created.status) \(created.body)")
    let id = try #require((created.json["request"] as? [String: Any])?["id"] as? String)
    let accepted = try await fetch(endpoints.http + "/api/friends/requests/\(id)/accept", method: .POST, bearer: b.session)
    #expect(accepted.status == 200, "accept: \(accepted.status) \(accepted.body)")
}

/// A unique handle per test run (PostgreSQL keeps users between runs).
func uniqueHandle(_ base: String) -> String { "\(base)-\(UInt32.random(in: 0...UInt32.max))" }

/// The storage and Redis the messaging suites run against: SQLite always, PostgreSQL and Redis
/// when `make test` started them (`COMMUCAT_TEST_POSTGRES_URL`, `COMMUCAT_TEST_REDIS_URL`).
enum MessagingBackends {
    static var all: [String] {
        var names = ["sqlite"]
        if ProcessInfo.processInfo.environment["COMMUCAT_TEST_POSTGRES_URL"] != nil { names.append("postgres+redis") }
        return names
    }

    static func environment(_ name: String) -> [String: String] {
        var env = ["COMMUCAT_SERVER_AUTO_APPROVE_DEVICES": "true"]
        if name == "postgres+redis" {
            env["COMMUCAT_STORAGE_URL"] = ProcessInfo.processInfo.environment["COMMUCAT_TEST_POSTGRES_URL"]
            env["COMMUCAT_REDIS_URL"] = ProcessInfo.processInfo.environment["COMMUCAT_TEST_REDIS_URL"]
        }
        return env
    }
}
