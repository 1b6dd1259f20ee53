import Foundation

/// Where a configuration value came from, so that an error can point at it.
enum ConfigOrigin: Sendable, Equatable {
    case file(String)
    case environment(String)
    case embeddedDefault

    var suffix: String {
        switch self {
        case .file(let path): " (in \(path))"
        case .environment(let name): " (from \(name))"
        case .embeddedDefault: ""
        }
    }
}

/// A configuration error: the key, the value, and what was expected. One line, no stack trace.
public struct ConfigError: Error, CustomStringConvertible, Equatable {
    public var message: String
    public var description: String { "config: \(message)" }

    init(_ message: String) { self.message = message }

    static func invalid(_ key: String, _ shown: String, expected: String, origin: ConfigOrigin) -> ConfigError {
        ConfigError("\(key) = \(shown): expected \(expected)\(origin.suffix)")
    }
}

/// The raw values of a configuration before typing: the TOML file, overlaid by `COMMUCAT_*` environment
/// variables (SPEC §2: `COMMUCAT_<SECTION>_<KEY>` in capitals).
struct ConfigSource {
    enum Raw {
        case toml(TOMLValue)
        case env(String)
    }

    private(set) var values: [String: (raw: Raw, origin: ConfigOrigin)] = [:]

    /// Reads `file` (if any) and the environment, rejecting keys that no part of CommuCat reads.
    init(file: String?, environment: [String: String], knownKeys: [String]) throws(ConfigError) {
        let known = Set(knownKeys)
        if let file {
            let text: String
            do {
                text = try String(contentsOfFile: file, encoding: .utf8)
            } catch {
                throw ConfigError("cannot read \(file): \(Self.reason(error))")
            }
            let root: [String: TOMLValue]
            do {
                root = try parseTOML(text)
            } catch {
                throw ConfigError("\(file): \(error.description)")
            }
            var flat: [(String, TOMLValue)] = []
            Self.flatten(root, prefix: "", into: &flat)
            for (key, value) in flat {
                guard known.contains(key) else {
                    let hint = Self.suggestion(for: key, among: knownKeys).map { " (did you mean \($0)?)" } ?? ""
                    throw ConfigError("unknown key \(key) in \(file)\(hint)")
                }
                values[key] = (.toml(value), .file(file))
            }
        }
        for key in knownKeys {
            let name = Self.environmentName(for: key)
            if let value = environment[name] {
                values[key] = (.env(value), .environment(name))
            }
        }
    }

    static func environmentName(for key: String) -> String {
        "COMMUCAT_" + key.replacingOccurrences(of: ".", with: "_").uppercased()
    }

    private static func flatten(_ table: [String: TOMLValue], prefix: String, into out: inout [(String, TOMLValue)]) {
        for (key, value) in table {
            let path = prefix.isEmpty ? key : "\(prefix).\(key)"
            if case .table(let inner) = value, prefix.isEmpty {
                flatten(inner, prefix: path, into: &out)
            } else {
                out.append((path, value))
            }
        }
    }

    private static func suggestion(for key: String, among known: [String]) -> String? {
        let section = key.split(separator: ".").first.map(String.init) ?? key
        let last = key.split(separator: ".").last.map(String.init) ?? key
        return known.first { $0.hasSuffix("." + last) } ?? known.first { $0.hasPrefix(section + ".") && $0.contains(last) }
    }

    private static func reason(_ error: Error) -> String {
        let ns = error as NSError
        if let underlying = ns.userInfo[NSUnderlyingErrorKey] as? NSError, underlying.domain == NSPOSIXErrorDomain,
            let code = POSIXErrorCode(rawValue: Int32(underlying.code))
        {
            return String(cString: strerror(code.rawValue))
        }
        if ns.domain == NSCocoaErrorDomain, ns.code == NSFileReadNoSuchFileError { return "no such file" }
        return ns.localizedDescription
    }

    // MARK: Typed access

    func string(_ key: String) throws(ConfigError) -> String? {
        guard let (raw, origin) = values[key] else { return nil }
        switch raw {
        case .env(let s): return s
        case .toml(.string(let s)): return s
        case .toml(let other): throw .invalid(key, Self.show(other), expected: "a string", origin: origin)
        }
    }

