// `commucat`: parses arguments and calls into Ops. Exit codes (SPEC §1): 0 ok, 1 runtime failure,
// 2 usage error; errors go to stderr as one line plus a hint.
import ArgumentParser
import Foundation
import Ops

@main
struct Commucat: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "commucat",
        abstract: "CommuCat: a self-hosted SFU appliance with Noise-secured signalling.",
        version: CommuCatServer.version,
        subcommands: [
            Serve.self, Migrate.self, Token.self, RegisterUser.self, Autopair.self, RotateKeys.self, Diagnostics.self, LedgerCommand.self,
            Client.self,
        ]
    )

    static func main() async {
        do {
            var command = try parseAsRoot()
            if var asyncCommand = command as? AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch let failure as CommandFailure {
            FileHandle.standardError.write(Data(failure.rendered.utf8))
            Foundation.exit(1)
        } catch {
            let code = exitCode(for: error)
            if code == .success {
                print(fullMessage(for: error))
                Foundation.exit(0)
            }
            FileHandle.standardError.write(Data(("commucat: " + fullMessage(for: error) + "\n").utf8))
            // ArgumentParser's usage errors (EX_USAGE, 64) are SPEC §1's exit code 2.
            Foundation.exit(code == .validationFailure || code.rawValue == 64 ? 2 : code.rawValue == 0 ? 0 : 1)
        }
    }
}

struct ConfigOption: ParsableArguments {
    @Option(name: .long, help: "Path to commucat.toml (default: ./commucat.toml if present, else embedded defaults).")
    var config: String?
}

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run the server until SIGTERM/SIGINT, then drain gracefully.")
    @OptionGroup var options: ConfigOption

    func run() async throws {
        try await OpsCommands.serve(configPath: options.config)
    }
}

struct Migrate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Apply pending storage migrations (versioned, idempotent, transactional).")
    @OptionGroup var options: ConfigOption

    func run() async throws {
        try await OpsCommands.migrate(configPath: options.config)
    }
}

struct Token: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Print a room access token (JWT HS256 signed with the API secret).")
    @OptionGroup var options: ConfigOption
    @Option(help: "The room the token admits to.") var room: String
    @Option(help: "The participant identity (the token's sub).") var identity: String
    @Flag(help: "Grant publishing.") var publish = false
    @Flag(help: "Grant subscribing.") var subscribe = false
    @Option(help: "Lifetime: 90s, 30m, 1h, 7d or whole seconds.") var ttl = "1h"

    func run() async throws {
        print(
            try await OpsCommands.token(
                configPath: options.config, room: room, identity: identity, publish: publish, subscribe: subscribe, ttl: ttl))
    }
}

struct RegisterUser: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "register-user", abstract: "Create a user.")
    @OptionGroup var options: ConfigOption
    @Argument(help: "The user's handle (2–32 of a-z 0-9 . _ -).") var handle: String
    @Option(name: .customLong("display-name"), help: "A display name.") var displayName: String?

    func run() async throws {
        try await OpsCommands.registerUser(configPath: options.config, handle: handle, displayName: displayName)
    }
}

struct Diagnostics: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check config, storage, Redis, UDP port, TLS certificate and TURN; exit non-zero on failure.")
    @OptionGroup var options: ConfigOption

    func run() async throws {
        try await OpsCommands.diagnostics(configPath: options.config)
    }
}

struct LedgerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ledger", abstract: "Audit ledger tools.", subcommands: [Verify.self])

    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Verify the hash chain of a ledger file.")
        @Argument(help: "The ledger file (JSON Lines).") var file: String

        func run() async throws {
            try OpsCommands.ledgerVerify(path: file)
        }
    }
}

struct Autopair: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Create a user if needed and print a pairing code for a first device.")
    @OptionGroup var options: ConfigOption
    @Option(help: "The user's handle (1–64 of a-z 0-9 . _ -).") var handle: String
    @Option(name: .customLong("display-name"), help: "A display name for a new user.") var displayName: String?

    func run() async throws {
        try await OpsCommands.autopair(configPath: options.config, handle: handle, displayName: displayName)
    }
}

struct RotateKeys: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rotate-keys", abstract: "Rotate the server's Noise static key now (old keys stay valid for the grace period).")
    @OptionGroup var options: ConfigOption

    func run() async throws {
        try await OpsCommands.rotateKeys(configPath: options.config)
    }
}

/// `commucat client …`: the reference CCP-1 client.
struct Client: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "A reference CCP-1 client (pair, connect, send, listen).", subcommands: [Pair.self, Connect.self, Send.self, Listen.self])

    struct Common: ParsableArguments {
        @Option(help: "The server's HTTP base URL.") var server = "http://127.0.0.1:8080"
        @Option(help: "The device identity file (default $COMMUCAT_CLIENT_IDENTITY or ~/.config/commucat/device.json).")
        var identity: String?
    }

    struct Pair: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Claim a pairing code with a key pair generated here.")
        @OptionGroup var common: Common
        @Argument(help: "The pairing code (XXXX-XXXX).") var code: String
        @Option(name: .customLong("device-name"), help: "A name for this device.") var deviceName: String?

        func run() async throws {
            try await OpsCommands.Client.pair(server: common.server, identityPath: common.identity, code: code, deviceName: deviceName)
        }
    }

    struct Connect: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Handshake, check a keepalive round trip, print the session.")
        @OptionGroup var common: Common
        @Option(help: "Noise pattern: XK or IK.") var pattern = "XK"

        func run() async throws {
            try await OpsCommands.Client.connect(server: common.server, identityPath: common.identity, pattern: pattern)
        }
    }

    struct Send: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Send a text message to a device.")
        @OptionGroup var common: Common
        @Option(help: "The recipient device id.") var to: String
        @Argument(help: "The text.") var text: String

        func run() async throws {
            try await OpsCommands.Client.send(server: common.server, identityPath: common.identity, to: to, text: text)
        }
    }

    struct Listen: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print every frame received until the stream closes.")
        @OptionGroup var common: Common
        @Option(help: "Stop after this many frames.") var limit: Int?

        func run() async throws {
            try await OpsCommands.Client.listen(server: common.server, identityPath: common.identity, limit: limit)
        }
    }
}
