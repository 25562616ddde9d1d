#!/usr/bin/env bash
# users.profile.set throughput against one `avatar serve` on loopback (file store,
# SQLite state, the example config with Tier 3 lifted): CLIENTS curl clients, each on
# one kept-alive connection, each making CALLS calls that change the same user's title,
# so every call waits for the one before it on the user's row. Prints calls/s.
#
# usage: bench/serve/profile_set.sh [CLIENTS] [CALLS]   (default 4, 500)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
clients=${1:-4}
calls=${2:-500}
work=$(mktemp -d)
server=
trap 'kill $server 2>/dev/null || true; sleep 0.5; rm -rf "$work"' EXIT

(cd "$root" && cargo build --release --quiet --features server --bin avatar)
sed 's/^tier3 = .*/tier3 = 100000000/' "$root/src/server/example.toml" > "$work/config.toml"
"$root/target/release/avatar" serve --config "$work/config.toml" --data "$work/data" \
  --listen 127.0.0.1:0 --log-level off > "$work/ready" 2>/dev/null &
server=$!
while ! grep -q listening "$work/ready" 2>/dev/null; do sleep 0.1; done
base="http://$(sed 's/.*"listening":"\([^"]*\)".*/\1/' "$work/ready")"

start=$(date +%s.%N)
for c in $(seq 1 "$clients"); do
  (
    args=()
    for i in $(seq 1 "$calls"); do
      [ "$i" -gt 1 ] && args+=(--next)
      args+=(-H 'Authorization: Bearer xoxp-ada' --data-urlencode name=title
        --data-urlencode "value=client $c call $i" "$base/api/users.profile.set")
    done
    curl -s "${args[@]}" | grep -o '"ok":true' | wc -l
  ) &
done | awk -v want=$((clients * calls)) '{ok += $1} END {if (ok != want) {print "only " ok " of " want " ok"; exit 1}}'
end=$(date +%s.%N)
echo "$clients clients x $calls calls: $(echo "$clients * $calls / ($end - $start)" | bc -l | cut -d. -f1) calls/s"
