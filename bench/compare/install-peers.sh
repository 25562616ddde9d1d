#!/usr/bin/env bash
# Installs the peers (pyvips + libvips, Pillow, numpy from PyPI; sharp from npm) into
# bench/compare/.peers/ (ignored by git), once. Sourced by compare/run.sh and
# quality/run.sh; sets $peers.
peers=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/.peers
mkdir -p "$peers"
if [ ! -x "$peers/venv/bin/python" ]; then
  python3 -m venv "$peers/venv"
fi
if ! "$peers/venv/bin/python" -c "import pyvips, PIL, numpy" 2>/dev/null; then
  "$peers/venv/bin/pip" install -q pyvips pyvips-binary pillow numpy
fi
if [ ! -d "$peers/node_modules/sharp" ]; then
  (cd "$peers" && { [ -f package.json ] || echo '{"name":"avatar-peers","private":true}' > package.json; } && npm install -q --no-audit --no-fund sharp >/dev/null)
fi
