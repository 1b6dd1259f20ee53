import Logging
import NIOCore
import SFUWire

/// The thin I/O wrapper around ``ICESessionTable`` for the one UDP socket shared by all sessions.
///
/// Classifies each datagram by its first byte (RFC 7983 §7): STUN goes to the table and its
/// agents, whose responses are written with `promise: nil` and flushed once per read batch
/// (`channelReadComplete`); DTLS, RTP and RTCP go to the session's ``ICESessionDelegate``; anything
/// else is dropped and counted. One repeated task on the channel's event loop runs the agents'
/// consent and nomination timers.
///
/// Confined to its channel's event loop: call every method there (use `NIOLoopBound`).
public final class ICEUDPHandler<Delegate: ICESessionDelegate>: ChannelInboundHandler {
    public typealias InboundIn = AddressedEnvelope<ByteBuffer>
    public typealias OutboundOut = AddressedEnvelope<ByteBuffer>

    public struct Configuration: Sendable {
        /// Applied to every session's agent.
        public var agent: ICEAgent.Configuration
        /// How often the agents' timers run.
        public var tickInterval: TimeAmount

        public init(agent: ICEAgent.Configuration = ICEAgent.Configuration(), tickInterval: TimeAmount = .seconds(1)) {
            self.agent = agent
            self.tickInterval = tickInterval
        }
    }

    public let configuration: Configuration
    /// The sessions and their routes; drop counters in ``ICESessionTable/drops``.
    public private(set) var table: ICESessionTable<Delegate>
    private let clock: () -> ICEInstant
    private let logger: Logger
    private var context: ChannelHandlerContext?
    private var tickTask: RepeatedTask?
    private var readBatchOpen = false
    private var flushPending = false
    /// The socket is IPv6 (dual-stack): IPv4 peers are addressed as IPv4-mapped IPv6.
    private var ipv6Socket = false

    /// - Parameter clock: the monotonic clock for the agents; reads `NIODeadline.now()` unless a
    ///   test injects one.
    public init(
        configuration: Configuration = Configuration(), logger: Logger = Logger(label: "commucat.ice"),
        clock: @escaping () -> ICEInstant = { ICEInstant(NIODeadline.now()) }
    ) {
        self.configuration = configuration
        self.table = ICESessionTable()
        self.clock = clock
        self.logger = logger
    }

    // MARK: Sessions

    /// Registers a session; checks for `local.ufrag` are answered from now on.
    public func register(local: ICECredentials, remote: ICECredentials?, delegate: Delegate) throws(ICEError) -> ICESessionHandle {
        try table.register(
            local: local, remote: remote, context: delegate, configuration: configuration.agent, now: clock(),
            allocator: context?.channel.allocator ?? ByteBufferAllocator()
        )
    }

    /// ICE restart: the session answers checks for `local` from now on.
    public func restart(local: ICECredentials, for session: ICESessionHandle) throws(ICEError) {
        try table.restart(session, local: local)
    }

    /// Sets a session's remote credentials once the peer's SDP arrives.
    public func setRemoteCredentials(_ remote: ICECredentials, for session: ICESessionHandle) throws(ICEError) {
        try table.setRemoteCredentials(remote, for: session)
    }

    /// Removes a session and its routes. Safe to call from a delegate callback.
    public func remove(_ session: ICESessionHandle) {
        table.remove(session)
    }

    /// Drops by reason.
    public var drops: ICEDropCounters { table.drops }

    // MARK: Writing

    /// Writes a datagram (e.g. DTLS or SRTP from the session owner). Inside a read batch the flush
    /// waits for `channelReadComplete`; outside one it happens now.
    public func write(_ buffer: ByteBuffer, to remote: SocketAddress) {
        guard let context else { return }
        context.write(wrapOutboundOut(AddressedEnvelope(remoteAddress: remote, data: buffer)), promise: nil)
        if readBatchOpen { flushPending = true } else { context.flush() }
    }

    /// The socket address for a STUN transport address on this socket's family.
    public func socketAddress(for address: STUNAddress) -> SocketAddress {
        SocketAddress(ipv6Socket ? address.ipv4MappedIfNeeded : address)
    }

    // MARK: Channel events

