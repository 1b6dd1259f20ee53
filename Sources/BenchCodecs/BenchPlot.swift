// `--plot FILE.png`: a grouped bar chart of encode and decode fps per codec, CommuCat next to
// ffmpeg. Drawn by matplotlib when a Python with it is found ($COMMUCAT_BENCH_PYTHON, else
// python3); otherwise by the small PNG writer below (bars and a grid, no text).
import Foundation

public enum BenchPlot {
    public static func write(_ results: [CodecBenchResult], config: CodecBenchConfig, to path: String) throws {
        let python = ProcessInfo.processInfo.environment["COMMUCAT_BENCH_PYTHON"] ?? "python3"
        if (try? FFmpegRunner.run(python, ["-c", "import matplotlib"])) != nil {
            try matplotlib(results, config: config, python: python, path: path)
        } else {
            try PNGBarChart.write(results, to: path)
        }
    }

    private static func matplotlib(_ results: [CodecBenchResult], config: CodecBenchConfig, python: String, path: String) throws {
        let json = try BenchReport.json(results, config: config)
        let dataURL = FileManager.default.temporaryDirectory.appendingPathComponent("commucat-bench-plot-\(getpid()).json")
        do { try Data(json.utf8).write(to: dataURL) } catch { throw BenchError(code: "plot", "cannot write \(dataURL.path)") }
        defer { try? FileManager.default.removeItem(at: dataURL) }
        let script = """
        import json, sys
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        doc = json.load(open(sys.argv[1]))
        rows = doc["results"]
        names = [r["codec"] for r in rows]
        fig, axes = plt.subplots(1, 2, figsize=(11, 4.5))
        for ax, key, title in ((axes[0], "encodeFPS", "encode"), (axes[1], "decodeFPS", "decode")):
            ours = [r["commucat"][key] for r in rows]
            theirs = [r["ffmpeg"][key] if r.get("ffmpeg") else 0 for r in rows]
            xs = range(len(names))
            ax.bar([x - 0.2 for x in xs], ours, 0.4, label="CommuCat", color="#1f77b4")
            ax.bar([x + 0.2 for x in xs], theirs, 0.4, label="ffmpeg", color="#ff7f0e")
            ax.set_xticks(list(xs)); ax.set_xticklabels(names)
            ax.set_yscale("log"); ax.set_ylabel("frames per second (Opus: packets/s)")
            ax.set_title(title); ax.legend(); ax.grid(axis="y", alpha=0.3)
        fig.suptitle("commucat-bench codecs: %dx%d, %d frames, %d kbit/s, %d thread(s)" % (doc["width"], doc["height"], doc["frames"], doc["bitrateKbps"], doc["threads"]))
        fig.tight_layout(); fig.savefig(sys.argv[2], dpi=100)
        """
        _ = try FFmpegRunner.run(python, ["-c", script, dataURL.path, path])
    }
}

/// A dependency-free PNG: RGB, filter 0, zlib stream of stored (uncompressed) deflate blocks
/// (RFC 1950 §2.2, RFC 1951 §3.2.4), CRC-32 per chunk (PNG spec §5.3).
enum PNGBarChart {
    static func write(_ results: [CodecBenchResult], to path: String) throws {
        let width = 800, height = 400
        var pixels = [UInt8](repeating: 255, count: width * height * 3)
        func fill(_ x0: Int, _ y0: Int, _ x1: Int, _ y1: Int, _ color: (UInt8, UInt8, UInt8)) {
            for y in max(0, y0)..<min(height, y1) {
                for x in max(0, x0)..<min(width, x1) {
                    let i = (y * width + x) * 3
                    pixels[i] = color.0; pixels[i + 1] = color.1; pixels[i + 2] = color.2
                }
            }
        }
        let values: [Double] = results.flatMap { r -> [Double] in [r.commucat.encodeFPS, r.ffmpeg?.encodeFPS ?? 0, r.commucat.decodeFPS, r.ffmpeg?.decodeFPS ?? 0] }
        let top = log10(max(10, values.max() ?? 10)) + 0.2
        for decade in 0...Int(top) { fill(20, height - 20 - Int(Double(decade) / top * 360), width - 20, height - 19 - Int(Double(decade) / top * 360), (220, 220, 220)) }
        let groupWidth = (width - 40) / max(1, results.count * 2)
        for (index, result) in results.enumerated() {
            let pairs = [(result.commucat.encodeFPS, result.ffmpeg?.encodeFPS ?? 0), (result.commucat.decodeFPS, result.ffmpeg?.decodeFPS ?? 0)]
            for (side, pair) in pairs.enumerated() {
                let x = 20 + (side * results.count + index) * groupWidth
                for (bar, value) in [pair.0, pair.1].enumerated() where value > 0 {
                    let barHeight = Int(max(0, log10(max(1, value))) / top * 360)
                    let color: (UInt8, UInt8, UInt8) = bar == 0 ? (31, 119, 180) : (255, 127, 14)
                    fill(x + 6 + bar * (groupWidth - 12) / 2, height - 20 - barHeight, x + 6 + (bar + 1) * (groupWidth - 12) / 2 - 2, height - 20, color)
                }
            }
        }
        fill(20, height - 20, width - 20, height - 18, (0, 0, 0))
        var raw = [UInt8]()
        raw.reserveCapacity((width * 3 + 1) * height)
        for y in 0..<height {
            raw.append(0)
            raw += pixels[(y * width * 3)..<((y + 1) * width * 3)]
        }
        var png: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
        png += chunk("IHDR", be32(UInt32(width)) + be32(UInt32(height)) + [8, 2, 0, 0, 0])
        png += chunk("IDAT", zlibStored(raw))
        png += chunk("IEND", [])
        do { try Data(png).write(to: URL(fileURLWithPath: path)) } catch { throw BenchError(code: "plot", "cannot write \(path): \(error)") }
    }

    private static func be32(_ value: UInt32) -> [UInt8] {
        [UInt8(value >> 24), UInt8((value >> 16) & 0xFF), UInt8((value >> 8) & 0xFF), UInt8(value & 0xFF)]
    }

    private static func chunk(_ type: String, _ data: [UInt8]) -> [UInt8] {
        let body = Array(type.utf8) + data
        return be32(UInt32(data.count)) + body + be32(crc32(body))
    }

    private static func crc32(_ bytes: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes {
            crc ^= UInt32(byte)
            for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
        }
        return ~crc
    }

    private static func zlibStored(_ data: [UInt8]) -> [UInt8] {
        var out: [UInt8] = [0x78, 0x01]
        var offset = 0
        repeat {
            let count = min(65_535, data.count - offset)
            let final: UInt8 = offset + count == data.count ? 1 : 0
            out += [final, UInt8(count & 0xFF), UInt8(count >> 8), UInt8(~count & 0xFF), UInt8((~count >> 8) & 0xFF)]
            out += data[offset..<(offset + count)]
            offset += count
        } while offset < data.count
        var a: UInt32 = 1, b: UInt32 = 0
        for byte in data {
            a = (a + UInt32(byte)) % 65_521
            b = (b + a) % 65_521
        }
        return out + be32((b << 16) | a)
    }
}
