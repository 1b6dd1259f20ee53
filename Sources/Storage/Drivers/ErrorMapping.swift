import Foundation
import NIOCore
import NIOPosix
import PostgresNIO
import SQLiteNIO

/// Turns driver errors into `StorageError`s: the mapping from PostgreSQL SQLSTATEs and SQLite result
/// codes to stable storage codes is written once, here.
enum ErrorMapping {
    /// Maps an error thrown while running statements. `StorageError`s pass through unchanged.
    static func map(_ error: any Error, context: String) -> StorageError {
        if let storage = error as? StorageError { return storage }
        if let psql = error as? PSQLError {
            if psql.code == .server, let state = psql.serverInfo?[.sqlState] {
                let detail = psql.serverInfo?[.message] ?? state
                switch state {
                case "23505": return .conflict("\(context): already exists (\(detail))")
                case "23503": return .notFound("\(context): referenced row")
                case "23514", "22003", "22001", "23502": return .invalid("\(context): \(detail)")
                case "28P01", "28000": return StorageError(code: .authentication, message: "\(context): \(detail)")
                default: return .internal("\(context): PostgreSQL error \(state): \(detail)")
                }
            }
            if [.connectionError, .serverClosedConnection, .clientClosedConnection, .poolClosed, .uncleanShutdown].contains(psql.code) {
                return StorageError(code: .unreachable, message: "\(context): lost connection to PostgreSQL (\(reason(psql)))")
            }
            return .internal("\(context): \(reason(psql))")
        }
        if let sqlite = error as? SQLiteError {
            switch sqlite.reason {
            case .constraintUniqueFailed, .constraintPrimaryKeyFailed:
                return .conflict("\(context): already exists (\(sqlite.message))")
            case .constraintForeignKeyFailed:
                return .notFound("\(context): referenced row")
            case .constraintCheckFailed, .constraintNotNullFailed, .mismatch, .tooBig, .range:
                return .invalid("\(context): \(sqlite.message)")
            case .constraint:
                return .conflict("\(context): \(sqlite.message)")
            default:
                return .internal("\(context): SQLite error: \(sqlite.message)")
            }
        }
        return .internal("\(context): \(reason(error))")
    }

    /// A short, lower-case, one-line cause for connection-level failures, e.g. `connection refused`.
    static func reason(_ error: any Error) -> String {
        switch error {
        case let psql as PSQLError:
            if psql.code == .server {
                let message = psql.serverInfo?[.message] ?? "server error"
                let state = psql.serverInfo?[.sqlState].map { " [\($0)]" } ?? ""
                return message + state
            }
            if let underlying = psql.underlying { return reason(underlying) }
            if psql.code == .serverClosedConnection { return "connection closed by the server or network" }
            return String(describing: psql.code)
        case let failure as NIOConnectionError:
            if let first = failure.connectionErrors.first { return reason(first.error) }
            if failure.dnsAError != nil || failure.dnsAAAAError != nil { return "cannot resolve host \(failure.host)" }
            return "connection failed"
        case let io as IOError:
            return String(cString: strerror(io.errnoCode)).lowercased()
        case let channel as ChannelError:
            if case .connectTimeout(let amount) = channel {
                return "timed out after \(amount.nanoseconds / 1_000_000_000) s"
            }
            return String(describing: channel)
        case let sqlite as SQLiteError:
            return sqlite.message
        case let storage as StorageError:
            return storage.message
        default:
            return StorageError.singleLine(String(describing: error))
        }
    }
}
