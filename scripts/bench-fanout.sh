#!/usr/bin/env bash
# Fan-out benchmark with real WebRTC clients: builds the release server, starts it on free loopback
# ports (anonymous loopback access), runs Tests/Interop/bench_fanout.py for each subscriber count
# given (default: 1 4 8), prints one JSON line per run, stops the server.
#   scripts/bench-fanout.sh [N ...]        env: SECONDS_PER_RUN (10), CODEC (vp8)
set -euo pipefail
cd "$(dirname "$0")/.."
counts=("$@"); [[ ${#counts[@]} -gt 0 ]] || counts=(1 4 8)
scripts/install-deps.sh build runtime test >/dev/null
scripts/make-venv.sh .build/venv >/dev/null
swift build -c release --product commucat 2>&1 | tail -n 1
tmp=$(mktemp -d /tmp/commucat-bench.XXXXXX)
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
http=$(free_port)
COMMUCAT_SERVER_DATA_DIR=$tmp/data COMMUCAT_HTTP_LISTEN=127.0.0.1:$http COMMUCAT_HTTPS_LISTEN=127.0.0.1:$(free_port) \
COMMUCAT_MEDIA_UDP_LISTEN=127.0.0.1:$(free_port) COMMUCAT_AUTH_ALLOW_ANONYMOUS=true COMMUCAT_LOG_LEVEL=warning \
  .build/release/commucat serve >"$tmp/server.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null; rm -rf "$tmp"' EXIT
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$http/healthz" >/dev/null && break; sleep 0.1; done
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(date -u +%F)"
for n in "${counts[@]}"; do
  .build/venv/bin/python3 Tests/Interop/bench_fanout.py "http://127.0.0.1:$http" "$server" \
    --subscribers "$n" --seconds "${SECONDS_PER_RUN:-10}" --codec "${CODEC:-vp8}" || true
done
