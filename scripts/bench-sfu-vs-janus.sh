#!/usr/bin/env bash
# `commucat-bench sfu` against CommuCat and against Janus VideoRoom, same media and loads, on one
# machine. Janus never offers loopback candidates, so both servers and the load generator run in a
# private network namespace (unshare --net, root) where a veth carries 127.0.1.1 for Janus
# (../shared/PEERS.md). Prints one table per target.
#   scripts/bench-sfu-vs-janus.sh [commucat-bench sfu options…]   (default: --scenario livestream
#   --subscribers 50 --seconds 20)
set -euo pipefail
cd "$(dirname "$0")/.."
args=("$@"); [[ ${#args[@]} -gt 0 ]] || args=(--scenario livestream --subscribers 50 --seconds 20)
if [[ ${COMMUCAT_BENCH_IN_NETNS:-} != 1 ]]; then
  command -v janus >/dev/null || scripts/install-deps.sh bench >/dev/null
  command -v janus >/dev/null || { echo "bench-sfu-vs-janus: janus is not installed" >&2; exit 1; }
  # One product per invocation: SwiftPM builds only the last of several --product options.
  for product in commucat commucat-bench; do swift build -c release --product "$product" 2>&1 | tail -n 1; done
  exec env COMMUCAT_BENCH_IN_NETNS=1 unshare --net "$0" "${args[@]}"
fi

# Inside the namespace.
ip link set lo up
ip link add vbench0 type veth peer name vbench1
ip addr add 127.0.1.1/32 dev vbench0
ip link set vbench0 up
ip link set vbench1 up
sysctl -qw net.ipv4.conf.all.route_localnet=1

bin=${COMMUCAT_BENCH_BIN_DIR:-.build/release}
tmp=$(mktemp -d /tmp/commucat-janus.XXXXXX)
lib=$(dirname "$(dpkg -L janus | grep -m1 '/plugins/libjanus_videoroom.so$')")
lib=${lib%/plugins}
cat >"$tmp/janus.jcfg" <<JCFG
general: {
  configs_folder = "$tmp"
  plugins_folder = "$lib/plugins"
  transports_folder = "$lib/transports"
  events_folder = "$lib/events"
  loggers_folder = "$lib/loggers"
  debug_level = ${JANUS_DEBUG_LEVEL:-2}
  interface = "127.0.1.1"
  session_timeout = 0
}
media: {
  rtp_port_range = "20000-40000"
}
nat: {
  ice_lite = false
  ice_tcp = false
  ignore_mdns = true
  ice_enforce_list = "vbench0"
  nice_debug = ${JANUS_NICE_DEBUG:-false}
}
plugins: {
  disable = "libjanus_audiobridge.so,libjanus_duktape.so,libjanus_echotest.so,libjanus_lua.so,libjanus_nosip.so,libjanus_recordplay.so,libjanus_sip.so,libjanus_streaming.so,libjanus_textroom.so,libjanus_videocall.so,libjanus_voicemail.so"
}
transports: {
  disable = "libjanus_mqtt.so,libjanus_nanomsg.so,libjanus_pfunix.so,libjanus_rabbitmq.so,libjanus_websockets.so"
}
events: {
  broadcast = false
  disable = "libjanus_gelfevh.so,libjanus_mqttevh.so,libjanus_nanomsgevh.so,libjanus_rabbitmqevh.so,libjanus_sampleevh.so,libjanus_wsevh.so"
}
loggers: {
  disable = "libjanus_jsonlog.so"
}
JCFG
cat >"$tmp/janus.transport.http.jcfg" <<JCFG
general: {
  json = "plain"
  base_path = "/janus"
  http = true
  port = 8088
  ip = "127.0.0.1"
  https = false
}
admin: {
  admin_http = false
}
JCFG
echo 'general: { }' >"$tmp/janus.plugin.videoroom.jcfg"
janus -F "$tmp" -C "$tmp/janus.jcfg" >"$tmp/janus.log" 2>&1 &
janus_pid=$!
trap 'kill $janus_pid 2>/dev/null; wait $janus_pid 2>/dev/null; [[ -n ${JANUS_LOG_COPY:-} ]] && cp "$tmp/janus.log" "$JANUS_LOG_COPY"; rm -rf "$tmp"' EXIT
for _ in $(seq 1 100); do curl -sf http://127.0.0.1:8088/janus/info >/dev/null && break; sleep 0.1; done

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(date -u +%F); args: ${args[*]}"
if [[ -z ${SKIP_COMMUCAT:-} ]]; then echo "== commucat"
"$bin/commucat-bench" sfu --target commucat "${args[@]}"; fi
echo "== janus $(janus --version 2>/dev/null | head -n 1)"
"$bin/commucat-bench" sfu --target janus --server-pid "$janus_pid" --local-ip "${JANUS_CLIENT_IP:-127.0.1.1}" "${args[@]}" || { tail -n 20 "$tmp/janus.log" >&2; exit 1; }
