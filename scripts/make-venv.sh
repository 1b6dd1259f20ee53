#!/usr/bin/env bash
# Creates the Python virtualenv for interop tests (real peers: noiseprotocol, later aiortc) and
# installs packaging/python-test-requirements.txt into it when it changed.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=${1:-.build/venv}
req=packaging/python-test-requirements.txt
[[ -x $venv/bin/python3 ]] || python3 -m venv "$venv"
stamp=$venv/.requirements.sha256
want=$(sha256sum "$req" | cut -d' ' -f1)
if [[ ! -f $stamp || $(cat "$stamp") != "$want" ]]; then
  "$venv/bin/pip" install -q --disable-pip-version-check -r "$req"
  echo "$want" > "$stamp"
fi
