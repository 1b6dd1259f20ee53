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
        subcommands: [Serve.self, Migrate.self, Token.self, RegisterUser.self, Diagnostics.self, LedgerCommand.self]
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