    func bool(_ key: String) throws(ConfigError) -> Bool? {
        guard let (raw, origin) = values[key] else { return nil }
        switch raw {
        case .env(let s):
            switch s.lowercased() {
            case "true", "1", "yes", "on": return true
            case "false", "0", "no", "off": return false
            default: throw .invalid(key, "\"\(s)\"", expected: "true or false", origin: origin)
            }
        case .toml(.bool(let b)): return b
        case .toml(let other): throw .invalid(key, Self.show(other), expected: "true or false", origin: origin)
        }
    }

    func integer(_ key: String, range: ClosedRange<Int64>) throws(ConfigError) -> Int64? {
        guard let (raw, origin) = values[key] else { return nil }
        let expected = "an integer from \(range.lowerBound) to \(range.upperBound)"
        let value: Int64
        switch raw {
        case .env(let s):
            guard let v = Int64(s.replacingOccurrences(of: "_", with: "")) else {
                throw .invalid(key, "\"\(s)\"", expected: expected, origin: origin)
            }
            value = v
        case .toml(.integer(let v)): value = v
        case .toml(let other): throw .invalid(key, Self.show(other), expected: expected, origin: origin)
        }
        guard range.contains(value) else { throw .invalid(key, "\(value)", expected: expected, origin: origin) }
        return value
    }

    /// A duration: an integer number of seconds, or a string such as `"90s"`, `"15m"`, `"1h"`, `"30d"`.
    func duration(_ key: String) throws(ConfigError) -> Duration? {
        guard let (raw, origin) = values[key] else { return nil }
        let expected = "a duration such as \"30s\", \"15m\", \"1h\" or \"7d\" (or whole seconds)"
        switch raw {
        case .toml(.integer(let seconds)) where seconds >= 0:
            return .seconds(seconds)
        case .toml(.string(let s)), .env(let s):
            guard let d = parseDuration(s) else { throw .invalid(key, "\"\(s)\"", expected: expected, origin: origin) }
            return d
        case .toml(let other):
            throw .invalid(key, Self.show(other), expected: expected, origin: origin)
        }
    }

    /// An array of strings; from the environment, a comma-separated list.
    func strings(_ key: String) throws(ConfigError) -> [String]? {
        guard let (raw, origin) = values[key] else { return nil }
        switch raw {
        case .env(let s):
            return s.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        case .toml(.array(let elements)):
            var out: [String] = []
            for element in elements {
                guard case .string(let s) = element else {
                    throw .invalid(key, Self.show(.array(elements)), expected: "an array of strings", origin: origin)
                }
                out.append(s)
            }
            return out
        case .toml(.string(let s)): return [s]
        case .toml(let other): throw .invalid(key, Self.show(other), expected: "an array of strings", origin: origin)
        }
    }

    func origin(of key: String) -> ConfigOrigin { values[key]?.origin ?? .embeddedDefault }

    static func show(_ value: TOMLValue) -> String {
        switch value {
        case .string(let s): "\"\(s)\""
        case .integer(let i): "\(i)"
        case .float(let f): "\(f)"
        case .bool(let b): "\(b)"
        case .array(let a): "[" + a.map(show).joined(separator: ", ") + "]"
        case .table: "{…}"
        }
    }
}

/// Parses `"90s"`, `"15m"`, `"1h"`, `"7d"`, `"250ms"` or a bare number of seconds.
func parseDuration(_ text: String) -> Duration? {
    let s = text.trimmingCharacters(in: .whitespaces)
    let units: [(String, Int64)] = [("ms", 1), ("s", 1000), ("m", 60_000), ("h", 3_600_000), ("d", 86_400_000)]
    for (suffix, millis) in units where s.hasSuffix(suffix) {
        let number = s.dropLast(suffix.count)
        if suffix == "s", number.hasSuffix("m") { continue }
        guard let n = Int64(number), n >= 0, n <= Int64.max / millis else { return nil }
        return .milliseconds(n * millis)
    }
    guard let n = Int64(s), n >= 0 else { return nil }
    return .seconds(n)
}
