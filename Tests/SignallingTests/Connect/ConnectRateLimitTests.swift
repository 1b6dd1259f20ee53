import CCP
import ConnectCore
import Foundation
import Ledger
import NIOCore
import Redis
import Synchronization
import Testing

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

    @Test func streamsOverThePerAddressLimitAreRefused() async throws {
        try await withStorage { storage in
            var configuration = ConnectConfiguration()
            configuration.connectRateLimit = .init(limit: 2, window: .seconds(600))
            let service = try await ConnectService.start(
                configuration: configuration, storage: storage, ephemeral: InMemoryEphemeralStore(), ledger: Ledger(sink: NullLedgerSink()),
                logger: quietLogger)
            var codes: [String?] = []
            for address in ["10.0.0.1", "10.0.0.1", "10.0.0.2", "10.0.0.1"] {
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
            #expect(codes == [nil, nil, nil, "rate_limited"])
        }
    }
}
