// `commucat-bench codecs`: runs every selected codec through the Swift owners and through ffmpeg.
import Codecs
import Foundation

public struct CodecBenchmark {
    public let config: CodecBenchConfig
    public let progress: BenchProgress

    public init(config: CodecBenchConfig, progress: BenchProgress = BenchProgress()) {
        self.config = config
        self.progress = progress
    }

    /// Checks the configuration before any work starts (a failure here is a usage error).
    public static func validate(_ config: CodecBenchConfig) throws(BenchError) {
        guard !config.codecs.isEmpty else { throw BenchError(code: "usage", "no codec selected") }
        guard (16...8_192).contains(config.width), (16...8_192).contains(config.height),
              config.width % 2 == 0, config.height % 2 == 0
        else { throw BenchError(code: "usage", "size must be even, 16...8192 on each side", hint: "e.g. --size 1280x720") }
        guard (1...100_000).contains(config.frames) else { throw BenchError(code: "usage", "--frames must be 1...100000") }
        guard (10...100_000).contains(config.bitrateKbps) else { throw BenchError(code: "usage", "--bitrate must be 10...100000 kbit/s") }
        guard (6...510).contains(config.audioBitrateKbps) else { throw BenchError(code: "usage", "--audio-bitrate must be 6...510 kbit/s") }
        guard (1...64).contains(config.threads) else { throw BenchError(code: "usage", "--threads must be 1...64") }
    }

    public func run() throws -> [CodecBenchResult] {
        try Self.validate(config)
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("commucat-bench-codecs-\(getpid())")
        do { try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true) } catch {
            throw BenchError(code: "temp_file", "cannot create \(directory.path): \(error)")
        }
        defer { try? FileManager.default.removeItem(at: directory) }
        let ffmpeg = FFmpegRunner(config: config, progress: progress, directory: directory)
        let decoders = config.compareWithFFmpeg ? try FFmpegRunner.decoders(ffmpeg: config.ffmpegPath) : []
        let ours = CommuCatRunner(config: config, progress: progress)
        var results: [CodecBenchResult] = []
        let steps = config.codecs.count * (config.compareWithFFmpeg ? 2 : 1)
        for (index, codec) in config.codecs.enumerated() {
            let step = index * (config.compareWithFFmpeg ? 2 : 1)
            progress.begin(codec: step, of: steps)
            let measurement: CodecMeasurement
            do { measurement = try ours.run(codec) } catch let error as CodecError {
                throw BenchError(code: error.code.rawValue, "\(codec.rawValue): \(error)")
            }
            var theirs: CodecMeasurement?
            var names: String?
            if config.compareWithFFmpeg {
                progress.begin(codec: step + 1, of: steps)
                theirs = try ffmpeg.run(codec, decoders: decoders)
                let libraries = FFmpegRunner.libraries(codec, decoders: decoders)
                names = "\(libraries.encoder) / \(libraries.decoder)"
            }
            results.append(CodecBenchResult(codec: codec, commucat: measurement, ffmpeg: theirs, ffmpegLibraries: names))
        }
        progress.finish()
        return results
    }
}
