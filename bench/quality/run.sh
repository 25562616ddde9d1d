#!/usr/bin/env bash
# Output quality: avatar-engine vs libvips (pyvips), sharp and Pillow, each rendition
# scored with SSIMULACRA2 against a float reference (see quality.py for how it is
# made). Installs the peers like bench/compare (into bench/compare/.peers/) and builds
# the scorer (bench/quality/score, its own workspace) there too.
#
# usage: bench/quality/run.sh [DIR]   (default ../shared/bench-inputs)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
dir=$(cd "${1:-$root/../shared/bench-inputs}" && pwd)
source "$root/bench/compare/install-peers.sh"
(cd "$root" && cargo build --release --quiet --bin avatar)
CARGO_TARGET_DIR="$peers/score-target" cargo build --release --quiet --manifest-path "$here/score/Cargo.toml"
work="$peers/quality"
rm -rf "$work"
"$peers/venv/bin/python" "$here/quality.py" "$dir" "$work" "$root/target/release/avatar" \
  "$peers/score-target/release/avatar-quality-score" "$peers" > "$peers/quality.json"
python3 "$here/table.py" "$peers/quality.json"
