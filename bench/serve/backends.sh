#!/usr/bin/env bash
# Starts, in directory DIR, a PostgreSQL and a single-node Garage (S3-compatible) on
# loopback, for several `avatar serve` instances to share; both are installed by
# tests/services/install.sh (once per machine). Prints the settings the instances
# need as shell assignments (eval them), and leaves the two servers running; their
# process ids are in DIR/pids (`kill $(cat DIR/pids)` stops them).
#
# usage: env=$(bench/serve/backends.sh DIR) && eval "$env"
#   then: avatar serve --store s3://avatars --state "$AVATAR_STATE" ... (with the
#   AWS_* variables exported)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
dir=$(mkdir -p "$1" && cd "$1" && pwd)
{ read -r pg_bin; read -r garage; } < <("$here/../../tests/services/install.sh")

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() { for _ in $(seq 1 300); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.1; done; echo "$2 did not start" >&2; exit 1; }

# PostgreSQL refuses to run as root: then the cluster belongs to `postgres`.
owner=()
if [ "$(id -u)" = 0 ]; then
  owner=(setpriv --reuid=postgres --regid=postgres --init-groups --)
  mkdir -p "$dir/pg" && chown -R postgres:postgres "$dir/pg"
  if ! "${owner[@]}" test -w "$dir/pg"; then
    echo "backends.sh: the postgres user cannot reach $dir/pg (a parent directory is" \
      "private, as mktemp -d makes it: chmod 755 it)" >&2
    exit 1
  fi
fi
mkdir -p "$dir/pg"
"${owner[@]}" "$pg_bin/initdb" -A trust -U avatar --no-sync -D "$dir/pg/data" > "$dir/initdb.log" 2>&1
pg_port=$(free_port)
"${owner[@]}" "$pg_bin/postgres" -D "$dir/pg/data" -p "$pg_port" -k "$dir/pg" \
  -c listen_addresses=127.0.0.1 -c max_connections=100 > "$dir/postgres.log" 2>&1 &
echo $! > "$dir/pids"

key=GK$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')
secret=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
rpc=$(free_port); s3=$(free_port)
cat > "$dir/garage.toml" <<TOML
metadata_dir = "$dir/garage/meta"
data_dir = "$dir/garage/data"
db_engine = "sqlite"
replication_factor = 1
rpc_bind_addr = "127.0.0.1:$rpc"
rpc_public_addr = "127.0.0.1:$rpc"
rpc_secret = "$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')"

[s3_api]
s3_region = "garage"
api_bind_addr = "127.0.0.1:$s3"
TOML
chmod 600 "$dir/garage.toml"
GARAGE_DEFAULT_ACCESS_KEY=$key GARAGE_DEFAULT_SECRET_KEY=$secret GARAGE_DEFAULT_BUCKET=avatars \
  "$garage" -c "$dir/garage.toml" server --single-node --default-bucket > "$dir/garage.log" 2>&1 &
echo $! >> "$dir/pids"
wait_port "$pg_port" postgres
wait_port "$s3" garage
sleep 1 # the single-node layout is applied just after the port opens

cat <<ENV
export AWS_ACCESS_KEY_ID=$key AWS_SECRET_ACCESS_KEY=$secret AWS_REGION=garage
export AWS_ENDPOINT=http://127.0.0.1:$s3 AWS_ALLOW_HTTP=true AWS_VIRTUAL_HOSTED_STYLE_REQUEST=false
export AVATAR_STATE=postgres://avatar@127.0.0.1:$pg_port/postgres
ENV
