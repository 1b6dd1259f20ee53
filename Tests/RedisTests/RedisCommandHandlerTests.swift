import NIOCore
import NIOPosix
import Redis
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

    /// `response == nil`: accept connections and never answer.
    init(response: [UInt8]?) async throws {
        self.channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
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
        let dropped = await eventually(timeout: .seconds(3)) { !client.state.isConnected }
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
        let dropped = await eventually(timeout: .seconds(3)) { !client.state.isConnected }
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
        #expect(ContinuousClock.now - started < .seconds(10))
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
