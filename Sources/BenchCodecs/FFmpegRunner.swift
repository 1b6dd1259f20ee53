// The ffmpeg side: the same libraries driven by the `ffmpeg` command line with the same settings,
// fed the same synthetic sequence as raw I420 (or s16le) from a temporary file. Speed is ffmpeg's
// own `-benchmark` real time (`rtime`) of the run, which includes reading the input file from the
// page cache and writing the output (small) on top of the codec work.
import Codecs
import Foundation

struct FFmpegRunner {
    let config: CodecBenchConfig
    let progress: BenchProgress
    let directory: URL

    /// ffmpeg encoder and decoder names per codec. ffmpeg on Debian has no libopenh264 decoder,
    /// so H.264 decodes with ffmpeg's own decoder there (noted in the report).
    static func libraries(_ codec: BenchCodec, decoders: Set<String>) -> (encoder: String, decoder: String) {
        switch codec {
        case .opus: ("libopus", "libopus")
        case .vp8: ("libvpx", "libvpx")
        case .vp9: ("libvpx-vp9", "libvpx-vp9")
        case .av1: ("libaom-av1", "libdav1d")
        case .h264: ("libx264", decoders.contains("libopenh264") ? "libopenh264" : "h264")
        }
    }

    /// The names of ffmpeg's decoders (`ffmpeg -decoders`).
    static func decoders(ffmpeg: String) throws -> Set<String> {
        let output = try run(ffmpeg, ["-hide_banner", "-decoders"]).stdout
        var names = Set<String>()
        for line in output.split(separator: "\n") {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            if fields.count >= 2, fields[0].count == 6 { names.insert(String(fields[1])) }
        }
        return names
    }

    func run(_ codec: BenchCodec, decoders: Set<String>) throws -> CodecMeasurement {
        let (encoderName, decoderName) = Self.libraries(codec, decoders: decoders)
        let threads = String(config.threads)
        let input: [String]
        let sourceURL: URL
        if codec.isVideo {
            sourceURL = try writeVideoSource()
            input = ["-f", "rawvideo", "-pix_fmt", "yuv420p", "-s", "\(config.width)x\(config.height)",
                     "-r", String(config.framerate), "-i", sourceURL.path]
        } else {
            sourceURL = try writeAudioSource()
            input = ["-f", "s16le", "-ar", "48000", "-ac", "2", "-i", sourceURL.path]
        }
        let container = codec == .h264 ? "h264" : codec == .opus ? "ogg" : "ivf"
        let encoded = directory.appendingPathComponent("ffmpeg-\(codec.rawValue).\(container)")
        progress.update("\(codec.rawValue) ffmpeg encode", 0.1)
        let encodeSeconds = try benchmark(["-threads", threads] + [] + input + ["-threads", threads] + encoderArguments(codec, encoderName) + ["-f", container, "-y", encoded.path])
        progress.update("\(codec.rawValue) ffmpeg decode", 0.4)
        let decodeSeconds = try benchmark(["-threads", threads, "-c:\(codec.isVideo ? "v" : "a")", decoderName, "-i", encoded.path, "-f", "null", "-"])
        progress.update("\(codec.rawValue) ffmpeg quality", 0.7)
        let payloadBytes = try packetBytes(encoded)
        let count = codec.isVideo ? config.frames : config.audioPackets
        let seconds = codec.isVideo ? Double(config.frames) / Double(config.framerate) : Double(count) * 0.02
        let decodedURL = directory.appendingPathComponent("ffmpeg-\(codec.rawValue).raw")
        let format = codec.isVideo ? ["-f", "rawvideo", "-pix_fmt", "yuv420p"] : ["-f", "s16le", "-ac", "2", "-ar", "48000"]
        _ = try Self.run(config.ffmpegPath, ["-hide_banner", "-nostdin", "-loglevel", "error", "-threads", threads,
                                             "-c:\(codec.isVideo ? "v" : "a")", decoderName, "-i", encoded.path] + format + ["-y", decodedURL.path])
        let quality = codec.isVideo ? try videoQuality(source: sourceURL, decoded: decodedURL) : try audioQuality(source: sourceURL, decoded: decodedURL)
        try? FileManager.default.removeItem(at: decodedURL)
        return CodecMeasurement(
            encodeFPS: Double(count) / encodeSeconds, decodeFPS: Double(count) / decodeSeconds,
            bitrateKbps: Double(payloadBytes * 8) / seconds / 1_000,
            psnrY: quality.y, psnr: quality.overall, frames: count)
    }

