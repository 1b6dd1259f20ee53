import Foundation
import Signalling

extension OpsCommands {
    /// `commucat token --room R --identity I [--publish] [--subscribe] [--ttl 1h]`: prints a room
    /// access token (SPEC §3.4) signed with the configured or generated API secret.
    public static func token(configPath: String?, room: String, identity: String, publish: Bool, subscribe: Bool, ttl: String)
        async throws(CommandFailure) -> String
    {
        let config = try loadConfig(configPath)
        let secrets: DataDirectory.Secrets
        if let key = config.apiKey, let secret = config.apiSecret {
            secrets = .init(apiKey: key, apiSecret: secret)
        } else {
            try prepareDataDirectory(config)
            do {
                secrets = try DataDirectory(config.dataDirectoryURL).loadOrCreateSecrets()
            } catch {
                throw CommandFailure(error.description)
            }
        }
        do {
            return try await TokenCommand(room: room, identity: identity, publish: publish, subscribe: subscribe, ttl: ttl)
                .run(apiKey: secrets.apiKey, apiSecret: secrets.apiSecret, now: Date())
        } catch let usage as TokenCommand.UsageError {
            throw CommandFailure(usage.description, hint: "--ttl takes 90s, 30m, 1h, 7d or whole seconds")
        } catch {
            throw CommandFailure("cannot sign the token: \(error)")
        }
    }
}
