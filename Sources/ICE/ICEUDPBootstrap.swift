import Logging
import NIOCore
import NIOPosix

/// A bound shared media port: the channel and its handler (reach it on `channel.eventLoop`).
public struct ICEUDPServer<Delegate: ICESessionDelegate>: Sendable {
    public let channel: any Channel
    public let handler: NIOLoopBound<ICEUDPHandler<Delegate>>

    /// The bound address (port 0 asks the OS for one).
    public var localAddress: SocketAddress? { channel.localAddress }
}

/// Binds the one UDP socket every ICE session shares (SPEC §3.1), tuned for the hot path
/// (STYLE §3): vectorised reads (`recvmmsg`) into pooled receive buffers (NIO's channel cycles
/// `NIOPooledRecvBufferAllocator` buffers itself) with one MTU-sized slot per message.
public enum ICEUDPBootstrap {
    public struct Options: Sendable {
        /// Datagrams read per `recvmmsg` call (`ChannelOptions.datagramVectorReadMessageCount`).
        public var vectorReadMessageCount: Int
        /// Bytes per receive slot: an MTU with room to spare. Longer datagrams are truncated.
        public var maxDatagramSize: Int
        /// Read calls per event-loop wakeup (`ChannelOptions.maxMessagesPerRead`).
        public var maxMessagesPerRead: UInt
        /// `SO_RCVBUF` in bytes, `nil` keeps the system default.
        public var socketReceiveBufferSize: Int32?

        public init(
            vectorReadMessageCount: Int = 32, maxDatagramSize: Int = 2048, maxMessagesPerRead: UInt = 4,
            socketReceiveBufferSize: Int32? = 4 << 20
        ) {
            self.vectorReadMessageCount = max(1, vectorReadMessageCount)
            self.maxDatagramSize = max(1500, maxDatagramSize)
            self.maxMessagesPerRead = max(1, maxMessagesPerRead)
            self.socketReceiveBufferSize = socketReceiveBufferSize
        }
    }

    /// Binds `host:port` on `eventLoop` with an ``ICEUDPHandler``.
    public static func bind<Delegate: ICESessionDelegate>(
        host: String, port: Int, on eventLoop: any EventLoop, delegate _: Delegate.Type = Delegate.self,
        configuration: ICEUDPHandler<Delegate>.Configuration = .init(), options: Options = Options(),
        logger: Logger = Logger(label: "commucat.ice")
    ) async throws -> ICEUDPServer<Delegate> {
        let handler = try await eventLoop.submit {
            NIOLoopBound(ICEUDPHandler<Delegate>(configuration: configuration, logger: logger), eventLoop: eventLoop)
        }.get()
        var bootstrap = DatagramBootstrap(group: eventLoop)
            .channelOption(.socketOption(.so_reuseaddr), value: 1)
            .channelOption(.datagramVectorReadMessageCount, value: options.vectorReadMessageCount)
            .channelOption(.maxMessagesPerRead, value: options.maxMessagesPerRead)
            // Vector reads split one receive buffer into `vectorReadMessageCount` equal slots.
            .channelOption(
                .recvAllocator,
                value: FixedSizeRecvByteBufferAllocator(capacity: options.vectorReadMessageCount * options.maxDatagramSize)
            )
        if let size = options.socketReceiveBufferSize {
            bootstrap = bootstrap.channelOption(.socketOption(.so_rcvbuf), value: SocketOptionValue(size))
        }
        let channel = try await bootstrap.channelInitializer { channel in
            channel.eventLoop.makeCompletedFuture {
                try channel.pipeline.syncOperations.addHandler(handler.value)
            }
        }.bind(host: host, port: port).get()
        return ICEUDPServer(channel: channel, handler: handler)
    }
}
