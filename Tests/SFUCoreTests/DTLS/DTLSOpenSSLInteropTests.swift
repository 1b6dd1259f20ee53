import Foundation
import NIOCore
import SFUCore
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Interop with an independent DTLS-SRTP stack: the `openssl` command-line tool's s_client and
/// s_server over real UDP on 127.0.0.1, against a DTLSTransport driven by a plain-socket loop.
/// Every wait is bounded; the suite is skipped when /usr/bin/openssl is missing.
@Suite("DTLS interop with openssl s_client/s_server", .serialized,
       .enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/openssl")))
struct DTLSOpenSSLInteropTests {
    @Test("openssl s_client ↔ DTLSTransport server", arguments: SRTPProfile.allCases)
    func opensslClient(profile: SRTPProfile) throws {
        let peer = try OpenSSLPeer()
        defer { try? FileManager.default.removeItem(at: peer.directory) }
        let socket = try UDPSocket()
        let certificate = try DTLSCertificate()
        let transport = try DTLSTransport(configuration: .init(
            role: .server, certificate: certificate, remoteFingerprints: [peer.fingerprint]))
        let process = try peer.run([
            "s_client", "-dtls1_2", "-connect", "127.0.0.1:\(socket.port)", "-use_srtp", profile.openSSLName,
            "-cert", peer.certificatePath, "-key", peer.keyPath,
            "-keymatexport", "EXTRACTOR-dtls_srtp", "-keymatexportlen", "\(profile.keyingMaterialLength)",
        ], stdinOpen: false)
        defer { process.terminateIfRunning() }

        var peerAddress: sockaddr_in?
        var material: (SRTPKeyingMaterial, SRTPProfile)?
        let deadline = NIODeadline.now() + .seconds(10)
        while NIODeadline.now() < deadline, process.isRunning || material == nil {
            var actions: [DTLSAction] = []
            if let (datagram, from) = socket.receive() {
                peerAddress = from
                actions += transport.receive(datagram: datagram, now: .now())
            }
            actions += transport.tick(now: .now())
            for action in actions {
                switch action {
                case .send(let datagram): if let peerAddress { socket.send(datagram, to: peerAddress) }
                case .connected(let keys, let negotiated): material = (keys, negotiated)
                case .failed(let error): Issue.record("transport failed: \(error)")
                case .closed: break
                }
            }
            if case .failed = transport.state { break }
        }
        let output = process.waitForOutput(until: deadline)
        let (keys, negotiated) = try #require(material, "no handshake; openssl said:\n\(output)")
        #expect(negotiated == profile)
        #expect(output.contains("SRTP Extension negotiated, profile=\(profile.openSSLName)"))
        // We are the server: the client's half is our remote half (RFC 5764 §4.2).
        let ours = keys.remoteMasterKey + keys.localMasterKey + keys.remoteMasterSalt + keys.localMasterSalt
        #expect(OpenSSLPeer.keyingMaterial(in: output) == ours)
    }

    @Test("DTLSTransport client ↔ openssl s_server", arguments: SRTPProfile.allCases)
    func opensslServer(profile: SRTPProfile) throws {
        let peer = try OpenSSLPeer()
        defer { try? FileManager.default.removeItem(at: peer.directory) }
        let port = try UDPSocket().port  // closed again at once; s_server binds it
        let process = try peer.run([
            "s_server", "-dtls1_2", "-accept", "\(port)", "-naccept", "1", "-use_srtp",
            profile.openSSLName,
            "-cert", peer.certificatePath, "-key", peer.keyPath, "-verify", "1",
            "-keymatexport", "EXTRACTOR-dtls_srtp", "-keymatexportlen", "\(profile.keyingMaterialLength)",
        ], stdinOpen: true)
        defer { process.terminateIfRunning() }
        let deadline = NIODeadline.now() + .seconds(10)
        #expect(process.waitFor("ACCEPT", until: deadline), "s_server did not start:\n\(process.output)")

        let socket = try UDPSocket()
        var server = sockaddr_in()
        server.sin_family = sa_family_t(AF_INET)
        server.sin_port = in_port_t(port).bigEndian
        server.sin_addr.s_addr = inet_addr("127.0.0.1")
        let certificate = try DTLSCertificate()
        let transport = try DTLSTransport(configuration: .init(
            role: .client, certificate: certificate, remoteFingerprints: [peer.fingerprint]))
        var material: (SRTPKeyingMaterial, SRTPProfile)?
        var actions = transport.startHandshake(now: .now())
        while NIODeadline.now() < deadline {
            for action in actions {
                switch action {
                case .send(let datagram): socket.send(datagram, to: server)
                case .connected(let keys, let negotiated): material = (keys, negotiated)
                case .failed(let error): Issue.record("transport failed: \(error)")
                case .closed: break
                }
            }
            actions = []
            if material != nil { break }
            if case .failed = transport.state { break }
            if let (datagram, _) = socket.receive() { actions += transport.receive(datagram: datagram, now: .now()) }
            actions += transport.tick(now: .now())
        }
        let (keys, negotiated) = try #require(material, "no handshake; openssl said:\n\(process.output)")
        #expect(negotiated == profile)
        #expect(process.waitFor("Keying material: ", until: deadline))
        for case .send(let datagram) in transport.close() { socket.send(datagram, to: server) }
        let output = process.waitForOutput(until: deadline)
        #expect(output.contains("SRTP Extension negotiated, profile=\(profile.openSSLName)"))
        // We are the client: our local half comes first (RFC 5764 §4.2).
        let ours = keys.localMasterKey + keys.remoteMasterKey + keys.localMasterSalt + keys.remoteMasterSalt
        #expect(OpenSSLPeer.keyingMaterial(in: output) == ours)
    }
}

/// A scratch directory with an openssl-generated P-256 certificate, and process helpers.
struct OpenSSLPeer {
    let directory: URL
    let certificatePath: String
    let keyPath: String
    let fingerprint: DTLSFingerprint

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("commucat-dtls-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        certificatePath = directory.appendingPathComponent("cert.pem").path
        keyPath = directory.appendingPathComponent("key.pem").path
        _ = try Self.capture([
            "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-keyout", keyPath, "-out", certificatePath, "-days", "1", "-subj", "/CN=openssl-peer",
        ])
        let text = try Self.capture(["x509", "-in", certificatePath, "-noout", "-fingerprint", "-sha256"])
        // "sha256 Fingerprint=AB:CD:…" (OpenSSL 3.0 wording).
        let hex = text.split(separator: "=").last.map { $0.trimmingCharacters(in: .whitespacesAndNewlines) } ?? ""
        fingerprint = try DTLSFingerprint(algorithm: "sha-256", hex: hex)
    }

    static func capture(_ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: data, as: UTF8.self)
    }

    func run(_ arguments: [String], stdinOpen: Bool) throws -> PeerProcess {
        let outputURL = directory.appendingPathComponent("out-\(UUID().uuidString).txt")
        FileManager.default.createFile(atPath: outputURL.path, contents: nil)
        let handle = try FileHandle(forWritingTo: outputURL)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        process.arguments = arguments.filter { !$0.isEmpty }
        process.standardOutput = handle
        process.standardError = handle
        let input = Pipe()
        process.standardInput = stdinOpen ? input : FileHandle.nullDevice
        try process.run()
        return PeerProcess(process: process, outputURL: outputURL, input: input)
    }

    /// The hex after "Keying material: " in s_client/s_server output.
    static func keyingMaterial(in output: String) -> [UInt8]? {
        guard let range = output.range(of: "Keying material: ") else { return nil }
        let hex = output[range.upperBound...].prefix { $0.isHexDigit }
        return hexBytes(String(hex))
    }
}

