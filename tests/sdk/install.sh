#!/usr/bin/env bash
# Installs the official Slack SDKs that the server tests drive: slack_sdk from PyPI
# and @slack/web-api from npm (pinned by package-lock.json). Idempotent, and cached
# outside the repo: ${AVATAR_SDK_CACHE:-${XDG_CACHE_HOME:-~/.cache}/avatar-engine/sdk}.
# Needs python3 with pip, node >= 20 and npm. Prints two lines: the directory to put
# on PYTHONPATH, and the node_modules directory to put on NODE_PATH.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cache="${AVATAR_SDK_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/avatar-engine/sdk}"
python_sdk="slack_sdk==3.48.0"
mkdir -p "$cache"
# One installer at a time (the tests run in parallel, CI may too).
exec 9>"$cache/.lock"
flock 9

py="$cache/python-${python_sdk//=/-}"
if [ ! -f "$py/.installed" ]; then
    rm -rf "$py"
    python3 -m pip install --quiet --disable-pip-version-check --no-input \
        --no-deps --root-user-action=ignore --target "$py" "$python_sdk" >&2
    touch "$py/.installed"
fi

node="$cache/node-$(cat "$here/package.json" "$here/package-lock.json" | sha256sum | cut -c1-16)"
if [ ! -f "$node/.installed" ]; then
    rm -rf "$node"
    mkdir -p "$node"
    cp "$here/package.json" "$here/package-lock.json" "$node/"
    (cd "$node" && npm ci --no-audit --no-fund --silent) >&2
    touch "$node/.installed"
fi

printf '%s\n%s\n' "$py" "$node/node_modules"
