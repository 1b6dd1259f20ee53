import NIOCore
import NIOPosix
import Redis
import Synchronization
import Testing

/// A TCP server that answers every read with fixed bytes (or never answers), to drive the client
/// into situations a real Redis does not produce.
private final class FakeRedisServer: Sendable {
    private final class Responder: ChannelInboundHandler, Sendable {
        typealias InboundIn = ByteBuffer
        typealias OutboundOut = ByteBuffer
        let response: [UInt8]?

        init(response: [UInt8]?) { self.response = response }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            guard let response else { return }
            context.writeAndFlush(self.wrapOutboundOut(ByteBuffer(bytes: response)), promise: nil)
        }
    }

    let channel: any Channel
    var port: Int { self.channel.localAddress?.port ?? 0 }
    /// Connections accepted so far: a client that dropped its connection and reconnected shows 2.
    private final class Counter: Sendable {
        let value = Atomic<Int>(0)
    }
    private let accepted = Counter()
    var connections: Int { accepted.value.load(ordering: .relaxed) }

    /// `response == nil`: accept connections and never answer.
    init(response: [UInt8]?) async throws {
        self.channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .childChannelInitializer { [accepted] channel in
                accepted.value.add(1, ordering: .relaxed)
                return channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(Responder(response: response))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
    }

    func close() async {
        try? await self.channel.close()
    }
}

@Suite struct RedisCommandHandlerTests {
    @Test func garbageFromTheServerIsAProtocolErrorAndDropsTheConnection() async throws {
        let server = try await FakeRedisServer(response: Array("?garbage\r\n".utf8))
        let client = RedisClient(url: RedisURL(host: "127.0.0.1", port: server.port))
        try await client.connect()
        let error = await #expect(throws: RedisError.self) { try await client.send(["PING"]) }
        #expect(error?.code == .protocol)
        // Dropped: seen disconnected, or already reconnected (a second connection at the server).
        let dropped = await eventually(timeout: .seconds(10)) { !client.state.isConnected || server.connections > 1 }
        #expect(dropped)
        await client.close()
        await server.close()
    }

    @Test func unsolicitedReplyIsAProtocolError() async throws {
        // Two replies for one command: the second has no command waiting.
        let server = try await FakeRedisServer(response: Array("+PONG\r\n+EXTRA\r\n".utf8))
        let client = RedisClient(url: RedisURL(host: "127.0.0.1", port: server.port))
        try await client.connect()
        #expect(try await client.ping() == "PONG")
        // Dropped: seen disconnected, or already reconnected (a second connection at the server).
        let dropped = await eventually(timeout: .seconds(10)) { !client.state.isConnected || server.connections > 1 }
        #expect(dropped)
        await client.close()
        await server.close()
    }

    @Test func silentServerTimesOutHandshakeAndCommands() async throws {
        let server = try await FakeRedisServer(response: nil)
        var url = RedisURL(host: "127.0.0.1", port: server.port)
        url.password = "pw"
        let handshake = RedisClient(url: url, configuration: .init(connectTimeout: .milliseconds(300)))
        let started = ContinuousClock.now
        let error = await #expect(throws: RedisError.self) { try await handshake.connect() }
        #expect(error?.code == .timeout)
        #expect(ContinuousClock.now - started < .seconds(60), "a hang guard, not a timing test")
        await handshake.close()

        let plain = RedisClient(
            url: RedisURL(host: "127.0.0.1", port: server.port),
            configuration: .init(commandTimeout: .milliseconds(200))
        )
        try await plain.connect()
        let pipelined = await #expect(throws: RedisError.self) { try await plain.pipeline([["PING"], ["PING"]]) }
        #expect(pipelined?.code == .timeout)
        await plain.close()
        await server.close()
    }
}
