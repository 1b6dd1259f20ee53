import Foundation

/// Table, JSON and CSV output of `commucat-bench sfu`, and the `--plot` chart.
public enum SFUBenchReport {
    public static func table(_ results: [SFUBenchResult]) -> String {
        let header = [
            "target", "scenario", "pubs", "sub streams", "pkt/s out", "Mbit/s", "loss %", "delay p50 ms", "p99 ms",
            "server cores", "server ms/1k pkt", "streams/core", "generator cores",
        ]
        func format(_ value: Double?, _ digits: Int) -> String { value.map { String(format: "%.\(digits)f", $0) } ?? "-" }
        let rows = results.map { r in
            [
                r.target, r.scenario, "\(r.publishers)", "\(r.subscriberStreams)", format(r.packetsForwardedPerSecond, 0),
                format(r.mbitForwardedPerSecond, 1), format(r.lossPercent, 2), format(r.delayP50Milliseconds, 2),
                format(r.delayP99Milliseconds, 2), format(r.serverCPUCores, 3), format(r.serverCPUMillisecondsPer1000Packets, 2),
                format(r.subscriberStreamsPerCore, 0), format(r.generatorCPUCores, 3),
            ]
        }
        let widths = header.indices.map { column in ([header] + rows).map { $0[column].count }.max() ?? 0 }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { $0.element.padding(toLength: widths[$0.offset], withPad: " ", startingAt: 0) }
                .joined(separator: "  ")
        }
        return ([line(header), line(widths.map { String(repeating: "-", count: $0) })] + rows.map(line)).joined(separator: "\n")
    }

    public static func json(_ results: [SFUBenchResult]) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return String(decoding: try encoder.encode(["results": results]), as: UTF8.self)
    }

    public static func csv(_ results: [SFUBenchResult]) -> String {
        var lines = [
            "target,scenario,publishers,subscriber_streams,seconds,packets_out_per_s,mbit_out_per_s,loss_percent,delay_p50_ms,delay_p99_ms,srtp_failures,server_cpu_cores,server_cpu_ms_per_1000_packets,subscriber_streams_per_core,generator_cpu_cores"
        ]
        func v(_ value: Double?) -> String { value.map { String(format: "%.4f", $0) } ?? "" }
        for r in results {
            lines.append(
                [
                    r.target, r.scenario, "\(r.publishers)", "\(r.subscriberStreams)", v(r.seconds), v(r.packetsForwardedPerSecond),
                    v(r.mbitForwardedPerSecond), v(r.lossPercent), v(r.delayP50Milliseconds), v(r.delayP99Milliseconds),
                    "\(r.srtpFailures)", v(r.serverCPUCores), v(r.serverCPUMillisecondsPer1000Packets),
                    v(r.subscriberStreamsPerCore), v(r.generatorCPUCores),
                ].joined(separator: ","))
        }
        return lines.joined(separator: "\n")
    }

    /// Throughput and server CPU against subscriber streams, one line per target (matplotlib).
    public static func plot(_ results: [SFUBenchResult], to path: String) throws {
        let python = ProcessInfo.processInfo.environment["COMMUCAT_BENCH_PYTHON"] ?? "python3"
        let data = FileManager.default.temporaryDirectory.appendingPathComponent("commucat-bench-sfu-\(getpid()).json")
        try Data(try json(results).utf8).write(to: data)
        defer { try? FileManager.default.removeItem(at: data) }
        let script = """
            import json, sys
            import matplotlib
            matplotlib.use("Agg")
            import matplotlib.pyplot as plt
            rows = json.load(open(sys.argv[1]))["results"]
            fig, (a, b) = plt.subplots(1, 2, figsize=(11, 4.5))
            for target in sorted({r["target"] for r in rows}):
                mine = [r for r in rows if r["target"] == target]
                xs = [r["subscriberStreams"] for r in mine]
                a.plot(xs, [r["packetsForwardedPerSecond"] for r in mine], marker="o", label=target)
                b.plot(xs, [r.get("serverCPUCores") or 0 for r in mine], marker="o", label=target)
            a.set_xlabel("subscriber streams"); a.set_ylabel("forwarded packets/s"); a.legend(); a.grid(alpha=0.3)
            b.set_xlabel("subscriber streams"); b.set_ylabel("server CPU (cores)"); b.legend(); b.grid(alpha=0.3)
            fig.suptitle("commucat-bench sfu: %s" % rows[0]["scenario"] if rows else "commucat-bench sfu")
            fig.tight_layout(); fig.savefig(sys.argv[2], dpi=100)
            """
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [python, "-c", script, data.path, path]
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw LoadPeerError("plotting needs \(python) with matplotlib (set COMMUCAT_BENCH_PYTHON)")
        }
    }
}
