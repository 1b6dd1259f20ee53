import Crypto
import NIOCore
import SFUWire
import Synchronization
@testable import ICE

/// Credentials of the two ends of a test session: "server" is the ICE-lite side.
enum TestCredentials {
    static let server = ICECredentials(ufrag: "srvA", password: "serverpassword0123456789")
    static let client = ICECredentials(ufrag: "cliB", password: "clientpassword0123456789")

    static func server(_ index: Int) -> ICECredentials {
        ICECredentials(ufrag: "srv\(index)x", password: "serverpassword0123456789")
    }
}

/// Builds connectivity checks the way a full controlling agent does (RFC 8445 §7.2.2).
struct CheckBuilder {
    var serverUfrag = TestCredentials.server.ufrag
    var clientUfrag = TestCredentials.client.ufrag
    var password = TestCredentials.server.password
    var priority: UInt32 = 1_845_501_695
    var role: ICERoleAttribute = .controlling(tieBreaker: 0x1234_5678_9ABC_DEF0)
    var useCandidate = false
    var integrity = true
    var fingerprint = true
    var transactionID = STUNTransactionID(high: 0x0102_0304, low: 0x0506_0708_090A_0B0C)

    var request: STUNBindingRequest {
        STUNBindingRequest(
            transactionID: transactionID, username: "\(serverUfrag):\(clientUfrag)", priority: priority, role: role,
            useCandidate: useCandidate,
            integrityKey: integrity ? STUNCredentials.shortTermKey(password: password) : nil, fingerprint: fingerprint
        )
    }

    var bytes: ByteBuffer {
        var buffer = ByteBuffer()
        request.write(to: &buffer)
        return buffer
    }

    func message() throws -> STUNMessage {
        try STUNMessage(bytes: bytes)
    }
}

let serverKey = STUNCredentials.shortTermKey(password: TestCredentials.server.password)

func address(_ text: String, _ port: UInt16) -> STUNAddress {
    STUNAddress(ipAddress: text, port: port) ?? STUNAddress(ip: .v4(0), port: 0)
}

func seconds(_ value: Double) -> ICEInstant {
    ICEInstant(.milliseconds(Int64(value * 1000)))
}

extension ICEAgent.Action {
    /// The response bytes of `.send` / `.sendAndSelectPair`.
    var response: ByteBuffer? {
        switch self {
        case .send(let buffer, _), .sendAndSelectPair(let buffer, _): return buffer
        default: return nil
        }
    }

    var dropReason: ICEDropReason? {
        if case .drop(let reason) = self { return reason }
        return nil
    }

    var selectsPair: Bool {
        if case .sendAndSelectPair = self { return true }
        return false
    }
}

/// A delegate that records what the handler tells it; usable from any thread.
final class RecordingDelegate: ICESessionDelegate, Sendable {
    struct Events {
        var packets: [(PacketClass, ByteBuffer)] = []
        var selected: [SocketAddress] = []
        var consentExpired = 0
        var failures: [ICEFailureReason] = []
    }

    let events = Mutex(Events())
    let packetStream: AsyncStream<PacketClass>
    private let packetContinuation: AsyncStream<PacketClass>.Continuation

    init() {
        (packetStream, packetContinuation) = AsyncStream.makeStream(of: PacketClass.self)
    }

    func iceSession(_ session: ICESessionHandle, didReceive packet: ByteBuffer, kind: PacketClass, from source: SocketAddress) {
        events.withLock { $0.packets.append((kind, packet)) }
        packetContinuation.yield(kind)
    }

    func iceSession(_ session: ICESessionHandle, didSelectPair remote: SocketAddress) {
        events.withLock { $0.selected.append(remote) }
    }

    func iceSessionConsentExpired(_ session: ICESessionHandle) {
        events.withLock { $0.consentExpired += 1 }
    }

    func iceSession(_ session: ICESessionHandle, didFail reason: ICEFailureReason) {
        events.withLock { $0.failures.append(reason) }
    }
}

/// A manual clock for handler tests.
final class ManualClock: Sendable {
    let current = Mutex(ICEInstant.zero)
    var now: ICEInstant { current.withLock { $0 } }
    func set(_ instant: ICEInstant) { current.withLock { $0 = instant } }
}

/// SplitMix64: a deterministic generator so fuzz runs are reproducible.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

func socketAddress(_ ip: String, _ port: UInt16) -> SocketAddress {
    SocketAddress(address(ip, port))
}
