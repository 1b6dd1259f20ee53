import Foundation
import Hummingbird
import HummingbirdCore
import HummingbirdWebSocket
import Logging
import NIOCore
import NIOPosix
import Redis
import SFUCore
import Signalling

/// The SFU of a node (SPEC §3): one ``MediaWorker`` bound on `media.udp_listen` (ICE-lite, every
/// session on that one port), the rooms behind WHIP/WHEP (``SFURoomBackend``) and the routes.
struct MediaPlane: Sendable {
    let worker: MediaWorker
    let backend: SFURoomBackend
    let routes: MediaRoutes<SFURoomBackend>
    /// The `/rtc` room WebSocket (SPEC §3.3) over the same rooms.
    let rooms: RoomRoutes
    let tokens: AccessTokens
    let devTokens: Bool

    /// Binds the media port and builds the routes. A port in use is one line naming the key.
    /// `ephemeral` holds the WHIP/WHEP rate-limit counters (`limits.whip_per_minute`); pass the
    /// node's store (Redis in a cluster) to share them, or a private in-memory one is used.
    static func start(
        config: CommuCatConfig, secrets: DataDirectory.Secrets, logger: Logger, ephemeral: (any EphemeralStore)? = nil
    ) async throws(StartupError) -> MediaPlane {
        var workerConfiguration = MediaWorker.Configuration(
            host: config.mediaUDPListen.host, port: config.mediaUDPListen.port, announcedIPs: config.mediaPublicIPs)
        // security (media): the retransmission memory of the worker.
        workerConfiguration.retransmissionBudgetBytes = Int(clamping: config.mediaRetransmissionBudgetBytes)
        let worker: MediaWorker
        do {
            worker = try await MediaWorker.start(
                configuration: workerConfiguration, eventLoop: MultiThreadedEventLoopGroup.singleton.next(),
                logger: Logger(label: "commucat.sfu"))
        } catch {
            throw StartupError(
                "media.udp_listen: cannot bind UDP \(config.mediaUDPListen): \(error) (is another process using the port?)")
        }
        let backend = SFURoomBackend(worker: worker, logger: Logger(label: "commucat.media"))
        let limiter = MediaRateLimiter(
            store: ephemeral ?? InMemoryEphemeralStore(), perMinute: config.whipPerMinute, logger: Logger(label: "commucat.media"))
        var capabilities = MediaCapabilities.standard
        capabilities.maxMediaSections = config.mediaMaxTracksPerOffer
        let configuration = MediaRoutesConfiguration(
            tokens: AccessTokens(apiKey: secrets.apiKey, apiSecret: secrets.apiSecret),
            allowAnonymous: config.allowAnonymous, capabilities: capabilities,
            iceServers: MediaRoutesConfiguration.turnServers(urls: config.turnURLs, secret: config.turnSecret, ttl: config.turnTTL),
            maxBodyBytes: min(Int(config.maxBodyBytes), 256 * 1024), rateLimit: { peer, endpoint in await limiter.decide(peer, endpoint) },
            maxSessionsPerIdentity: config.mediaMaxSessionsPerIdentity, maxSessionsPerIP: config.mediaMaxSessionsPerIP)
        let routes = MediaRoutes(backend: backend, configuration: configuration)
        await backend.setSessionEndedHandler { session in routes.forget(session) }
        let service = RoomService(
            backend: backend,
            configuration: .init(
                capabilities: configuration.capabilities, maxParticipants: config.maxRoomParticipants,
                maxParticipantsPerIdentity: config.maxRoomParticipantsPerIdentity, iceServers: configuration.iceServers),
            logger: Logger(label: "commucat.rooms"))
        let rooms = RoomRoutes(
            service: service, tokens: configuration.tokens, allowAnonymous: config.allowAnonymous,
            sendQueueMessages: config.roomSendQueueMessages)
        if let address = worker.localAddress {
            logger.info("media plane listening", metadata: ["udp": "\(address)", "candidates": "\(worker.localCandidates.count)"])
        }
        return MediaPlane(
            worker: worker, backend: backend, routes: routes, rooms: rooms, tokens: configuration.tokens,
            devTokens: config.devTokensEnabled)
    }

    func register(on router: Hummingbird.Router<CommuCatRequestContext>, adminToken: String?) {
        routes.register(on: router) { _, context in
            MediaPeer(address: context.remoteAddress?.ipAddress, isLoopback: context.isLoopback)
        }
        if devTokens { DevTokenRoute(tokens: tokens).register(on: router) }
        RoomAdminRoutes(rooms: rooms.service, adminToken: adminToken).register(on: router)
    }

    /// The WebSocket upgrades of `/connect` (CCP-1) and `/rtc` (the room protocol), on both
    /// listeners; every other request goes to the router.
    func webSocketUpgrades(connect: ConnectRoutes) -> SecureHTTPChannel.ShouldUpgrade {
        let rooms = self.rooms
        return { request, channel, _ in
            if let handler = connect.webSocketHandler(for: request, remoteAddress: channel.remoteAddress) {
                return .upgrade([:]) { inbound, outbound, _ in await handler(inbound, outbound) }
            }
            let isLoopback = CommuCatRequestContext.isLoopback(channel.remoteAddress, request: request)
            guard let handler = rooms.webSocketHandler(for: request, isLoopback: isLoopback) else { return .dontUpgrade }
            return .upgrade([:]) { inbound, outbound, _ in await handler(inbound, outbound) }
        }
    }

    /// The bound UDP address (port 0 in the configuration picks one).
    var udpAddress: SocketAddress? { worker.localAddress }

    /// Ends every session and closes the port.
    func close() async {
        await backend.closeAll()
        await worker.close()
    }
}
