import CCP
import Foundation
import Logging
import Synchronization

/// A swift-log handler that writes one JSON object per line:
/// `{"ts":"…","level":"info","label":"commucat.http","msg":"…", …metadata}`.
/// Lines go to one file descriptor with one `write(2)` each, so concurrent lines never interleave.
public struct JSONLogHandler: LogHandler {
    public var logLevel: Logger.Level
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?
    private let label: String
    private let output: LogOutput

    public init(label: String, level: Logger.Level, output: LogOutput = .standardOutput) {
        self.label = label
        self.logLevel = level
        self.output = output
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var merged = metadata
        if let provided = metadataProvider?.get() { merged.merge(provided) { _, new in new } }
        if let extra = event.metadata { merged.merge(extra) { _, new in new } }
        var line = "{\"ts\":\"\(Self.timestamp())\",\"level\":\"\(event.level.rawValue)\",\"label\":"
        appendJSONString(label, to: &line)
        line += ",\"msg\":"
        appendJSONString(event.message.description, to: &line)
        for key in merged.keys.sorted() where key != "ts" && key != "level" && key != "msg" && key != "label" {
            line += ","
            appendJSONString(key, to: &line)
            line += ":"
            appendJSON(merged[key] ?? .string(""), to: &line)
        }
        line += "}\n"
        output.write(line)
    }

    private static func timestamp() -> String {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        var tm = tm()
        var seconds = now.tv_sec
        gmtime_r(&seconds, &tm)
        return String(
            format: "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
            tm.tm_sec, now.tv_nsec / 1_000_000)
    }
}

/// A human-readable handler for `log.format = "text"` and for CLI commands.
public struct TextLogHandler: LogHandler {
    public var logLevel: Logger.Level
    public var metadata: Logger.Metadata = [:]
    private let label: String
    private let output: LogOutput

    public init(label: String, level: Logger.Level, output: LogOutput = .standardError) {
        self.label = label
        self.logLevel = level
        self.output = output
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var merged = metadata
        if let extra = event.metadata { merged.merge(extra) { _, new in new } }
        let fields = merged.keys.sorted().map { "\($0)=\(merged[$0].map { "\($0)" } ?? "")" }.joined(separator: " ")
        output.write("\(event.level.rawValue) \(label): \(event.message)\(fields.isEmpty ? "" : " " + fields)\n")
    }
}

/// Where log lines go. A test can capture them.
public struct LogOutput: Sendable {
    private let sink: @Sendable (String) -> Void

    public init(_ sink: @escaping @Sendable (String) -> Void) { self.sink = sink }

    public static let standardOutput = LogOutput { line in writeAll(STDOUT_FILENO, line) }
    public static let standardError = LogOutput { line in writeAll(STDERR_FILENO, line) }

    func write(_ line: String) { sink(line) }
}

func writeAll(_ fd: Int32, _ text: String) {
    var text = text
    text.withUTF8 { buffer in
        var offset = 0
        while offset < buffer.count {
            let n = Glibc.write(fd, buffer.baseAddress.map { $0 + offset }, buffer.count - offset)
            if n <= 0 { return }
            offset += n
        }
    }
}

func appendJSON(_ value: Logger.Metadata.Value, to out: inout String) {
    switch value {
    case .string(let s): appendJSONString(s, to: &out)
    case .stringConvertible(let c):
        if let n = c as? any BinaryInteger { out += "\(n)" } else { appendJSONString(c.description, to: &out) }
    case .array(let a):
        out += "["
        for (i, v) in a.enumerated() {
            if i > 0 { out += "," }
            appendJSON(v, to: &out)
        }
        out += "]"
    case .dictionary(let d):
        out += "{"
        for (i, key) in d.keys.sorted().enumerated() {
            if i > 0 { out += "," }
            appendJSONString(key, to: &out)
            out += ":"
            appendJSON(d[key] ?? .string(""), to: &out)
        }
        out += "}"
    }
}

/// Appends `s` as a JSON string literal (RFC 8259 §7; ``JSONText/appendQuoted(_:to:)``).
func appendJSONString(_ s: String, to out: inout String) {
    JSONText.appendQuoted(s, to: &out)
}

/// Bootstraps swift-log once per process (tests boot several servers in one process).
public enum LoggingBootstrap {
    private static let done = Mutex(false)

    public static func bootstrap(level: Logger.Level, format: CommuCatConfig.LogFormat) {
        done.withLock { done in
            guard !done else { return }
            done = true
            LoggingSystem.bootstrap { label in
                switch format {
                case .json: JSONLogHandler(label: label, level: level)
                case .text: TextLogHandler(label: label, level: level, output: .standardOutput)
                }
            }
        }
    }
}
