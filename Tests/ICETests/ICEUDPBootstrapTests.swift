import NIOCore
import NIOPosix
import SFUWire
import Testing
@testable import ICE

/// End to end over real UDP on 127.0.0.1: a tiny client talks to the bound handler.
@Suite struct ICEUDPBootstrapTests {
    typealias Datagram = AddressedEnvelope<ByteBuffer>

    @Test(.timeLimit(.minutes(1)))
    func clientCheckIsVerifiedAndDTLSReachesTheSession() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let server = try await ICEUDPBootstrap.bind(host: "127.0.0.1", port: 0, on: group.next(), delegate: RecordingDelegate.self)
        let serverAddress = try #require(server.localAddress)
        let delegate = RecordingDelegate()
        _ = try await server.channel.eventLoop.submit {
            try server.handler.value.register(local: TestCredentials.server, remote: TestCredentials.client, delegate: delegate)
        }.get()

        let client = try await DatagramBootstrap(group: group).bind(host: "127.0.0.1", port: 0) { channel in
            channel.eventLoop.makeCompletedFuture {
                try NIOAsyncChannel<Datagram, Datagram>(wrappingChannelSynchronously: channel)
            }
        }
        let clientAddress = try #require(client.channel.localAddress)

        try await client.executeThenClose { inbound, outbound in
            var responses = inbound.makeAsyncIterator()
            // Garbage first: random bytes, unclassifiable first bytes, truncated STUN. None answered.
            var random = SplitMix64(state: 42)
            let check = CheckBuilder(useCandidate: true)
            var garbageCount = 0
            for index in 0..<60 {
                var bytes: [UInt8]
                if index % 2 == 0 {
                    bytes = Array(Array(buffer: check.bytes).prefix(index % 40))  // truncated STUN
                    if bytes.isEmpty { bytes = [0] }
                } else {
                    bytes = (0..<(1 + index * 7)).map { _ in UInt8.random(in: 0...255, using: &random) }
                    bytes[0] = UInt8.random(in: 64...127, using: &random)  // RFC 7983: nothing we serve
                }
                try await outbound.write(Datagram(remoteAddress: serverAddress, data: ByteBuffer(bytes: bytes)))
                garbageCount += 1
            }

            try await outbound.write(Datagram(remoteAddress: serverAddress, data: check.bytes))
            let reply = try #require(try await responses.next())
            let response = try STUNMessage(bytes: reply.data)
            #expect(response.type == .bindingSuccess)
            #expect(response.transactionID == check.transactionID)
            #expect(response.verifyMessageIntegrity(key: serverKey))
            #expect(response.hasValidFingerprint)
            #expect(response.xorMappedAddress == STUNAddress(clientAddress))

            // A DTLS-classified datagram from the validated 5-tuple reaches the session delegate.
            try await outbound.write(Datagram(remoteAddress: serverAddress, data: ByteBuffer(bytes: [22, 254, 253, 0, 0, 0, 0])))
            var packets = delegate.packetStream.makeAsyncIterator()
            #expect(await packets.next() == .dtls)
            #expect(delegate.events.withLock { $0.selected.count } == 1)

            let drops = try await server.channel.eventLoop.submit { server.handler.value.drops }.get()
            #expect(drops[.malformedSTUN] + drops[.unclassifiable] == UInt64(garbageCount))
        }
        try await server.channel.close()
        try await group.shutdownGracefully()
    }
}
