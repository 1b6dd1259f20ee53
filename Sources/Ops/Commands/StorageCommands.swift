import Foundation
import Logging
import Storage

extension OpsCommands {
    /// `commucat migrate`: applies pending migrations and prints what it did.
    public static func migrate(configPath: String?) async throws(CommandFailure) {
        let config = try loadConfig(configPath)
        let logger = cliLogger(config)
        try prepareDataDirectory(config)
        let storage: any Storage
        do {
            storage = try await Backends.openStorage(config: config, logger: logger, migrate: false)
        } catch {
            throw CommandFailure(error.description, hint: hint(for: error.description))
        }
        do {
            let applied = try await storage.migrate()
            let status = try await storage.migrationStatus()
            await storage.close()
            if applied.isEmpty {
                print("storage \(Backends.storageSummary(config.effectiveStorageURL)): up to date (\(status.count) migrations)")
            } else {
                for migration in applied { print("applied \(migration.version) \(migration.name)") }
                print("storage \(Backends.storageSummary(config.effectiveStorageURL)): \(status.count) migrations applied")
            }
        } catch {
            await storage.close()
            throw CommandFailure(error.description)
        }
    }

    /// `commucat register-user HANDLE [--display-name N]`.
    public static func registerUser(configPath: String?, handle: String, displayName: String?) async throws(CommandFailure) {
        guard isValidHandle(handle) else {
            throw CommandFailure("invalid handle \"\(handle)\"", hint: "a handle is 2–32 characters of a-z, 0-9, '.', '_' and '-', starting with a letter or digit")
        }
        let config = try loadConfig(configPath)
        try prepareDataDirectory(config)
        let storage: any Storage
        do {
            storage = try await Backends.openStorage(config: config, logger: cliLogger(config), migrate: true)
        } catch {
            throw CommandFailure(error.description, hint: hint(for: error.description))
        }
        do {
            let user = try await storage.createUser(handle: handle, displayName: displayName, now: Date())
            await storage.close()
            print("created user \(user.handle) (id \(user.id))")
        } catch {
            await storage.close()
            if error.code == .conflict {
                throw CommandFailure("a user with handle \"\(handle)\" already exists")
            }
            throw CommandFailure(error.description)
        }
    }

    /// Handles: 2–32 of a-z 0-9 . _ -, starting with a letter or digit.
    public static func isValidHandle(_ handle: String) -> Bool {
        let bytes = Array(handle.utf8)
        guard (2...32).contains(bytes.count), let first = bytes.first, isLowerAlnum(first) else { return false }
        return bytes.allSatisfy { isLowerAlnum($0) || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: "-") }
    }

    private static func isLowerAlnum(_ b: UInt8) -> Bool {
        (b >= UInt8(ascii: "a") && b <= UInt8(ascii: "z")) || (b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9"))
    }

    static func prepareDataDirectory(_ config: CommuCatConfig) throws(CommandFailure) {
        do {
            try DataDirectory(config.dataDirectoryURL).prepare()
        } catch {
            throw CommandFailure(error.description, hint: hint(for: error.description))
        }
    }

    /// CLI commands log errors only, as text on stderr: their own output says what happened.
    static func cliLogger(_ config: CommuCatConfig) -> Logger {
        Logger(label: "commucat") { label in TextLogHandler(label: label, level: .error) }
    }
}
