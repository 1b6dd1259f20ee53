#!/usr/bin/env python3
"""Fan-out measurement: one aiortc WHIP publisher, N aiortc WHEP subscribers, against a running
CommuCat server whose process id is given; samples the server's /metrics and /proc CPU over a
window in which every subscriber receives.

    bench_fanout.py BASE_URL SERVER_PID --subscribers N [--seconds S] [--codec vp8|h264]

Prints one JSON line: packets/s in and out, server CPU (share of one core) and CPU time per
forwarded packet, and each subscriber's received_ratio. Needs auth.allow_anonymous on loopback.
"""

import argparse
import json
import os
import subprocess
import sys
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))


def metric(base: str, name: str) -> float:
    with urllib.request.urlopen(base + "/metrics", timeout=10) as response:
        text = response.read().decode()
    return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines() if line.startswith(name))


def cpu_seconds(pid: int) -> float:
    with open("/proc/%d/stat" % pid) as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("base")
    parser.add_argument("pid", type=int)
    parser.add_argument("--subscribers", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--codec", choices=["vp8", "h264"], default="vp8")
    parser.add_argument("--room", default="bench")
    args = parser.parse_args()
    python = sys.executable
    room = "%s-%d" % (args.room, args.subscribers)
    warmup = 4.0
    publisher = subprocess.Popen(
        [python, os.path.join(HERE, "whip_publish.py"), "%s/whip/%s" % (args.base, room), "",
         "--seconds", str(args.seconds + warmup + 4), "--codec", args.codec],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    time.sleep(2)
    subscribers = [
        subprocess.Popen(
            [python, os.path.join(HERE, "whep_subscribe.py"), "%s/whep/%s" % (args.base, room), "",
             "--until-ended", str(args.seconds + warmup + 15)],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        for _ in range(args.subscribers)
    ]
    time.sleep(warmup)
    out0, in0 = metric(args.base, "commucat_sfu_packets_out_total"), metric(args.base, "commucat_sfu_packets_in_total")
    cpu0, t0 = cpu_seconds(args.pid), time.monotonic()
    time.sleep(args.seconds)
    out1, in1 = metric(args.base, "commucat_sfu_packets_out_total"), metric(args.base, "commucat_sfu_packets_in_total")
    cpu1, t1 = cpu_seconds(args.pid), time.monotonic()
    published = json.loads((publisher.communicate(timeout=60)[0] or "{}").strip().splitlines()[-1] or "{}")
    ratios = []
    for subscriber in subscribers:
        lines = (subscriber.communicate(timeout=60)[0] or "").strip().splitlines()
        summary = json.loads(lines[-1]) if lines else {}
        ratios.append(summary.get("received_ratio"))
    elapsed = t1 - t0
    forwarded = out1 - out0
    result = {
        "subscribers": args.subscribers,
        "codec": args.codec,
        "seconds": round(elapsed, 2),
        "packets_in_per_second": round((in1 - in0) / elapsed, 1),
        "packets_out_per_second": round(forwarded / elapsed, 1),
        "server_cpu_share_of_one_core": round((cpu1 - cpu0) / elapsed, 3),
        "server_cpu_microseconds_per_packet_out": round((cpu1 - cpu0) * 1e6 / forwarded, 2) if forwarded else None,
        "received_ratios": ratios,
        "publisher_connected": published.get("connected"),
    }
    print(json.dumps(result))
    return 0 if published.get("connected") and all(r and r >= 0.9 for r in ratios) else 1


if __name__ == "__main__":
    sys.exit(main())
