import Crypto
import Foundation
import Logging
import Redis
import Storage
import X509

/// One row of `commucat diagnostics`.
public struct DiagnosticResult: Sendable, Equatable {
    public enum Status: String, Sendable { case ok, warn, fail, skip }
    public var check: String
    public var status: Status
    public var detail: String
}

extension OpsCommands {
    /// `commucat diagnostics`: checks config, data dir, storage, Redis, ports, TLS certificate and
    /// TURN; prints a table; exits non-zero when a check fails.
    public static func diagnostics(configPath: String?) async throws(CommandFailure) {
        let path = resolveConfigPath(configPath)
        let config: CommuCatConfig
        do {
            config = try CommuCatConfig.load(file: path)
        } catch {
            print(renderDiagnostics([DiagnosticResult(check: "config", status: .fail, detail: error.message)]))
            throw CommandFailure("diagnostics: 1 check failed", hint: "fix the configuration first")
        }
        let results = await runDiagnostics(config: config)
        print(renderDiagnostics(results))
        let failed = results.filter { $0.status == .fail }.count
        if failed > 0 {
            throw CommandFailure("diagnostics: \(failed) check\(failed == 1 ? "" : "s") failed")
        }
    }

    static func runDiagnostics(config: CommuCatConfig) async -> [DiagnosticResult] {
        var results = [DiagnosticResult(check: "config", status: .ok, detail: config.sourceFile ?? "embedded defaults")]
        let dataDirectory = DataDirectory(config.dataDirectoryURL)
        do {
            try dataDirectory.prepare()
            results.append(.init(check: "data dir", status: .ok, detail: dataDirectory.path))
        } catch {
            results.append(.init(check: "data dir", status: .fail, detail: error.description))
        }
        results.append(await storageCheck(config))
        results.append(await redisCheck(config))
        if config.httpEnabled { results.append(tcpPortCheck("http.listen", config.httpListen)) }
        if config.httpsEnabled { results.append(tcpPortCheck("https.listen", config.httpsListen)) }
        results.append(udpPortCheck("media.udp_listen", config.mediaUDPListen))
        if config.httpsEnabled { results.append(certificateCheck(config, dataDirectory)) }
        results.append(contentsOf: turnChecks(config))
        return results
    }

    static func renderDiagnostics(_ results: [DiagnosticResult]) -> String {
        let width = max(5, results.map(\.check.count).max() ?? 5)
        var lines = ["CHECK".padding(toLength: width, withPad: " ", startingAt: 0) + "  STATUS  DETAIL"]
        for r in results {
            lines.append(r.check.padding(toLength: width, withPad: " ", startingAt: 0) + "  " + r.status.rawValue.padding(toLength: 6, withPad: " ", startingAt: 0) + "  " + r.detail)
        }
        return lines.joined(separator: "\n")
    }

    static func storageCheck(_ config: CommuCatConfig) async -> DiagnosticResult {
        let summary = Backends.storageSummary(config.effectiveStorageURL)
        let storage: any Storage
        do {
            storage = try await Backends.openStorage(config: config, logger: cliLogger(config), migrate: false)
        } catch {
            return .init(check: "storage", status: .fail, detail: error.description)
        }
        defer { Task { await storage.close() } }
        do {
            try await storage.ping()
            let status = try await storage.migrationStatus()
            let pending = status.filter { $0.appliedAt == nil }.count
            return .init(
                check: "storage", status: .ok,
                detail: "\(summary), \(status.count - pending) migrations applied" + (pending > 0 ? ", \(pending) pending (applied at start)" : ""))
        } catch {
            return .init(check: "storage", status: .fail, detail: error.description)
        }
    }

    static func redisCheck(_ config: CommuCatConfig) async -> DiagnosticResult {
        guard let url = config.redisURL else {
            return .init(check: "redis", status: .skip, detail: "not configured (presence and rate limits in memory)")
        }
        let parsed: RedisURL
        do {
            parsed = try RedisURL(parsing: url)
        } catch {
            return .init(check: "redis", status: .fail, detail: error.message)
        }
        let client = RedisClient(url: parsed, configuration: .init(connectTimeout: .seconds(3), commandTimeout: .seconds(3)), logger: cliLogger(config))
        defer { Task { await client.close() } }
        do {
            try await client.connect()
            let pong = try await client.ping()
            return .init(check: "redis", status: .ok, detail: "\(parsed) answered \(pong)")
        } catch {
            return .init(check: "redis", status: .fail, detail: "\(parsed): \(error.message)")
        }
    }

    static func tcpPortCheck(_ key: String, _ address: ListenAddress) -> DiagnosticResult {
        do {
            try checkTCPPortFree(address, key: key)
            return .init(check: key, status: .ok, detail: "\(address) is free")
        } catch {
            let inUse = error.description.contains("in use")
            return .init(check: key, status: inUse ? .warn : .fail, detail: inUse ? "\(address) is in use (is commucat already running?)" : error.description)
        }
    }

    static func udpPortCheck(_ key: String, _ address: ListenAddress) -> DiagnosticResult {
        var v4 = sockaddr_in()
        guard inet_pton(AF_INET, address.host, &v4.sin_addr) == 1 else {
            return .init(check: key, status: .warn, detail: "\(address): only IPv4 literals are checked here")
        }
        let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        guard fd >= 0 else { return .init(check: key, status: .fail, detail: "socket: \(errnoReason())") }
        defer { close(fd) }
        v4.sin_family = sa_family_t(AF_INET)
        v4.sin_port = in_port_t(UInt16(address.port).bigEndian)
        let result = withUnsafePointer(to: &v4) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        if result == 0 { return .init(check: key, status: .ok, detail: "\(address) is free") }
        if errno == EADDRINUSE { return .init(check: key, status: .warn, detail: "\(address) is in use (is commucat already running?)") }
        return .init(check: key, status: .fail, detail: "\(address): \(errnoReason())")
    }