final class PeerProcess {
    let process: Process
    let outputURL: URL
    let input: Pipe

    init(process: Process, outputURL: URL, input: Pipe) {
        self.process = process
        self.outputURL = outputURL
        self.input = input
    }

    var isRunning: Bool { process.isRunning }
    var output: String { (try? String(contentsOf: outputURL, encoding: .utf8)) ?? "" }

    func waitFor(_ text: String, until deadline: NIODeadline) -> Bool {
        while NIODeadline.now() < deadline {
            if output.contains(text) { return true }
            if !process.isRunning { return output.contains(text) }
            usleepMilliseconds(10)
        }
        return false
    }

    func waitForOutput(until deadline: NIODeadline) -> String {
        while process.isRunning, NIODeadline.now() < deadline { usleepMilliseconds(10) }
        return output
    }

    func terminateIfRunning() {
        try? input.fileHandleForWriting.close()
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
    }
}

/// A blocking IPv4 UDP socket on 127.0.0.1 with a 20 ms receive timeout.
final class UDPSocket {
    let descriptor: Int32
    let port: UInt16

    init() throws {
        let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        guard fd >= 0 else { throw SocketError() }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let named = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        var timeout = timeval(tv_sec: 0, tv_usec: 20_000)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        guard bound == 0, named == 0 else {
            close(fd)
            throw SocketError()
        }
        descriptor = fd
        port = UInt16(bigEndian: address.sin_port)
    }

    deinit { close(descriptor) }

    func receive() -> (ByteBuffer, sockaddr_in)? {
        var bytes = [UInt8](repeating: 0, count: 65_536)
        var from = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let count = withUnsafeMutablePointer(to: &from) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { recvfrom(descriptor, &bytes, bytes.count, 0, $0, &length) }
        }
        guard count > 0 else { return nil }
        return (ByteBuffer(bytes: bytes.prefix(count)), from)
    }

    func send(_ datagram: ByteBuffer, to address: sockaddr_in) {
        var address = address
        let bytes = Array(datagram.readableBytesView)
        _ = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                sendto(descriptor, bytes, bytes.count, 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
    }

    struct SocketError: Error {}
}