    /// Encoder options equal to the owners' settings (CBR where the owner is CBR, zero lag, no
    /// frame dropping, same quantizer range, keyframe interval, speed and threads).
    private func encoderArguments(_ codec: BenchCodec, _ name: String) -> [String] {
        let rate = "\(config.bitrateKbps)k"
        let cbr = ["-b:v", rate, "-minrate", rate, "-maxrate", rate]
        let gop = ["-g", String(config.keyframeInterval)]
        switch codec {
        case .opus:
            return ["-c:a", name, "-b:a", "\(config.audioBitrateKbps)k", "-application", "voip", "-frame_duration", "20",
                    "-compression_level", "10", "-vbr", "constrained"]
        case .vp8, .vp9:
            return ["-c:v", name, "-deadline", "realtime", "-cpu-used", String(codec == .vp8 ? config.vp8CpuUsed : config.vp9CpuUsed), "-lag-in-frames", "0",
                    "-qmin", "2", "-qmax", "56", "-drop-threshold", "0"] + cbr + gop
        case .av1:
            return ["-c:v", name, "-usage", "realtime", "-cpu-used", String(config.aomCpuUsed), "-lag-in-frames", "0",
                    "-qmin", "4", "-qmax", "56"] + cbr + gop
        case .h264:
            return ["-c:v", name, "-preset", config.x264Preset, "-tune", "zerolatency", "-profile:v", "baseline", "-b:v", rate] + gop
        }
    }

    private func writeVideoSource() throws -> URL {
        let url = directory.appendingPathComponent("source-\(config.width)x\(config.height)-\(config.frames).yuv")
        if FileManager.default.fileExists(atPath: url.path) { return url }
        guard FileManager.default.createFile(atPath: url.path, contents: nil), let handle = try? FileHandle(forWritingTo: url) else {
            throw BenchError(code: "temp_file", "cannot write \(url.path)")
        }
        defer { try? handle.close() }
        let video = SyntheticVideo(width: config.width, height: config.height)
        let frame = try I420Frame(width: config.width, height: config.height)
        for index in 0..<config.frames {
            try video.render(index, into: frame)
            handle.write(Data(frame.packedBytes()))
        }
        return url
    }

    private func writeAudioSource() throws -> URL {
        let url = directory.appendingPathComponent("source-\(config.audioPackets).s16")
        if FileManager.default.fileExists(atPath: url.path) { return url }
        let audio = SyntheticAudio(channels: 2)
        var data = Data()
        for index in 0..<config.audioPackets {
            audio.block(index, frameSize: 960).withUnsafeBytes { data.append(contentsOf: $0) }  // little-endian hosts
        }
        do { try data.write(to: url) } catch { throw BenchError(code: "temp_file", "cannot write \(url.path): \(error)") }
        return url
    }

    /// Runs ffmpeg with `-benchmark` and returns its `rtime` in seconds.
    private func benchmark(_ arguments: [String]) throws -> Double {
        let result = try Self.run(config.ffmpegPath, ["-hide_banner", "-nostdin", "-benchmark"] + arguments)
        for line in result.stdout.split(separator: "\n") + result.stderr.split(separator: "\n") where line.hasPrefix("bench:") {
            if let range = line.range(of: "rtime="), let value = Double(line[range.upperBound...].prefix { $0 != "s" }) {
                return max(value, 1e-6)
            }
        }
        throw BenchError(code: "ffmpeg_output", "ffmpeg printed no benchmark line", hint: result.stderr.split(separator: "\n").suffix(3).joined(separator: " | "))
    }

    /// Sum of packet payload sizes (container overhead excluded), via ffprobe.
    private func packetBytes(_ url: URL) throws -> Int {
        let result = try Self.run(config.ffprobePath, ["-v", "error", "-show_entries", "packet=size", "-of", "csv=p=0", url.path])
        return result.stdout.split(separator: "\n").reduce(0) { $0 + (Int($1.trimmingCharacters(in: .whitespaces)) ?? 0) }
    }

