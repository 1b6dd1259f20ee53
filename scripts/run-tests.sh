#!/usr/bin/env bash
# `make test`: starts the real servers the tests talk to on 127.0.0.1 (PostgreSQL, Redis), runs the
# Swift test suite and the interop tests against them, and stops everything it started, whatever
# happens. Exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
tmp=$(mktemp -d /tmp/commucat-test.XXXXXX)
chmod 755 "$tmp"
pids=()
pg_started=0

cleanup() {
  local rc=$?
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  if [[ $pg_started == 1 ]]; then scripts/test-postgres.sh stop "$tmp/pg" >/dev/null 2>&1 || true; fi
  rm -rf "$tmp"
  exit $rc
}
trap cleanup EXIT INT TERM

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }

# PostgreSQL (unless the caller gave one).
if [[ -z ${COMMUCAT_TEST_POSTGRES_URL:-} ]]; then
  port=$(free_port)
  COMMUCAT_TEST_POSTGRES_URL=$(scripts/test-postgres.sh start "$tmp/pg" "$port" | tail -n 1)
  pg_started=1
fi
export COMMUCAT_TEST_POSTGRES_URL
echo "run-tests: PostgreSQL at ${COMMUCAT_TEST_POSTGRES_URL%%@*}@…"

# Redis for the server-level tests (the Redis client's own tests start and kill their own servers).
if [[ -z ${COMMUCAT_TEST_REDIS_URL:-} ]]; then
  port=$(free_port)
  redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no --daemonize no >"$tmp/redis.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 1 50); do redis-cli -p "$port" ping >/dev/null 2>&1 && break; sleep 0.1; done
  export COMMUCAT_TEST_REDIS_URL="redis://127.0.0.1:$port"
fi
echo "run-tests: Redis at $COMMUCAT_TEST_REDIS_URL"

export COMMUCAT_TEST_PYTHON="$root/.build/venv/bin/python3"
export CI=${CI:-false}

# Build everything first (products too: process-level tests run the real `commucat` binary).
swift build --build-tests 2>&1 | tail -n 30
swift build --product commucat 2>&1 | tail -n 5
# --show-bin-path prints an absolute path.
bin_path=$(swift build --show-bin-path)
export COMMUCAT_BIN="$bin_path/commucat"
if [[ ! -x $COMMUCAT_BIN ]]; then
  echo "run-tests: $COMMUCAT_BIN was not built" >&2
  exit 1
fi
echo "run-tests: commucat binary at $COMMUCAT_BIN"

# Every wire parser under libFuzzer for a bounded time (FUZZ_SECONDS each), before the test suite so
# that the suite's summary is the last line.
FUZZ_SECONDS=${FUZZ_SECONDS:-10} timeout 1800 scripts/run-fuzzers.sh

timeout 3600 swift test --skip-build
