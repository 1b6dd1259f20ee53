import Foundation
import Hummingbird
import HummingbirdCore
import HummingbirdHTTP2
import HummingbirdTLS
import Logging
import NIOCore
import NIOSSL
import ServiceLifecycle
import Synchronization

/// A startup failure, for the operator: one line, no stack trace, exit code 1.
public struct StartupError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// Where each listener ended up bound (port 0 in tests picks a free port).
public final class BoundAddresses: Sendable {
    private let state = Mutex<(addresses: [String: SocketAddress], waiters: [CheckedContinuation<Void, Never>])>(([:], []))
    private let expected: Int

    init(expected: Int) { self.expected = expected }

    func record(_ name: String, _ address: SocketAddress?) {
        let ready: [CheckedContinuation<Void, Never>] = state.withLock { state in
            if let address { state.addresses[name] = address }
            guard state.addresses.count >= expected else { return [] }
            defer { state.waiters = [] }
            return state.waiters
        }
        ready.forEach { $0.resume() }
    }

    /// Waits until every listener is bound.
    public func wait() async -> [String: SocketAddress] {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let resumeNow = state.withLock { state -> Bool in
                if state.addresses.count >= expected { return true }
                state.waiters.append(continuation)
                return false
            }
            if resumeNow { continuation.resume() }
        }
        return state.withLock { $0.addresses }
    }

    public var current: [String: SocketAddress] { state.withLock { $0.addresses } }
}

/// One HTTP(S) listener: a Hummingbird application whose bind failures become a clear `StartupError`.
struct ListenerService: Service, CustomStringConvertible {
    let name: String
    let address: ListenAddress
    let application: Application<RouterResponder<CommuCatRequestContext>>

    var description: String { "listener \(name) \(address)" }

    init(
        name: String,
        configKey: String,
        address: ListenAddress,
        responder: RouterResponder<CommuCatRequestContext>,
        server: HTTPServerBuilder,
        logger: Logger,
        bound: BoundAddresses
    ) {
        self.name = configKey
        self.address = address
        self.application = Application(
            responder: responder,
            server: server,
            configuration: .init(address: .hostname(address.host, port: address.port), serverName: "CommuCat"),
            onServerRunning: { channel in bound.record(name, channel.localAddress) },
            eventLoopGroupProvider: .singleton,
            logger: logger
        )
    }

    func run() async throws {
        do {
            try await application.run()
        } catch let error as IOError {
            throw StartupError("cannot listen on \(name) \(address): \(String(cString: strerror(error.errnoCode)).lowercased())")
        } catch let error as SocketAddressError {
            throw StartupError("cannot listen on \(name) \(address): \(error)")
        }
    }
}

/// TLS 1.3 with ALPN h2 + http/1.1 (SPEC §2) from PEM files.
func makeTLSConfiguration(certificatePath: String, keyPath: String) throws(StartupError) -> TLSConfiguration {
    do {
        let chain = try NIOSSLCertificate.fromPEMFile(certificatePath).map { NIOSSLCertificateSource.certificate($0) }
        guard !chain.isEmpty else { throw StartupError("https.cert \(certificatePath) holds no certificate") }
        let key = try NIOSSLPrivateKey(file: keyPath, format: .pem)
        var tls = TLSConfiguration.makeServerConfiguration(certificateChain: chain, privateKey: .privateKey(key))
        tls.minimumTLSVersion = .tlsv13
        tls.applicationProtocols = ["h2", "http/1.1"]
        return tls
    } catch let error as StartupError {
        throw error
    } catch {
        throw StartupError("cannot load the TLS certificate \(certificatePath) / key \(keyPath): \(error)")
    }
}

/// Checks before binding that a TCP address is free, so a busy port is reported with its config key
/// before any other work starts. The real bind still reports a race the same way.
func checkTCPPortFree(_ address: ListenAddress, key: String) throws(StartupError) {
    guard address.port != 0 else { return }
    let socketAddress: SocketAddress
    do {
        socketAddress = try SocketAddress.makeAddressResolvingHost(address.host, port: address.port)
    } catch {
        throw StartupError("\(key) = \"\(address)\": cannot resolve \(address.host)")
    }
    let fd = socket(Int32(socketAddress.protocol.rawValue), Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { return }
    defer { close(fd) }
    var one: Int32 = 1
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
    let result = socketAddress.withSockAddr { pointer, size in bind(fd, pointer, socklen_t(size)) }
    if result != 0 {
        let reason = String(cString: strerror(errno)).lowercased()
        throw StartupError("cannot listen on \(key) \(address): \(reason)")
    }
}
