#!/usr/bin/env bash
# Side-by-side: avatar-engine vs libvips (pyvips), sharp and Pillow doing the same job
# on the same inputs, one thread each, in one run. Installs the peers from PyPI and npm
# into bench/compare/.peers/ (ignored by git) on first use.
#
# usage: bench/compare/run.sh [DIR] [ITERATIONS]   (default ../shared/bench-inputs, 10)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
dir=$(cd "${1:-$root/../shared/bench-inputs}" && pwd)
iters=${2:-10}
warmup=2
peers=$here/.peers
mkdir -p "$peers"
if [ ! -x "$peers/venv/bin/python" ]; then
  python3 -m venv "$peers/venv"
  "$peers/venv/bin/pip" install -q pyvips pyvips-binary pillow
fi
if [ ! -d "$peers/node_modules/sharp" ]; then
  (cd "$peers" && { [ -f package.json ] || echo '{"name":"avatar-peers","private":true}' > package.json; } && npm install -q --no-audit --no-fund sharp >/dev/null)
fi
(cd "$root" && cargo build --release --quiet --bin avatar)
export VIPS_CONCURRENCY=1
echo "running avatar (1 and 2 threads, 2 in flight), libvips, sharp, Pillow on $dir, $iters iterations each..." >&2
"$root/target/release/avatar" bench "$dir" --iterations "$iters" --warmup $warmup --threads 1 > "$peers/avatar.json"
"$root/target/release/avatar" bench "$dir" --iterations "$iters" --warmup $warmup --threads 2 > "$peers/avatar-2t.json"
"$root/target/release/avatar" bench "$dir" --iterations "$iters" --warmup $warmup --threads 2 --in-flight 2 > "$peers/avatar-2j.json"
"$peers/venv/bin/python" "$here/peers.py" vips "$dir" "$iters" $warmup > "$peers/vips.json"
(cd "$peers" && node "$here/sharp.mjs" "$dir" "$iters" $warmup) > "$peers/sharp.json"
"$peers/venv/bin/python" "$here/peers.py" pillow "$dir" "$iters" $warmup > "$peers/pillow.json"
python3 "$here/table.py" "$peers"
