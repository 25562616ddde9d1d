#!/usr/bin/env bash
# Installs the real servers the multi-instance tests run against, once per machine:
# PostgreSQL from Debian's packages (apt-get, as root or through sudo) and Garage, an
# S3-compatible object store, built from crates.io into
# ${AVATAR_SERVICES_CACHE:-${XDG_CACHE_HOME:-~/.cache}/avatar-engine/services}
# (its build directory is removed afterwards). The first Garage build takes ~12
# minutes on 2 cores; later runs find it and return at once.
# Prints two lines: PostgreSQL's bin directory, and the garage binary.
set -euo pipefail
cache="${AVATAR_SERVICES_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/avatar-engine/services}"
garage_version="2.5.0"
mkdir -p "$cache"
# One installer at a time (the tests run in parallel, CI may too).
exec 9>"$cache/.lock"
flock 9

pg_bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1; }
if [ -z "$(pg_bin)" ] || [ ! -x "$(pg_bin)/postgres" ]; then
    as_root=()
    [ "$(id -u)" = 0 ] || as_root=(sudo -n)
    "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
    "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive \
        apt-get install -y -qq --no-install-recommends postgresql >&2
fi

# Only the SQLite metadata engine (the tests' configs use it): without LMDB, K2V and
# the OpenTelemetry metrics stack the build takes ~12 minutes on 2 cores, not ~20.
garage="$cache/garage-$garage_version-sqlite/bin/garage"
if [ ! -x "$garage" ]; then
    echo "building garage $garage_version (once; ~12 min on 2 cores)" >&2
    CARGO_TARGET_DIR="$cache/garage-target" cargo install --quiet --locked \
        --no-default-features --features bundled-libs,sqlite \
        garage --version "$garage_version" --root "$cache/garage-$garage_version-sqlite" >&2
    rm -rf "$cache/garage-target"
fi

printf '%s\n%s\n' "$(pg_bin)" "$garage"
