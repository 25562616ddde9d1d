#!/usr/bin/env bash
# Load run against `avatar serve` on loopback: CLIENTS concurrent curl clients upload
# the still photos of DIR (users.setPhoto, each client its own user and token), UPLOADS
# uploads in all. Prints avatars/s, p50/p99 latency and each server's peak RSS.
# With INSTANCES > 1, that many instances share one bucket of a Garage (S3) and one
# PostgreSQL (started by bench/serve/backends.sh), each with --jobs JOBS, and upload i
# goes to instance i mod INSTANCES; with 1, one instance over the file store and
# SQLite, as `avatar serve` runs by default.
#
# usage: bench/serve/load.sh [DIR] [CLIENTS] [UPLOADS] [INSTANCES] [JOBS]
#        (default ../shared/bench-inputs, 4, 200, 1, one per core)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
dir=$(cd "${1:-$root/../shared/bench-inputs}" && pwd)
clients=${2:-4}
uploads=${3:-200}
instances=${4:-1}
jobs=${5:-$(nproc)}
work=$(mktemp -d)
servers=()
trap 'kill "${servers[@]}" $(cat "$work/backends/pids" 2>/dev/null) 2>/dev/null || true; sleep 1; rm -rf "$work" 2>/dev/null || true' EXIT

(cd "$root" && cargo build --release --quiet --features server --bin avatar)

# One team, one user and token per client, limits high enough not to interfere.
{
  echo '[[team]]'; echo 'id = "T1"'
  for c in $(seq 1 "$clients"); do
    printf '[[user]]\nid = "U%s"\nteam = "T1"\nname = "load%s"\n' "$c" "$c"
    printf '[[token]]\ntoken = "t%s"\nuser = "U%s"\ntype = "user"\nscopes = ["users.profile:write", "users.profile:read"]\n' "$c" "$c"
  done
  printf '[rate_limits]\ntier2 = 1000000\ntier3 = 1000000\ntier4 = 1000000\nscope = "instance"\n'
} > "$work/config.toml"

store=(--data "$work/data")
if [ "$instances" -gt 1 ] || [ "${STORE:-}" = s3 ]; then
  # The database runs as the postgres user when we are root: it must reach $work.
  chmod 755 "$work"
  backends=$("$here/backends.sh" "$work/backends")
  eval "$backends"
  store=(--store s3://avatars --state "$AVATAR_STATE")
fi
bases=()
for n in $(seq 1 "$instances"); do
  "$root/target/release/avatar" serve --config "$work/config.toml" "${store[@]}" \
    --jobs "$jobs" --listen 127.0.0.1:0 --log-level warn > "$work/ready$n" &
  servers+=($!)
  for _ in $(seq 1 100); do [ -s "$work/ready$n" ] && break; sleep 0.1; done
  bases+=("http://$(sed -E 's/.*"listening":"([^"]+)".*/\1/' "$work/ready$n")")
done

photos=()
for f in "$dir"/*.jpg "$dir"/*.png; do photos+=("$f"); done
# Job list: upload i goes to client (i mod clients), photo (i mod photos).
for i in $(seq 0 $((uploads - 1))); do
  f=${photos[$((i % ${#photos[@]}))]}
  case "$f" in *.png) mime=image/png ;; *) mime=image/jpeg ;; esac
  echo "t$((i % clients + 1)) $f $mime $i ${bases[$((i % instances))]}"
done > "$work/jobs"
mkdir -p "$work/answers"

start=$(date +%s.%N)
xargs -P "$clients" -L 1 sh -c \
  'curl -s -o '"$work"'/answers/$3 -w "%{http_code} %{time_total}\n" -H "Authorization: Bearer $0" -F "image=@$1;type=$2" "$4/api/users.setPhoto"' \
  < "$work/jobs" > "$work/times"
end=$(date +%s.%N)
rss=$(for s in "${servers[@]}"; do awk '/VmHWM/ {print $2}' "/proc/$s/status"; done | paste -sd, -)

# Each answer is kept in its own file; each line of times: HTTP status, seconds.
ok=$(grep -l '^{"ok":true' "$work"/answers/* | wc -l)
awk '{print $NF}' "$work/times" | sort -n | awk -v n="$uploads" -v ok="$ok" -v t0="$start" -v t1="$end" -v rss="$rss" -v c="$clients" -v inst="$instances" -v jobs="$jobs" '
  { t[NR] = $1 }
  END {
    wall = t1 - t0
    p50 = t[int(NR * 0.50 + 0.5)]; p99 = t[int(NR * 0.99 + 0.5)]
    printf "{\"instances\":%d,\"jobs_each\":%d,\"clients\":%d,\"uploads\":%d,\"ok\":%d,\"seconds\":%.2f,\"avatars_per_s\":%.1f,\"p50_ms\":%.1f,\"p99_ms\":%.1f,\"peak_rss_kb\":[%s]}\n", inst, jobs, c, n, ok, wall, ok / wall, p50 * 1000, p99 * 1000, rss
  }'
