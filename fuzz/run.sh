#!/usr/bin/env bash
# Runs one fuzz target for a bounded time on the stable toolchain, then minimises every
# crash it found into fuzz/regressions/<target>/ (replayed by `cargo test`).
#
# usage: fuzz/run.sh TARGET SECONDS        targets: probe, process, roundtrip, passthrough,
#                                          colour_kernel
#
# Runs on the machine's stable toolchain, no nightly: sanitizers need -Zsanitizer, so
# the targets are built with `--sanitizer none`, for which cargo-fuzz passes only stable
# flags (-Cpasses=sancov-module and -Cllvm-args for libFuzzer's coverage counters, plus
# --cfg fuzzing). Coverage guidance works; the oracle is the targets' own assertions
# and Rust's panics (the engine's only unsafe is its AVX2 dispatch calls, the JPEG
# IDCT's bounded vector loads and the colour kernel's AVX-512 loads and stores of
# whole 64-byte slices; its codecs' unsafe SIMD is not checked by ASan here).
# Fuzz builds (`--cfg fuzzing`) skip PNG checksums, which otherwise stop every mutated
# chunk at its CRC, and mutations draw on fuzz/image.dict (PNG chunk names, JPEG
# markers, GIF blocks).
# New inputs go to fuzz/corpus-run/<target>/ (ignored by git); the committed seeds in
# fuzz/corpus/<target>/ are read, never written.
set -euo pipefail
target=${1:?usage: fuzz/run.sh TARGET SECONDS}
seconds=${2:?usage: fuzz/run.sh TARGET SECONDS}
here=$(cd "$(dirname "$0")" && pwd)
cd "$here"
if ! cargo fuzz --version >/dev/null 2>&1; then
  cargo install --locked cargo-fuzz
fi
# Each run gets its own artifact folder, so only this run's findings are collected.
artifacts="artifacts/$target/$(date +%Y%m%d-%H%M%S)"
mkdir -p "corpus/$target" "corpus-run/$target" "$artifacts" "regressions/$target"
status=0
cargo fuzz run --sanitizer none "$target" "corpus-run/$target" "corpus/$target" -- \
  -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=65536 -dict=image.dict \
  -artifact_prefix="$artifacts/" -print_final_stats=1 2>&1 | tee "$artifacts/run.log" || status=$?
found=0
for crash in "$artifacts"/crash-* "$artifacts"/timeout-* "$artifacts"/oom-*; do
  [ -e "$crash" ] || continue
  found=$((found + 1))
  name=$(basename "$crash")
  cargo fuzz tmin --sanitizer none "$target" "$crash" -- -runs=2000 \
    -artifact_prefix="$artifacts/" >/dev/null 2>&1 || true
  minimised=$(ls -t "$artifacts"/minimized-from-* "artifacts/$target"/minimized-from-* 2>/dev/null | head -1 || true)
  cp "${minimised:-$crash}" "regressions/$target/$name"
  echo "regression: fuzz/regressions/$target/$name" >&2
done
echo "$target: ${seconds}s, exit $status, $found finding(s)" >&2
# A build failure or a libFuzzer error fails the run as a finding does.
[ "$found" -eq 0 ] && [ "$status" -eq 0 ]