    private func videoQuality(source: URL, decoded: URL) throws -> (y: Double, overall: Double) {
        guard let original = FileManager.default.contents(atPath: source.path), let output = FileManager.default.contents(atPath: decoded.path) else {
            throw BenchError(code: "ffmpeg_output", "cannot read decoded video \(decoded.path)")
        }
        let width = config.width, height = config.height
        let chromaWidth = (width + 1) / 2, chromaHeight = (height + 1) / 2
        let frameBytes = width * height + 2 * chromaWidth * chromaHeight
        guard output.count >= frameBytes * config.frames else {
            throw BenchError(code: "frames_lost", "ffmpeg decoded \(output.count / frameBytes) of \(config.frames) frames")
        }
        var psnr = PSNRAccumulator()
        try original.withUnsafeBytes { (a: UnsafeRawBufferPointer) in
            try output.withUnsafeBytes { (b: UnsafeRawBufferPointer) in
                guard let baseA = a.bindMemory(to: UInt8.self).baseAddress, let baseB = b.bindMemory(to: UInt8.self).baseAddress else { return }
                for index in 0..<config.frames {
                    func view(_ base: UnsafePointer<UInt8>) -> I420View {
                        let y = base + index * frameBytes, u = y + width * height, v = u + chromaWidth * chromaHeight
                        return I420View(width: width, height: height,
                                        y: PlaneView(base: y, stride: width, width: width, height: height),
                                        u: PlaneView(base: u, stride: chromaWidth, width: chromaWidth, height: chromaHeight),
                                        v: PlaneView(base: v, stride: chromaWidth, width: chromaWidth, height: chromaHeight), pts: Int64(index))
                    }
                    try psnr.add(source: view(baseA), decoded: view(baseB))
                }
            }
        }
        return (psnr.y, psnr.overall)
    }

    private func audioQuality(source: URL, decoded: URL) throws -> (y: Double, overall: Double) {
        guard let original = FileManager.default.contents(atPath: source.path), let output = FileManager.default.contents(atPath: decoded.path) else {
            throw BenchError(code: "ffmpeg_output", "cannot read decoded audio \(decoded.path)")
        }
        let reference = original.withUnsafeBytes { Array($0.bindMemory(to: Int16.self)) }
        let decodedSamples = output.withUnsafeBytes { Array($0.bindMemory(to: Int16.self)) }
        let snr = AudioQuality.snr(reference: reference, decoded: decodedSamples, channels: 2)
        return (snr.db, snr.db)
    }

    struct Output {
        var stdout: String
        var stderr: String
    }

    /// Runs a command to completion with its output in temporary files (no pipe can fill up);
    /// a non-zero exit is a BenchError carrying its last stderr lines.
    static func run(_ executable: String, _ arguments: [String]) throws -> Output {
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("commucat-bench-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        let outURL = base.appendingPathExtension("out"), errURL = base.appendingPathExtension("err")
        guard FileManager.default.createFile(atPath: outURL.path, contents: nil),
              FileManager.default.createFile(atPath: errURL.path, contents: nil),
              let out = try? FileHandle(forWritingTo: outURL), let err = try? FileHandle(forWritingTo: errURL)
        else { throw BenchError(code: "temp_file", "cannot create \(base.path).out/.err") }
        defer {
            try? out.close()
            try? err.close()
            try? FileManager.default.removeItem(at: outURL)
            try? FileManager.default.removeItem(at: errURL)
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [executable] + arguments
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        do { try process.run() } catch {
            throw BenchError(code: "ffmpeg_missing", "cannot start \(executable): \(error)", hint: "install it: apt-get install ffmpeg, or pass --no-ffmpeg")
        }
        process.waitUntilExit()
        let output = Output(stdout: (try? String(contentsOf: outURL, encoding: .utf8)) ?? "",
                            stderr: (try? String(contentsOf: errURL, encoding: .utf8)) ?? "")
        guard process.terminationStatus == 0 else {
            let status = process.terminationStatus
            if status == 127 {
                throw BenchError(code: "ffmpeg_missing", "\(executable) not found", hint: "install it: apt-get install ffmpeg, or pass --no-ffmpeg")
            }
            throw BenchError(code: "ffmpeg_failed", "\(executable) \(arguments.prefix(12).joined(separator: " ")) … exited with \(status)",
                             hint: output.stderr.split(separator: "\n").suffix(3).joined(separator: " | "))
        }
        return output
    }
}
