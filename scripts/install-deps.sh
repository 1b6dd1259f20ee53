#!/usr/bin/env bash
# Installs the Debian packages of the given roles (build, runtime, test) from
# packaging/debian-packages.txt that are not installed yet. Needs root (or sudo) only when
# something is missing. Retries once: apt can fail when two installs race on one machine.
set -euo pipefail
cd "$(dirname "$0")/.."
roles=("$@")
[[ ${#roles[@]} -gt 0 ]] || roles=(build)
wanted=()
while read -r name rest; do
  [[ -z $name || $name == \#* ]] && continue
  for role in "${roles[@]}"; do
    if [[ " $rest " == *" $role "* ]]; then wanted+=("$name"); break; fi
  done
done < packaging/debian-packages.txt
missing=()
for p in "${wanted[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [[ ${#missing[@]} -eq 0 ]]; then
  exit 0
fi
echo "install-deps: installing ${missing[*]}"
sudo=""
if [[ $(id -u) -ne 0 ]]; then
  command -v sudo >/dev/null || { echo "install-deps: need root to install: ${missing[*]}" >&2; exit 1; }
  sudo="sudo"
fi
apt_install() {
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 -qq update &&
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends "${missing[@]}"
}
apt_install >/tmp/commucat-apt.log 2>&1 || { sleep 5; apt_install >>/tmp/commucat-apt.log 2>&1; } || {
  tail -20 /tmp/commucat-apt.log >&2; echo "install-deps: apt-get failed (log: /tmp/commucat-apt.log)" >&2; exit 1; }
# The postgresql package starts a system cluster on 5432; tests use their own on a free port.
