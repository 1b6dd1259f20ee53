// `commucat-bench`: the benchmarks users run (SPEC §1). Argument parsing only; the work lives in
// the BenchCodecs library. Exit codes: 0 ok, 1 failure, 2 usage.
import ArgumentParser
import BenchCodecs
import BenchMessaging
import BenchSFU
import Foundation

@main
struct CommucatBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "commucat-bench",
        abstract: "CommuCat benchmarks (see docs/BENCHMARKS.md).",
        subcommands: [Codecs.self, SFU.self, Messaging.self]
    )

    /// ArgumentParser exits 64 on usage errors; the project's contract is 2.
    static func main() {
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch let error as BenchError {
            let usage = error.code == "usage"
            FileHandle.standardError.write(Data("commucat-bench: \(error.message)\n".utf8))
            if let hint = error.hint { FileHandle.standardError.write(Data("hint: \(hint)\n".utf8)) }
            Foundation.exit(usage ? 2 : 1)
        } catch {
            let code = exitCode(for: error)
            let message = fullMessage(for: error)
            if code == .success {
                print(message)
                Foundation.exit(0)
            }
            FileHandle.standardError.write(Data((message + "\n").utf8))
            Foundation.exit(code == .validationFailure ? 2 : 1)
        }
    }
}

struct Codecs: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "codecs",
        abstract: "Encode and decode a synthetic sequence with each codec; compare with ffmpeg on the same libraries."
    )

    @Option(help: "Comma-separated codecs: opus, vp8, vp9, av1, h264.") var codec = "opus,vp8,vp9,av1,h264"
    @Option(help: "Picture size WIDTHxHEIGHT.") var size = "1280x720"
    @Option(help: "Video frames per codec (Opus encodes 10× as many 20 ms packets).") var frames = 150
    @Option(help: "Video target bitrate in kbit/s.") var bitrate = 1_500
    @Option(name: .customLong("audio-bitrate"), help: "Opus bitrate in kbit/s.") var audioBitrate = 64
    @Option(help: "Encoder and decoder threads.") var threads = 2
    @Flag(help: "Print JSON instead of the table.") var json = false
    @Flag(help: "Print CSV instead of the table.") var csv = false
    @Option(help: "Also write a bar chart of fps per codec to this PNG file.") var plot: String?
    @Flag(name: .customLong("no-ffmpeg"), help: "Measure CommuCat only.") var noFFmpeg = false
    @Option(help: "The ffmpeg executable.") var ffmpeg = "ffmpeg"

    func validate() throws {
        if json && csv { throw ValidationError("--json and --csv exclude each other") }
    }

    func run() throws {
        var config = CodecBenchConfig()
        var codecs: [BenchCodec] = []
        for name in codec.split(separator: ",") {
            guard let parsed = BenchCodec(rawValue: name.trimmingCharacters(in: .whitespaces).lowercased()) else {
                throw ValidationError("unknown codec '\(name)' (use opus, vp8, vp9, av1, h264)")
            }
            if !codecs.contains(parsed) { codecs.append(parsed) }
        }
        let sides = size.lowercased().split(separator: "x").compactMap { Int($0) }
        guard sides.count == 2 else { throw ValidationError("--size must look like 1280x720") }
        config.codecs = codecs
        config.width = sides[0]
        config.height = sides[1]
        config.frames = frames
        config.bitrateKbps = bitrate
        config.audioBitrateKbps = audioBitrate
        config.threads = threads
        config.compareWithFFmpeg = !noFFmpeg
        config.ffmpegPath = ffmpeg
        config.ffprobePath = ffmpeg.hasSuffix("ffmpeg") ? String(ffmpeg.dropLast(6)) + "ffprobe" : "ffprobe"
        try CodecBenchmark.validate(config)
        let results = try CodecBenchmark(config: config).run()
        let output = json ? try BenchReport.json(results, config: config)
            : csv ? BenchReport.csv(results, config: config) : BenchReport.table(results, config: config)
        FileHandle.standardOutput.write(Data(output.utf8))
        if let plot { try BenchPlot.write(results, config: config, to: plot) }
    }
}

