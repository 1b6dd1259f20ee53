import CCP
import ConnectCore
import Foundation
import Ledger
import NIOCore
import Redis
import Synchronization
import Testing

@testable import Ops
@testable import Signalling

/// The per-IP `/connect` limit (SPEC §10): over the limit, a stream gets `Error {error:"rate_limited"}`
/// before any handshake and closes.
@Suite struct ConnectRateLimitTests {
    final class CollectingOutbound: ConnectOutbound {
        let written = Mutex<[ByteBuffer]>([])
        let closed = Mutex(false)
        func write(_ output: ConnectOutput) async throws { written.withLock { $0.append(output.bytes) } }
        func close() async { closed.withLock { $0 = true } }
    }

    /// Serves one empty stream per address in turn; the `Error` code each got, `nil` for none.
    static func serveEmptyStreams(_ configuration: ConnectConfiguration, from addresses: [String]) async throws -> [String?] {
        try await withStorage { storage in
            let service = try await ConnectService.start(
                configuration: configuration, storage: storage, ephemeral: InMemoryEphemeralStore(), ledger: Ledger(sink: NullLedgerSink()),
                logger: quietLogger)
            var codes: [String?] = []
            for address in addresses {
                let outbound = CollectingOutbound()
                let (inbound, continuation) = AsyncStream.makeStream(of: ByteBuffer.self)
                continuation.finish()
                await service.serve(inbound: inbound, outbound: outbound, transport: "test", remoteAddress: address)
                #expect(outbound.closed.withLock { $0 })
                var bytes = ByteBuffer()
                for var chunk in outbound.written.withLock({ $0 }) { bytes.writeBuffer(&chunk) }
                let frames = try ConnectHandshakeTests.frames(bytes)
                codes.append(
                    frames.first.flatMap { frame in
                        try? HandshakeMessages.decode(HandshakeMessages.ErrorPayload.self, from: frame).error
                    })
            }
            return codes
        }
    }

    @Test func streamsOverThePerAddressLimitAreRefused() async throws {
        var configuration = ConnectConfiguration()
        configuration.connectRateLimit = .init(limit: 2, window: .seconds(600))
        let codes = try await Self.serveEmptyStreams(configuration, from: ["10.0.0.1", "10.0.0.1", "10.0.0.2", "10.0.0.1"])
        #expect(codes == [nil, nil, nil, "rate_limited"])
    }

    /// `limits.connect_per_minute` reaches the limiter through Ops' `ConnectConfiguration(config)`.
    @Test(arguments: [1, 3])
    func theLimitFollowsLimitsConnectPerMinute(limit: Int) async throws {
        let config = try CommuCatConfig.load(file: nil, environment: ["COMMUCAT_LIMITS_CONNECT_PER_MINUTE": "\(limit)"])
        let configuration = ConnectConfiguration(config)
        #expect(configuration.connectRateLimit == .init(limit: limit, window: .seconds(60)))
        let codes = try await Self.serveEmptyStreams(configuration, from: Array(repeating: "10.0.0.1", count: limit + 1) + ["10.0.0.2"])
        #expect(codes == Array(repeating: nil, count: limit) + ["rate_limited", nil])
    }

    @Test func pairingAndLimitKeysMapToConnectConfiguration() throws {
        let config = try CommuCatConfig.load(
            file: nil,
            environment: [
                "COMMUCAT_PAIRING_TTL": "2m", "COMMUCAT_PAIRING_MAX_ATTEMPTS": "9", "COMMUCAT_LIMITS_PAIR_CLAIM_PER_MINUTE": "4",
                "COMMUCAT_LIMITS_PAIR_CREATE_PER_MINUTE": "6",
            ])
        let configuration = ConnectConfiguration(config)
        #expect(configuration.pairingTTL == .seconds(120))
        #expect(configuration.pairingMaxAttempts == 9)
        #expect(configuration.pairClaimRateLimit == .init(limit: 4, window: .seconds(60)))
        #expect(configuration.pairCreateRateLimit == .init(limit: 6, window: .seconds(60)))
        #expect(configuration.connectRateLimit == .init(limit: 60, window: .seconds(60)))
    }
}
