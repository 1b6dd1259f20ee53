import Foundation
import Hummingbird
import HummingbirdCore
import HummingbirdHTTP2
import HummingbirdTLS
import Logging
import Messaging
import Metrics
import NIOCore
import ServiceLifecycle
import Signalling
import Synchronization
import UnixSignals

/// The composition root (STYLE §1: `buildServer(config)`): everything `commucat serve` runs, built from
/// one validated configuration. Tests boot it in-process on port 0.
public struct CommuCatServer: Sendable {
    public static let version = "0.1.0"

    public let config: CommuCatConfig
    /// The API key and secret (configured, or generated into the data dir) that sign room tokens.
    public let secrets: DataDirectory.Secrets
    public let bound: BoundAddresses
    public let backends: Backends
    /// The SFU: media UDP port, rooms, WHIP/WHEP.
    let media: MediaPlane
    /// `/connect`, pairing and devices (Signalling).
    public let connect: ConnectService
    /// Channels, inboxes, groups, presence (Messaging).
    public let messaging: MessagingService
    let logger: Logger
    let listeners: [ListenerService]
    private let running = RunningGroup()

    /// Prepares the data dir, secrets, certificate, storage (with migrations), Redis and ledger, and
    /// the HTTP routes. Any failure is one `StartupError` line; nothing is left half-open.
    public static func build(config: CommuCatConfig, logger: Logger = Logger(label: "commucat")) async throws(StartupError)
        -> CommuCatServer
    {
        CommuCatMetrics.bootstrap()
        Gauge(label: "commucat_build_info", dimensions: [("version", version)]).record(1)
        CommuCatRequestContext.bodyLimit.store(Int(config.maxBodyBytes), ordering: .relaxed)

        let dataDirectory = DataDirectory(config.dataDirectoryURL)
        do {
            try dataDirectory.prepare()
        } catch {
            throw StartupError(error.description)
        }
        if config.httpEnabled { try checkTCPPortFree(config.httpListen, key: "http.listen") }
        if config.httpsEnabled { try checkTCPPortFree(config.httpsListen, key: "https.listen") }

        var tls: TLSConfiguration?
        if config.httpsEnabled {
            let paths: (cert: String, key: String)
            if let cert = config.httpsCertificatePath, let key = config.httpsKeyPath {
                paths = (cert, key)
            } else {
                do {
                    paths = try dataDirectory.ensureSelfSignedCertificate(domain: config.domain)
                } catch {
                    throw StartupError(error.description)
                }
            }
            tls = try makeTLSConfiguration(certificatePath: paths.cert, keyPath: paths.key)
        }

        let secrets: DataDirectory.Secrets
        if let key = config.apiKey, let secret = config.apiSecret {
            secrets = .init(apiKey: key, apiSecret: secret)
        } else {
            do {
                secrets = try dataDirectory.loadOrCreateSecrets()
            } catch {
                throw StartupError(error.description)
            }
        }

        let backends = try await Backends.open(config: config, dataDirectory: dataDirectory, logger: logger)
        let media: MediaPlane
        do {
            media = try await MediaPlane.start(config: config, secrets: secrets, logger: logger, ephemeral: backends.ephemeral)
        } catch {
            await backends.close()
            throw error
        }

        let connectConfiguration = ConnectConfiguration(config)
        let messaging = MessagingService(
            configuration: .init(relayTTL: config.relayTTL, presenceTTL: .seconds(3 * connectConfiguration.keepaliveInterval)),
            storage: backends.storage, presence: PresenceBoard(shared: backends.redis == nil ? nil : backends.ephemeral, logger: logger),
            ledger: backends.ledger, logger: logger)
        let connect: ConnectService
        do {
            connect = try await ConnectService.start(
                configuration: connectConfiguration, storage: backends.storage, ephemeral: backends.ephemeral, ledger: backends.ledger,
                delegate: MessagingConnectDelegate(messaging: messaging), logger: logger)
        } catch {
            await media.close()
            await backends.close()
            throw StartupError("cannot load the server keys: \(error)")
        }
        let connectRoutes = ConnectRoutes(service: connect, messaging: messaging)

        let router = Router(context: CommuCatRequestContext.self)
        router.add(middleware: ProblemMiddleware())
        // security (listeners): loopback trust needs a Host/Origin of this server (DNS rebinding).
        let trust = LoopbackTrust(config: config)
        router.add(middleware: LoopbackTrustMiddleware(trust: trust))
        connectRoutes.register(on: router)
        OpsRoutes(
            readiness: backends.readiness,
            adminToken: config.adminToken,
            openAPIJSON: OpenAPIDocument.json(logger: logger),
            version: version
        ).register(on: router)
        IndexPage(config: config).register(on: router)
        media.register(on: router, adminToken: config.adminToken)
        let responder = router.buildResponder()

        var listeners: [ListenerService] = []
        let expected = (config.httpEnabled ? 1 : 0) + (config.httpsEnabled ? 1 : 0)
        let bound = BoundAddresses(expected: expected)
        // security (listeners): one set of connection caps and timeouts for both listeners.
        let guards = ListenerGuards(config: config)
        let upgrades = ListenerGuards.upgrades(media.webSocketUpgrades(connect: connectRoutes), trust: trust)
        if config.httpEnabled {
            listeners.append(
                ListenerService(
                    name: "http", configKey: "http.listen", address: config.httpListen, responder: responder,
                    server: .guardedHTTP1(shouldUpgrade: upgrades, guards: guards), logger: logger, bound: bound))
        }
        if let tls {
            do {
                listeners.append(
                    ListenerService(
                        name: "https", configKey: "https.listen", address: config.httpsListen, responder: responder,
                        server: try .secureWithWebSockets(tlsConfiguration: tls, shouldUpgrade: upgrades, guards: guards),
                        logger: logger, bound: bound))
            } catch {
                await media.close()
                await backends.close()
                throw StartupError("cannot configure TLS for https.listen: \(error)")
            }
        }
        return CommuCatServer(
            config: config, secrets: secrets, bound: bound, backends: backends, media: media, connect: connect, messaging: messaging,
            logger: logger, listeners: listeners)
    }

