import CCP
import ConnectCore
import Crypto
import Foundation
import Logging
import NIOCore

/// The bodies of `commucat client pair CODE | connect | send --to DEVICE TEXT | listen`.
/// `base` is the server's HTTP URL (e.g. `http://127.0.0.1:8080`); output lines go to `print`.
public enum ClientCommands {
    /// Generates a device key pair locally, claims `code`, and saves the identity (mode 0600).
    public static func pair(base: String, code: String, identityPath: String, deviceName: String? = nil) async throws -> DeviceIdentity {
        var identity = DeviceIdentity.generate()
        let deviceKey = try identity.deviceKey()
        var body: [String: Any] = ["pair_code": code, "device_public": Hex.encode(deviceKey.publicKey.rawRepresentation), "device_id": identity.deviceID]
        if let deviceName { body["device_name"] = deviceName }
        let reply = try await ClientHTTP.json("POST", base + "/api/pair/claim", body: body)
        identity.deviceID = reply["device_id"] as? String ?? identity.deviceID
        identity.certificate = reply["certificate"] as? String
        identity.server = base
        // Pin the server's device CA and Noise key now (trust on first use), and check that the
        // certificate we were just given is the CA's.
        let info = try await ClientHTTP.serverInfo(base: base)
        if let text = identity.certificate, let bytes = Hex.decode(text), let certificate = try? DeviceCertificate(parsing: bytes),
            let ca = try? Curve25519.Signing.PublicKey(rawRepresentation: info.deviceCAPublic)
        {
            do {
                try certificate.verify(caPublic: ca, now: Date())
            } catch {
                throw ClientHTTP.Failure(status: 201, code: "certificate", detail: "the pairing certificate is not signed by server-info's device CA")
            }
        }
        identity.serverCAPublic = Hex.encode(info.deviceCAPublic)
        identity.serverNoisePublic = Hex.encode(info.noisePublic)
        if let user = reply["user"] as? [String: Any] {
            identity.userID = user["id"] as? String
            identity.handle = user["handle"] as? String
        }
        try identity.save(path: identityPath)
        return identity
    }

    /// `ws(s)://host/connect` for an `http(s)://host` base.
    public static func webSocketURL(base: String) -> String {
        var url = base
        if url.hasPrefix("https://") { url = "wss://" + url.dropFirst("https://".count) } else if url.hasPrefix("http://") {
            url = "ws://" + url.dropFirst("http://".count)
        }
        while url.hasSuffix("/") { url.removeLast() }
        return url + "/connect"
    }

    /// Fetches server-info and prepares the connection options for `identity`.
    public static func connection(base: String, identity: DeviceIdentity, pattern: NoisePattern, handle: String? = nil) async throws -> CCPClientConnection {
        let info = try await ClientHTTP.serverInfo(base: base)
        let key = try info.trustedNoiseKey(
            pinnedCA: identity.serverCAPublic.flatMap(Hex.decode), pinnedNoise: identity.serverNoisePublic.flatMap(Hex.decode))
        let user = handle.map { HandshakeMessages.Hello.User(handle: $0, displayName: nil) }
        return CCPClientConnection(
            identity: identity,
            options: .init(pattern: pattern, domain: info.domain, prologue: info.prologue, serverStatic: key, user: user))
    }

    /// Connects, checks a Keepalive round trip, stores a renewed certificate, prints the Ack.
    @discardableResult
    public static func connect(base: String, identityPath: String, pattern: NoisePattern = .xk, print: @escaping @Sendable (String) -> Void) async throws
        -> HandshakeMessages.Ack
    {
        let identity = try DeviceIdentity.load(path: identityPath)
        let connection = try await connection(base: base, identity: identity, pattern: pattern)
        let ack = try await CCPWebSocketClient.connect(url: webSocketURL(base: base), connection: connection) { session in
            guard let ack = session.ack else { throw CCPClientError(code: "decode", detail: "no Ack") }
            let echoed = try await session.keepalive(nonce: "cli-\(UInt32.random(in: 0...UInt32.max))")
            print("connected device \(identity.deviceID) user \(ack.user.handle) session \(ack.session) keepalive \(echoed ? "ok" : "lost")")
            await session.close()
            return ack
        }
        var updated = identity
        updated.certificate = ack.deviceCertificate
        if updated.serverCAPublic != nil { updated.serverNoisePublic = Hex.encode(connection.options.serverStatic) }
        try updated.save(path: identityPath)
        return ack
    }

