// Renders results as a table (stdout), JSON or CSV.
import Foundation

public enum BenchReport {
    private static func number(_ value: Double, _ digits: Int = 1) -> String {
        value.isFinite ? String(format: "%.\(digits)f", value) : "-"
    }

    private static func pad(_ text: String, _ width: Int, left: Bool = false) -> String {
        let padding = String(repeating: " ", count: max(0, width - text.count))
        return left ? text + padding : padding + text
    }

    /// A plain-text table: CommuCat and ffmpeg side by side with CommuCat ÷ ffmpeg ratios.
    public static func table(_ results: [CodecBenchResult], config: CodecBenchConfig) -> String {
        var lines: [String] = []
        lines.append("codecs: \(config.width)x\(config.height), \(config.frames) frames at \(config.framerate) fps, \(config.bitrateKbps) kbit/s video, \(config.audioBitrateKbps) kbit/s Opus (\(config.audioPackets) packets), \(config.threads) thread(s)")
        let header = [pad("codec", 6, left: true), pad("enc fps", 9), pad("ffmpeg", 9), pad("ratio", 6),
                      pad("dec fps", 9), pad("ffmpeg", 9), pad("ratio", 6),
                      pad("kbit/s", 8), pad("ffmpeg", 8), pad("PSNR-Y", 7), pad("ffmpeg", 7), pad("PSNR", 6), pad("ffmpeg", 7)]
        lines.append(header.joined(separator: " "))
        for result in results {
            let ours = result.commucat, theirs = result.ffmpeg
            let row = [pad(result.codec.rawValue, 6, left: true),
                       pad(number(ours.encodeFPS), 9), pad(theirs.map { number($0.encodeFPS) } ?? "-", 9),
                       pad(result.encodeRatio.map { number($0, 2) } ?? "-", 6),
                       pad(number(ours.decodeFPS), 9), pad(theirs.map { number($0.decodeFPS) } ?? "-", 9),
                       pad(result.decodeRatio.map { number($0, 2) } ?? "-", 6),
                       pad(number(ours.bitrateKbps), 8), pad(theirs.map { number($0.bitrateKbps) } ?? "-", 8),
                       pad(number(ours.psnrY, 2), 7), pad(theirs.map { number($0.psnrY, 2) } ?? "-", 7),
                       pad(number(ours.psnr, 2), 6), pad(theirs.map { number($0.psnr, 2) } ?? "-", 7)]
            lines.append(row.joined(separator: " "))
        }
        lines.append("fps: frames per second of codec time (Opus: 20 ms packets per second); PSNR in dB (Opus: SNR after delay alignment)")
        let libraries = results.map { "\($0.codec.rawValue): \($0.libraries)" + ($0.ffmpegLibraries.map { " | ffmpeg \($0)" } ?? "") }
        lines.append("libraries (encoder / decoder): " + libraries.joined(separator: "; "))
        return lines.joined(separator: "\n") + "\n"
    }

    public struct Document: Codable, Sendable {
        public var benchmark = "codecs"
        public var width: Int
        public var height: Int
        public var frames: Int
        public var framerate: Int
        public var bitrateKbps: Int
        public var audioBitrateKbps: Int
        public var threads: Int
        public var results: [CodecBenchResult]
    }

    public static func json(_ results: [CodecBenchResult], config: CodecBenchConfig) throws -> String {
        let document = Document(width: config.width, height: config.height, frames: config.frames, framerate: config.framerate,
                                bitrateKbps: config.bitrateKbps, audioBitrateKbps: config.audioBitrateKbps,
                                threads: config.threads, results: results)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return String(decoding: try encoder.encode(document), as: UTF8.self) + "\n"
    }

    public static func csv(_ results: [CodecBenchResult], config: CodecBenchConfig) -> String {
        var lines = ["codec,implementation,width,height,frames,threads,encode_fps,decode_fps,bitrate_kbps,psnr_y,psnr,encode_ratio,decode_ratio"]
        for result in results {
            let sides: [(String, CodecMeasurement?)] = [("commucat", result.commucat), ("ffmpeg", result.ffmpeg)]
            for (name, measurement) in sides {
                guard let m = measurement else { continue }
                let ratios = name == "commucat" ? [result.encodeRatio.map { number($0, 3) } ?? "", result.decodeRatio.map { number($0, 3) } ?? ""] : ["", ""]
                lines.append(([result.codec.rawValue, name, String(config.width), String(config.height), String(m.frames), String(config.threads),
                               number(m.encodeFPS, 2), number(m.decodeFPS, 2), number(m.bitrateKbps, 1), number(m.psnrY, 3), number(m.psnr, 3)] + ratios)
                    .joined(separator: ","))
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
