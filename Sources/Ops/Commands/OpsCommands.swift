import Foundation
import Logging

/// A CLI failure: one line plus a hint, exit code 1 (SPEC §1).
public struct CommandFailure: Error, CustomStringConvertible {
    public var message: String
    public var hint: String?
    public init(_ message: String, hint: String? = nil) {
        self.message = message
        self.hint = hint
    }
    public var description: String { message }
    public var rendered: String { "commucat: \(message)\n" + (hint.map { "hint: \($0)\n" } ?? "") }
}

/// The bodies of the `commucat` subcommands; the executable only parses arguments.
public enum OpsCommands {
    /// `./commucat.toml` when present and no `--config` was given.
    static func resolveConfigPath(_ path: String?) -> String? {
        if let path { return path }
        return FileManager.default.fileExists(atPath: "commucat.toml") ? "commucat.toml" : nil
    }

    static func loadConfig(_ path: String?) throws(CommandFailure) -> CommuCatConfig {
        do {
            return try CommuCatConfig.load(file: resolveConfigPath(path))
        } catch {
            throw CommandFailure(error.description, hint: "see packaging/commucat.toml for every key and its format")
        }
    }

    public static func serve(configPath: String?) async throws(CommandFailure) {
        let config = try loadConfig(configPath)
        LoggingBootstrap.bootstrap(level: config.logLevel, format: config.logFormat)
        let logger = Logger(label: "commucat")
        let server: CommuCatServer
        do {
            server = try await CommuCatServer.build(config: config, logger: logger)
        } catch {
            throw CommandFailure(error.description, hint: hint(for: error.description))
        }
        let banner = Task {
            let addresses = await server.bound.wait()
            writeAll(STDOUT_FILENO, server.banner(addresses: addresses))
            logger.info("listening", metadata: ["addresses": .string(addresses.keys.sorted().map { "\($0)=\(addresses[$0].map(CommuCatServer.hostPort) ?? "")" }.joined(separator: " "))])
        }
        defer { banner.cancel() }
        do {
            try await server.run()
        } catch {
            throw CommandFailure(error.description, hint: hint(for: error.description))
        }
        logger.info("stopped")
    }

    static func hint(for message: String) -> String? {
        if message.contains("address already in use") {
            return "another process holds that port: stop it, or set http.listen / https.listen (COMMUCAT_HTTP_LISTEN, COMMUCAT_HTTPS_LISTEN)"
        }
        if message.contains("PostgreSQL") { return "check storage.url and that the database server is running" }
        if message.contains("data dir") { return "set server.data_dir (COMMUCAT_SERVER_DATA_DIR) to a writable directory" }
        return nil
    }
}