    /// Whether `name` (case-insensitive) is a pattern the client speaks (`XK`, `IK`).
    public static func isSupportedPattern(_ name: String) -> Bool { NoisePattern(rawValue: name.uppercased()) != nil }

    /// ``connect(base:identityPath:pattern:print:)`` with the pattern by name (for the CLI).
    public static func connect(base: String, identityPath: String, patternName: String, print: @escaping @Sendable (String) -> Void) async throws {
        guard let pattern = NoisePattern(rawValue: patternName.uppercased()) else {
            throw CCPClientError(code: "pattern", detail: "unknown pattern \(patternName)")
        }
        try await connect(base: base, identityPath: identityPath, pattern: pattern, print: print)
    }

    /// Opens channel 1 to `to` with `Join {members:[to]}`, sends `text` as a Msg, prints the replies
    /// (Ack or Error) and closes.
    public static func send(base: String, identityPath: String, to: String, text: String, print: @escaping @Sendable (String) -> Void) async throws {
        let identity = try DeviceIdentity.load(path: identityPath)
        let connection = try await connection(base: base, identity: identity, pattern: .xk)
        try await CCPWebSocketClient.connect(url: webSocketURL(base: base), connection: connection) { session in
            let members = String(decoding: try JSONSerialization.data(withJSONObject: ["members": [to]]), as: UTF8.self)
            try await session.send(CCPFrame(type: .join, channelID: 1, sequence: session.nextSequence(), json: members))
            try await session.send(CCPFrame(type: .msg, channelID: 1, sequence: session.nextSequence(), payload: ByteBuffer(string: text)))
            for _ in 0..<2 {
                guard let reply = try await session.next() else { break }
                print(describe(reply))
            }
            await session.close()
        }
    }

    /// Prints every frame received until the stream closes or `limit` frames arrived; acknowledges
    /// each inbox entry after printing it; sends a Keepalive every keepalive interval.
    public static func listen(base: String, identityPath: String, limit: Int = .max, print: @escaping @Sendable (String) -> Void) async throws {
        let identity = try DeviceIdentity.load(path: identityPath)
        let connection = try await connection(base: base, identity: identity, pattern: .xk)
        try await CCPWebSocketClient.connect(url: webSocketURL(base: base), connection: connection) { session in
            print("listening as \(identity.deviceID)")
            let interval = session.ack?.keepaliveInterval ?? 30
            let keepalives = Task {
                while !Task.isCancelled {
                    try await Task.sleep(for: .seconds(interval))
                    try await session.send(CCPFrame(type: .keepalive, channelID: 0, sequence: session.nextSequence(), json: "{}"))
                }
            }
            defer { keepalives.cancel() }
            var count = 0
            while count < limit, let frame = try await session.next() {
                if frame.type != .keepalive {
                    print(describe(frame))
                    count += 1
                }
                // An inbox entry stays queued until acknowledged (SPEC §4.4); printing it is receiving it.
                if isInboxEntry(frame) {
                    try await session.send(CCPFrame(type: .ack, channelID: frame.channelID, sequence: session.nextSequence(), json: "{\"ack\":\(frame.sequence)}"))
                }
            }
        }
    }

    /// Msg, Typing, KeyUpdate and GroupEvent from the server with a sequence are inbox entries, which
    /// the device acknowledges with `Ack {ack: sequence}` on the same channel.
    public static func isInboxEntry(_ frame: CCPFrame) -> Bool {
        frame.sequence > 0 && [.msg, .typing, .keyUpdate, .groupEvent].contains(frame.type)
    }

    static func describe(_ frame: CCPFrame) -> String {
        let payload = frame.type.carriesJSON ? String(buffer: frame.payload) : "\(frame.payload.readableBytes) bytes: \(String(buffer: frame.payload))"
        return "\(frame.type) channel \(frame.channelID) seq \(frame.sequence) \(payload)"
    }
}
