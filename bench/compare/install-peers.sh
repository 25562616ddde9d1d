#!/usr/bin/env bash
# Installs the peers (pyvips + libvips, Pillow, numpy from PyPI; sharp from npm) into
# bench/compare/.peers/ (ignored by git), once, at pinned versions (reinstalled when a
# pin changes). Sourced by compare/run.sh and quality/run.sh; sets $peers.
pins_py="pyvips==3.2.0 pyvips-binary==8.18.7 pillow==13.0.0 numpy==2.4.6"
pin_sharp="sharp@0.35.5"
peers=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/.peers
mkdir -p "$peers"
if [ ! -x "$peers/venv/bin/python" ]; then
  python3 -m venv "$peers/venv"
fi
if [ "$(cat "$peers/pins-py" 2>/dev/null)" != "$pins_py" ]; then
  # shellcheck disable=SC2086
  "$peers/venv/bin/pip" install -q $pins_py && echo "$pins_py" > "$peers/pins-py"
fi
if [ "$(cat "$peers/pins-node" 2>/dev/null)" != "$pin_sharp" ]; then
  (cd "$peers" && { [ -f package.json ] || echo '{"name":"avatar-peers","private":true}' > package.json; } && npm install -q --no-audit --no-fund "$pin_sharp" >/dev/null) && echo "$pin_sharp" > "$peers/pins-node"
fi