    /// Runs until one of `signals` (graceful: listeners stop accepting, in-flight requests finish,
    /// backends flush and close) or until the task is cancelled.
    public func run(gracefulShutdownSignals signals: [UnixSignal] = [.sigterm, .sigint]) async throws(StartupError) {
        let closer = BackendCloser(backends: backends, media: media, logger: logger)
        let services: [ServiceGroupConfiguration.ServiceConfiguration] =
            [.init(service: closer)] + backends.services.map { .init(service: $0) }
            + listeners.map { .init(service: $0, successTerminationBehavior: .gracefullyShutdownGroup) }
            // Last, so that it is shut down first: live /connect streams end before the listeners drain.
            + [.init(service: ConnectDrainService(connect: connect, messaging: messaging))]
        var configuration = ServiceGroupConfiguration(services: services, gracefulShutdownSignals: signals, logger: logger)
        configuration.maximumGracefulShutdownDuration = config.shutdownGrace
        let group = ServiceGroup(configuration: configuration)
        running.set(group)
        do {
            try await group.run()
            await media.close()
            await backends.close()
        } catch let error as StartupError {
            await media.close()
            await backends.close()
            throw error
        } catch let error as ServiceGroupError {
            await media.close()
            await backends.close()
            throw StartupError("shutdown: \(error)")
        } catch {
            await media.close()
            await backends.close()
            throw StartupError("\(error)")
        }
    }

    /// Starts the same graceful shutdown as SIGTERM (for tests and embedding).
    public func shutdown() async {
        await running.get()?.triggerGracefulShutdown()
    }

    /// The banner printed once every listener is bound.
    public func banner(addresses: [String: SocketAddress]) -> String {
        var lines = ["CommuCat \(Self.version) is running (\(config.sourceFile.map { "config \($0)" } ?? "embedded defaults"))"]
        let base = addresses["http"].map { "http://\(Self.hostPort($0))" } ?? addresses["https"].map { "https://\(Self.hostPort($0))" }
        if let a = addresses["http"] {
            lines.append("  http   http://\(Self.hostPort(a))/")
            lines.append("  demo   http://\(Self.hostPort(a))/?room=demo&name=guest&autojoin=1  (rooms: /rtc)")
        }
        if let a = addresses["https"] { lines.append("  https  https://\(Self.hostPort(a))/  (TLS 1.3, h2 + http/1.1)") }
        if let a = media.udpAddress {
            lines.append("  media  udp \(Self.hostPort(a))  (ICE-lite; WHIP /whip/{room}, WHEP /whep/{room})")
        }
        if let base {
            lines.append("  health \(base)/healthz   ready \(base)/readyz   metrics \(base)/metrics")
            lines.append("  API    \(base)/openapi.json")
        }
        lines.append(contentsOf: backends.summary.map { "  " + $0 })
        lines.append("  data   \(config.dataDirectoryURL.path)")
        return lines.joined(separator: "\n") + "\n"
    }

    static func hostPort(_ address: SocketAddress) -> String {
        let host = address.ipAddress ?? "localhost"
        let port = address.port ?? 0
        return host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }
}

/// Closes the backends after the listeners have stopped (services shut down in reverse order).
struct BackendCloser: Service {
    let backends: Backends
    let media: MediaPlane
    let logger: Logger

    func run() async throws {
        try? await gracefulShutdown()
        logger.info("draining: closing media sessions, storage, Redis and ledger")
        await media.close()
        await backends.close()
    }
}

/// Rotates the Noise static key every `crypto.noise_rotation_interval` until shutdown, then ends the
/// live `/connect` sessions (WebSocket, HTTP/2, SSE, long-poll) so that the listeners can drain.
struct ConnectDrainService: Service {
    let connect: ConnectService
    let messaging: MessagingService

    func run() async throws {
        await cancelWhenGracefulShutdown {
            async let rotation: Void = connect.runKeyRotation()
            async let purge: Void = messaging.runPurge()
            _ = await (rotation, purge)
        }
        await connect.drain()
    }
}

extension ConnectConfiguration {
    /// The `/connect` settings of a validated configuration.
    init(_ config: CommuCatConfig) {
        self.init(
            domain: config.domain, prologue: config.cryptoPrologue, autoApproveDevices: config.autoApproveDevices,
            noiseRotationInterval: config.noiseKeyRotationInterval, noiseGrace: config.noiseKeyGrace,
            keepaliveInterval: Int(config.keepaliveInterval.components.seconds), pairingTTL: config.pairingTTL,
            pairingMaxAttempts: config.pairingMaxAttempts,
            connectRateLimit: .init(limit: config.connectPerMinute, window: .seconds(60)),
            pairClaimRateLimit: .init(limit: config.pairClaimPerMinute, window: .seconds(60)),
            pairCreateRateLimit: .init(limit: config.pairCreatePerMinute, window: .seconds(60)))
        self.turnURLs = config.turnURLs
        self.handshakeTimeout = config.handshakeTimeout
        self.handshakesPerAddress = config.connectHandshakesPerIP
    }
}

/// The service group of a running server, so that `shutdown()` can reach it.
final class RunningGroup: Sendable {
    private let group = Mutex<ServiceGroup?>(nil)
    func set(_ value: ServiceGroup) { group.withLock { $0 = value } }
    func get() -> ServiceGroup? { group.withLock { $0 } }
}
