#!/usr/bin/env bash
# Builds Fuzz/ with libFuzzer instrumentation and runs every parser's fuzzer for a bounded time
# (FUZZ_SECONDS each, default 15), seeded from the checked-in corpora. FUZZ_TARGETS (names separated
# by spaces, e.g. "connect-hello ccp-frame") runs only those. A crash keeps its reproducer in
# .build/fuzz-artifacts/ and fails the run.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${FUZZ_SECONDS:-15}
out=$PWD/.build/fuzz-artifacts
mkdir -p "$out"
if ! ( cd Fuzz && swift build -c release --scratch-path ../.build/fuzz -Xswiftc -sanitize=fuzzer -Xswiftc -parse-as-library ) >"$out/build.log" 2>&1; then
  grep -E "error" -A3 "$out/build.log" | head -n 40
  echo "fuzz: the instrumented build failed (log: $out/build.log)"
  exit 1
fi
bin=$(cd Fuzz && swift build -c release --scratch-path ../.build/fuzz --show-bin-path)/commucat-fuzz
declare -A corpus=(
  [stun]=Tests/SFUWireTests/Fixtures/fuzz-corpus/stun
  [rtp]=Tests/SFUWireTests/Fixtures/fuzz-corpus/rtp
  [rtcp]=Tests/SFUWireTests/Fixtures/fuzz-corpus/rtcp
  [sdp]=Tests/SFUWireTests/Fixtures/fuzz-corpus/sdp
  [rfc4571]=Tests/SFUWireTests/Fixtures/fuzz-corpus/rfc4571
  [demux]=Tests/SFUWireTests/Fixtures/fuzz-corpus/rtp
  [sdp-fragment]=Tests/SFUWireTests/Fixtures/fuzz-corpus/sdp
  [ccp-frame]=Tests/CCPTests/Fixtures/FuzzCorpus/CCPFrameDecoder
  [noise-responder]=Tests/CCPTests/Fixtures/FuzzCorpus/NoiseResponder
  [connect-hello]=Tests/SignallingTests/Fixtures/FuzzCorpus/ConnectHello
  [device-certificate]=Tests/SignallingTests/Fixtures/FuzzCorpus/DeviceCertificate
  [opus]=Tests/CodecsTests/Fixtures/Payload/corpus/opus
  [vp8]=Tests/CodecsTests/Fixtures/Payload/corpus/vp8
  [vp9]=Tests/CodecsTests/Fixtures/Payload/corpus/vp9
  [h264]=Tests/CodecsTests/Fixtures/Payload/corpus/h264
  [av1]=Tests/CodecsTests/Fixtures/Payload/corpus/av1
  [dependency-descriptor]=Tests/CodecsTests/Fixtures/Payload/corpus/dependency-descriptor
  [red]=Tests/CodecsTests/Fixtures/Payload/corpus/red
  [vp8-munger]=Fuzz/Corpus/vp8-munger
)
selected=${FUZZ_TARGETS:-${!corpus[*]}}
for target in $selected; do
  [[ -n ${corpus[$target]:-} ]] || { echo "fuzz: unknown target $target (known: $(printf '%s\n' "${!corpus[@]}" | sort | tr '\n' ' '))"; exit 2; }
done
failed=0
passed=0
for target in $(printf '%s\n' $selected | sort); do
  work=$(mktemp -d)
  cp -r "${corpus[$target]}"/. "$work"/ 2>/dev/null || true
  if COMMUCAT_FUZZ_TARGET=$target "$bin" "$work" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
      -artifact_prefix="$out/$target-" -print_final_stats=0 >"$out/$target.log" 2>&1; then
    echo "fuzz $target: ok ($(grep -o 'stat::number_of_executed_units: [0-9]*' "$out/$target.log" | awk '{print $2}' || true)$(grep -Eo '#[0-9]+' "$out/$target.log" | tail -n 1) runs in ${seconds}s)"
    passed=$((passed + 1))
  else
    echo "fuzz $target: FAILED (see $out/$target.log)"; tail -n 20 "$out/$target.log"
    failed=$((failed + 1))
  fi
  rm -rf "$work"
done
echo "fuzz: $passed passed, $failed failed"
[[ $failed -eq 0 ]]