    static func certificateCheck(_ config: CommuCatConfig, _ dataDirectory: DataDirectory) -> DiagnosticResult {
        let path = config.httpsCertificatePath ?? dataDirectory.certificatePath
        guard FileManager.default.fileExists(atPath: path) else {
            if config.httpsCertificatePath == nil {
                return .init(check: "tls certificate", status: .ok, detail: "a self-signed certificate will be generated at \(path)")
            }
            return .init(check: "tls certificate", status: .fail, detail: "https.cert \(path) does not exist")
        }
        guard let pem = try? String(contentsOfFile: path, encoding: .utf8), let certificate = try? Certificate(pemEncoded: pem) else {
            return .init(check: "tls certificate", status: .fail, detail: "\(path) is not a PEM certificate")
        }
        let days = Int(certificate.notValidAfter.timeIntervalSinceNow / 86_400)
        if days < 0 { return .init(check: "tls certificate", status: .fail, detail: "\(path) expired \(-days) days ago") }
        let selfSigned = certificate.issuer == certificate.subject ? ", self-signed" : ""
        return .init(check: "tls certificate", status: days < 14 ? .warn : .ok, detail: "\(certificate.subject), expires in \(days) days\(selfSigned)")
    }

    /// Sends a STUN Binding request (RFC 8489 §6) to each UDP TURN/STUN server and waits 2 s for an answer.
    static func turnChecks(_ config: CommuCatConfig) -> [DiagnosticResult] {
        guard !config.turnURLs.isEmpty else { return [.init(check: "turn", status: .skip, detail: "turn.urls not configured")] }
        return config.turnURLs.map { url in
            guard let (host, port, udp) = parseTURNURL(url) else {
                return .init(check: "turn", status: .fail, detail: "cannot parse \(url)")
            }
            guard udp else { return .init(check: "turn", status: .skip, detail: "\(url): only UDP is probed") }
            return stunProbe(host: host, port: port, label: url)
        }
    }

    static func parseTURNURL(_ url: String) -> (host: String, port: Int, udp: Bool)? {
        guard let colon = url.firstIndex(of: ":") else { return nil }
        let scheme = url[..<colon]
        var rest = url[url.index(after: colon)...]
        var udp = scheme != "turns"
        if let q = rest.firstIndex(of: "?") {
            udp = udp && !rest[q...].contains("transport=tcp")
            rest = rest[..<q]
        }
        let defaultPort = scheme == "turns" ? 5349 : 3478
        if let address = ListenAddress(parsing: String(rest)) { return (address.host, address.port, udp) }
        return rest.isEmpty ? nil : (String(rest), defaultPort, udp)
    }

    static func stunProbe(host: String, port: Int, label: String) -> DiagnosticResult {
        var v4 = sockaddr_in()
        guard inet_pton(AF_INET, host, &v4.sin_addr) == 1 || resolveIPv4(host, into: &v4) else {
            return .init(check: "turn", status: .fail, detail: "\(label): cannot resolve \(host)")
        }
        v4.sin_family = sa_family_t(AF_INET)
        v4.sin_port = in_port_t(UInt16(port).bigEndian)
        let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        guard fd >= 0 else { return .init(check: "turn", status: .fail, detail: "socket: \(errnoReason())") }
        defer { close(fd) }
        var timeout = timeval(tv_sec: 2, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        // Binding request: type 0x0001, length 0, magic cookie, 96-bit transaction id.
        var request: [UInt8] = [0x00, 0x01, 0x00, 0x00, 0x21, 0x12, 0xA4, 0x42]
        var generator = SystemRandomNumberGenerator()
        let transaction = (0..<12).map { _ in UInt8.random(in: 0...255, using: &generator) }
        request += transaction
        let started = ContinuousClock.now
        let sent = withUnsafePointer(to: &v4) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { sendto(fd, request, request.count, 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard sent == request.count else { return .init(check: "turn", status: .fail, detail: "\(label): send failed: \(errnoReason())") }
        var reply = [UInt8](repeating: 0, count: 1500)
        let n = recv(fd, &reply, reply.count, 0)
        guard n >= 20 else { return .init(check: "turn", status: .fail, detail: "\(label): no STUN answer within 2 s") }
        guard Array(reply[8..<20]) == transaction else {
            return .init(check: "turn", status: .fail, detail: "\(label): answer with a foreign transaction id")
        }
        let elapsed = ContinuousClock.now - started
        return .init(check: "turn", status: .ok, detail: "\(label) answered a STUN binding in \(elapsed.formatted(.units(allowed: [.milliseconds])))")
    }

    private static func resolveIPv4(_ host: String, into address: inout sockaddr_in) -> Bool {
        var hints = addrinfo()
        hints.ai_family = AF_INET
        hints.ai_socktype = Int32(SOCK_DGRAM.rawValue)
        var result: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, nil, &hints, &result) == 0, let info = result else { return false }
        defer { freeaddrinfo(result) }
        guard let sockaddrPointer = info.pointee.ai_addr else { return false }
        sockaddrPointer.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { address.sin_addr = $0.pointee.sin_addr }
        return true
    }
}
