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
source "$here/install-peers.sh"
(cd "$root" && cargo build --release --quiet --bin avatar)
export VIPS_CONCURRENCY=1
# avatar's still jobs take 4-20 ms, so ITERATIONS of them span a fraction of a second
# per input and one busy moment on a shared machine moves the median; a peer's take
# 25-500 ms. avatar therefore runs at least 60 iterations: the same statistic (the
# median) over a comparable stretch of time. One process for all inputs, as before:
# the GIF runs first, which also settles glibc malloc's thresholds (see DESIGN.md).
ours_iters=$(( iters > 60 ? iters : 60 ))
echo "running avatar (1 and 2 threads, 2 in flight; $ours_iters iterations), libvips, sharp, Pillow ($iters iterations) on $dir..." >&2
"$root/target/release/avatar" bench "$dir" --iterations "$ours_iters" --warmup $warmup --threads 1 > "$peers/avatar.json"
"$root/target/release/avatar" bench "$dir" --iterations "$ours_iters" --warmup $warmup --threads 2 > "$peers/avatar-2t.json"
"$root/target/release/avatar" bench "$dir" --iterations "$ours_iters" --warmup $warmup --threads 2 --in-flight 2 > "$peers/avatar-2j.json"
"$peers/venv/bin/python" "$here/peers.py" vips "$dir" "$iters" $warmup > "$peers/vips.json"
(cd "$peers" && node "$here/sharp.mjs" "$dir" "$iters" $warmup) > "$peers/sharp.json"
"$peers/venv/bin/python" "$here/peers.py" pillow "$dir" "$iters" $warmup > "$peers/pillow.json"
python3 "$here/table.py" "$peers"