    public func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        if context.channel.isActive { start(context: context) }
    }

    public func handlerRemoved(context: ChannelHandlerContext) {
        tickTask?.cancel()
        tickTask = nil
        self.context = nil
    }

    public func channelActive(context: ChannelHandlerContext) {
        start(context: context)
        context.fireChannelActive()
    }

    public func channelInactive(context: ChannelHandlerContext) {
        tickTask?.cancel()
        tickTask = nil
        context.fireChannelInactive()
    }

    private func start(context: ChannelHandlerContext) {
        if case .v6 = context.channel.localAddress { ipv6Socket = true }
        guard tickTask == nil else { return }
        let this = NIOLoopBound(self, eventLoop: context.eventLoop)
        let interval = configuration.tickInterval
        tickTask = context.eventLoop.scheduleRepeatedTask(initialDelay: interval, delay: interval) { _ in
            this.value.tick()
        }
    }

    public func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        readBatchOpen = true
        let envelope = unwrapInboundIn(data)
        guard let source = STUNAddress(envelope.remoteAddress) else {
            table.recordDrop(.unclassifiable)
            return
        }
        let kind = PacketClass(classifying: envelope.data)
        switch kind {
        case .stun:
            receivedSTUN(envelope, from: source, context: context)
        case .dtls, .rtp, .rtcp:
            guard let (session, delegate) = table.routeNonSTUN(from: source) else { return }
            delegate.iceSession(session, didReceive: envelope.data, kind: kind, from: envelope.remoteAddress)
        case .turnChannel, .unknown:
            table.recordDrop(.unclassifiable)
        }
    }

    private func receivedSTUN(_ envelope: AddressedEnvelope<ByteBuffer>, from source: STUNAddress, context: ChannelHandlerContext) {
        let message: STUNMessage
        do {
            message = try STUNMessage(bytes: envelope.data)
        } catch {
            table.recordDrop(.malformedSTUN)
            return
        }
        guard case .session(let session, let delegate, let action) = table.receivedSTUN(message, from: source, now: clock())
        else { return }
        switch action {
        case .send(let response, _):
            // The response goes back to the exact socket address the request came from.
            context.write(wrapOutboundOut(AddressedEnvelope(remoteAddress: envelope.remoteAddress, data: response)), promise: nil)
            flushPending = true
        case .sendAndSelectPair(let response, _):
            context.write(wrapOutboundOut(AddressedEnvelope(remoteAddress: envelope.remoteAddress, data: response)), promise: nil)
            flushPending = true
            delegate.iceSession(session, didSelectPair: envelope.remoteAddress)
        case .none, .drop, .selectedPair, .consentExpired, .failed:
            perform(action, session: session, delegate: delegate)
        }
    }

    public func channelReadComplete(context: ChannelHandlerContext) {
        readBatchOpen = false
        if flushPending {
            flushPending = false
            context.flush()
        }
        context.fireChannelReadComplete()
    }

    public func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // UDP errors (ICMP port unreachable surfacing as ECONNREFUSED, …) concern one peer, never
        // the port: log and keep serving.
        logger.debug("UDP error on the ICE port", metadata: ["error": "\(error)"])
    }

    // MARK: Timers

    /// Runs every agent's timers now (the repeated task calls this each `tickInterval`).
    public func tick() {
        var events: [(ICESessionHandle, Delegate, ICEAgent.Action)] = []
        table.tick(now: clock()) { session, delegate, action in events.append((session, delegate, action)) }
        // Delegates run after the table is done mutating, so they may remove their session.
        for (session, delegate, action) in events {
            perform(action, session: session, delegate: delegate)
        }
    }

    private func perform(_ action: ICEAgent.Action, session: ICESessionHandle, delegate: Delegate) {
        switch action {
        case .none, .drop:
            break
        case .send(let buffer, let remote):
            write(buffer, to: socketAddress(for: remote))
        case .sendAndSelectPair(let buffer, let remote):
            write(buffer, to: socketAddress(for: remote))
            delegate.iceSession(session, didSelectPair: socketAddress(for: remote))
        case .selectedPair(let remote):
            delegate.iceSession(session, didSelectPair: socketAddress(for: remote))
        case .consentExpired:
            delegate.iceSessionConsentExpired(session)
        case .failed(let reason):
            delegate.iceSession(session, didFail: reason)
        }
    }
}

/// Confined to its channel's event loop; share it through `NIOLoopBound`.
@available(*, unavailable)
extension ICEUDPHandler: Sendable {}