struct SFU: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sfu",
        abstract: "Load the SFU with simulated publishers and subscribers and measure forwarding, loss, delay and server CPU."
    )

    @Option(help: "The server to measure: commucat or janus (Janus VideoRoom's HTTP API at --janus-url).") var target = "commucat"
    @Option(name: .customLong("janus-url"), help: "Janus HTTP API base.") var janusURL = "http://127.0.0.1:8088/janus"
    @Option(name: .customLong("local-ip"), help: "Loopback address the simulated peers bind.") var localIP = "127.0.0.1"
    @Option(help: "livestream, audio-room or meeting.") var scenario = "livestream"
    @Option(help: "Subscribers (per publisher for livestream; listeners for audio-room; ignored for meeting).") var subscribers = 10
    @Option(help: "Participants of a meeting.") var publishers = 4
    @Option(help: "Seconds of each measurement window.") var seconds = 10.0
    @Flag(help: "Raise subscribers step by step until loss > 1 % or the server's CPU saturates.") var ramp = false
    @Option(name: .customLong("server-url"), help: "A running CommuCat (base URL); default: start one.") var serverURL: String?
    @Option(name: .customLong("server-pid"), help: "PID of the running server, for its CPU.") var serverPID: Int32?
    @Option(help: "Room token (Bearer) for a server without anonymous loopback access.") var token: String?
    @Flag(help: "Pin the server to CPU 0 and the load generator to CPU 1.") var pin = false
    @Flag(help: "Print JSON instead of the table.") var json = false
    @Flag(help: "Print CSV instead of the table.") var csv = false
    @Option(help: "Also write a chart of throughput and server CPU against subscribers (PNG).") var plot: String?

    func validate() throws {
        if json && csv { throw ValidationError("--json and --csv exclude each other") }
        guard target == "commucat" || target == "janus" else { throw ValidationError("--target must be commucat or janus") }
        guard SFUBenchConfig.Scenario(rawValue: scenario) != nil else {
            throw ValidationError("--scenario must be one of \(SFUBenchConfig.Scenario.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        if subscribers < 1 || publishers < 2 && scenario == "meeting" { throw ValidationError("need at least 1 subscriber and 2 meeting participants") }
        if seconds <= 0 { throw ValidationError("--seconds must be positive") }
    }

    func run() throws {
        var config = SFUBenchConfig()
        config.scenario = SFUBenchConfig.Scenario(rawValue: scenario) ?? .livestream
        config.subscribers = subscribers
        config.publishers = publishers
        config.seconds = seconds
        config.ramp = ramp
        config.serverURL = serverURL
        config.serverPID = serverPID
        config.token = token
        config.pin = pin
        config.target = target
        config.janusURL = janusURL
        config.localAddress = localIP
        let showProgress = isatty(STDERR_FILENO) == 1
        let benchmark = SFUBenchmark(config: config) { line in
            if showProgress { FileHandle.standardError.write(Data("\r\u{1B}[K\(line)".utf8)) }
        }
        let outcome = BlockingResult<[SFUBenchResult]>()
        Task {
            do { outcome.set(.success(try await benchmark.run())) } catch { outcome.set(.failure(error)) }
        }
        let results: [SFUBenchResult]
        switch outcome.wait() {
        case .success(let value): results = value
        case .failure(let error): throw BenchError(code: "sfu", "\(error)")
        }
        if showProgress { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
        let output = json ? try SFUBenchReport.json(results) : csv ? SFUBenchReport.csv(results) : SFUBenchReport.table(results)
        FileHandle.standardOutput.write(Data((output + "\n").utf8))
        if let plot { try SFUBenchReport.plot(results, to: plot) }
    }
}

struct Messaging: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "messaging",
        abstract: "Paired clients over real /connect sessions send to each other; delivered messages/s and latency, on SQLite or PostgreSQL."
    )

    @Option(help: "Clients (each one device of its own user), in a ring of friends.") var clients = 8
    @Option(help: "Messages each client sends to the next.") var messages = 200
    @Option(help: "Messages a client may have in flight without the server's Ack.") var window = 16
    @Option(name: .customLong("payload-bytes"), help: "Msg payload size.") var payloadBytes = 256
    @Option(help: "Comma-separated storage drivers for the started server: sqlite, postgres.") var storage = "sqlite"
    @Option(name: .customLong("postgres-url"), help: "PostgreSQL for --storage postgres (default: $COMMUCAT_TEST_POSTGRES_URL).") var postgresURL: String?
    @Option(name: .customLong("server-url"), help: "A running CommuCat with server.auto_approve_devices on; default: start one per driver.") var serverURL: String?
    @Flag(help: "Print JSON instead of the table.") var json = false
    @Flag(help: "Print CSV instead of the table.") var csv = false
    @Option(help: "Also write a bar chart of messages/s and latency per driver (PNG).") var plot: String?

    func validate() throws {
        if json && csv { throw ValidationError("--json and --csv exclude each other") }
        if clients < 2 { throw ValidationError("--clients must be at least 2") }
        if messages < 1 || window < 1 || payloadBytes < 16 { throw ValidationError("--messages and --window must be positive, --payload-bytes at least 16") }
        for name in storage.split(separator: ",") where !["sqlite", "postgres"].contains(String(name)) {
            throw ValidationError("--storage takes sqlite and/or postgres")
        }
    }

    func run() throws {
        let showProgress = isatty(STDERR_FILENO) == 1
        var results: [MessagingBenchResult] = []
        let drivers = serverURL == nil ? storage.split(separator: ",").map(String.init) : ["external"]
        for driver in drivers {
            var config = MessagingBenchConfig()
            config.clients = clients
            config.messages = messages
            config.window = window
            config.payloadBytes = payloadBytes
            config.storage = driver
            config.serverURL = serverURL
            config.postgresURL = postgresURL ?? ProcessInfo.processInfo.environment["COMMUCAT_TEST_POSTGRES_URL"]
            let benchmark = MessagingBenchmark(config: config) { line in
                if showProgress { FileHandle.standardError.write(Data("\r\u{1B}[K[\(driver)] \(line)".utf8)) }
            }
            let outcome = BlockingResult<MessagingBenchResult>()
            Task {
                do { outcome.set(.success(try await benchmark.run())) } catch { outcome.set(.failure(error)) }
            }
            switch outcome.wait() {
            case .success(let value): results.append(value)
            case .failure(let error): throw BenchError(code: "messaging", "\(driver): \(error)")
            }
        }
        if showProgress { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
        let output = json ? try MessagingBenchReport.json(results) : csv ? MessagingBenchReport.csv(results) : MessagingBenchReport.table(results)
        FileHandle.standardOutput.write(Data((output + "\n").utf8))
        if let plot { try MessagingBenchReport.plot(results, to: plot) }
    }
}

/// Hands an async result to the synchronous ArgumentParser entry point (the main thread waits;
/// the work runs on the concurrency pool).
final class BlockingResult<Value: Sendable>: @unchecked Sendable {
    private let semaphore = DispatchSemaphore(value: 0)
    private var result: Result<Value, any Error>?

    func set(_ value: Result<Value, any Error>) {
        result = value
        semaphore.signal()
    }

    func wait() -> Result<Value, any Error> {
        semaphore.wait()
        return result ?? .failure(BenchError(code: "sfu", "no result"))
    }
}
