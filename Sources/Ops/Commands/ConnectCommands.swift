import ConnectCore
import Foundation
import Logging
import Signalling
import Storage

/// `commucat autopair`, `commucat rotate-keys` and `commucat client …` (SPEC §1): bodies over
/// Signalling's pairing, key ring and reference client.
extension OpsCommands {
    /// `commucat autopair --handle H`: creates the user if needed and prints a pairing code.
    public static func autopair(configPath: String?, handle: String, displayName: String?) async throws(CommandFailure) {
        let config = try loadConfig(configPath)
        try prepareDataDirectory(config)
        let storage = try await openCLIStorage(config)
        do {
            let (user, code) = try await PairingCodes.autopair(storage: storage, handle: handle, displayName: displayName, now: Date())
            await storage.close()
            print("pairing code \(code.code) for user \(user.handle) (expires \(ISO8601DateFormatter().string(from: code.expiresAt)))")
            print("on the new device: commucat client pair \(code.code) --server http://\(config.httpListen)")
        } catch {
            await storage.close()
            if error.code == .invalidArgument {
                throw CommandFailure("invalid handle \"\(handle)\"", hint: "a handle is 1–64 of a-z, 0-9, '.', '_' and '-'")
            }
            throw CommandFailure(error.description)
        }
    }

    /// `commucat rotate-keys`: a new Noise static key now; the old ones stay valid for `crypto.noise_grace`.
    public static func rotateKeys(configPath: String?) async throws(CommandFailure) {
        let config = try loadConfig(configPath)
        try prepareDataDirectory(config)
        let storage = try await openCLIStorage(config)
        do {
            let key = try await ConnectCLI.rotateKeys(
                storage: storage, rotationInterval: config.noiseKeyRotationInterval, grace: config.noiseKeyGrace, now: Date())
            await storage.close()
            print("noise key version \(key.version) public \(Hex.encode(key.publicKey)) (older keys stay valid for the grace period)")
        } catch {
            await storage.close()
            throw CommandFailure(error.description)
        }
    }

    private static func openCLIStorage(_ config: CommuCatConfig) async throws(CommandFailure) -> any Storage {
        do {
            return try await Backends.openStorage(config: config, logger: cliLogger(config), migrate: true)
        } catch {
            throw CommandFailure(error.description, hint: hint(for: error.description))
        }
    }

    /// The reference client (`commucat client …`); `server` is the HTTP base URL.
    public enum Client {
        public static func pair(server: String, identityPath: String?, code: String, deviceName: String?) async throws(CommandFailure) {
            let path = identityPath ?? DeviceIdentity.defaultPath
            do {
                let identity = try await ClientCommands.pair(base: server, code: code, identityPath: path, deviceName: deviceName)
                print("paired device \(identity.deviceID) for user \(identity.handle ?? "?"); identity saved to \(path)")
            } catch {
                throw CommandFailure("pairing failed: \(error)", hint: "codes expire after 10 minutes and allow 5 attempts; ask for a new one")
            }
        }

        public static func connect(server: String, identityPath: String?, pattern: String) async throws(CommandFailure) {
            guard ClientCommands.isSupportedPattern(pattern) else {
                throw CommandFailure("unknown pattern \(pattern)", hint: "use XK or IK")
            }
            do {
                try await ClientCommands.connect(
                    base: server, identityPath: identityPath ?? DeviceIdentity.defaultPath, patternName: pattern, print: { Swift.print($0) })
            } catch {
                throw CommandFailure("connect failed: \(error)", hint: "pair first with `commucat client pair CODE`")
            }
        }

        public static func send(server: String, identityPath: String?, to: String, text: String) async throws(CommandFailure) {
            do {
                try await ClientCommands.send(
                    base: server, identityPath: identityPath ?? DeviceIdentity.defaultPath, to: to, text: text, print: { Swift.print($0) })
            } catch {
                throw CommandFailure("send failed: \(error)")
            }
        }

        public static func listen(server: String, identityPath: String?, limit: Int?) async throws(CommandFailure) {
            do {
                try await ClientCommands.listen(
                    base: server, identityPath: identityPath ?? DeviceIdentity.defaultPath, limit: limit ?? .max, print: { Swift.print($0) })
            } catch {
                throw CommandFailure("listen failed: \(error)")
            }
        }
    }
}
