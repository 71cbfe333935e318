#!/usr/bin/env bash
# `make dev`: runs the demo upstream, the origin (embedded SQLite) and the edge under
# `wrangler dev`, seeds a demo API, consumer and key, and prints how to call it.
# Ctrl-C (or any exit) stops every process this script started.
set -euo pipefail
cd "$(dirname "$0")/.."

DATA_DIR=${TOLLGATE_DATA_DIR:-.tollgate}
ORIGIN_ADDR=${TOLLGATE_ORIGIN_ADDR:-127.0.0.1:8080}
EDGE_PORT=${TOLLGATE_EDGE_PORT:-8787}
UPSTREAM_ADDR=${TOLLGATE_DEMO_UPSTREAM_ADDR:-127.0.0.1:9090}
BIN=${TOLLGATE_BIN:-target/debug/tollgate}
mkdir -p "$DATA_DIR"
export TOLLGATE_DATA_DIR=$DATA_DIR TOLLGATE_ORIGIN_ADDR=$ORIGIN_ADDR
export WRANGLER_SEND_METRICS=false CLOUDFLARE_CF_FETCH_ENABLED=false
# The portal's try-it console calls the edge here.
export TOLLGATE_EDGE_URL=${TOLLGATE_EDGE_URL:-http://127.0.0.1:$EDGE_PORT}

# Secrets: from the environment, else kept in the data dir (generated on first run).
secret() { # name file
  local file="$DATA_DIR/$2"
  if [ ! -s "$file" ]; then (umask 077; head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$file"); fi
  cat "$file"
}
export TOLLGATE_ADMIN_TOKEN=${TOLLGATE_ADMIN_TOKEN:-$(secret admin admin-token)}
export TOLLGATE_EDGE_SECRET=${TOLLGATE_EDGE_SECRET:-$(secret edge edge-secret)}

pids=()
cleanup() {
  trap - EXIT INT TERM HUP
  echo; echo "stopping tollgate…"
  for pid in "${pids[@]}"; do kill -TERM -- "-$pid" 2>/dev/null || true; done
  sleep 1
  for pid in "${pids[@]}"; do kill -KILL -- "-$pid" 2>/dev/null || true; done
}
trap cleanup EXIT INT TERM HUP

# Each child gets its own process group, so stopping it stops its children (workerd) too.
start() { setsid "$@" & pids+=($!); }

wait_http() { # url what
  for _ in $(seq 1 300); do curl -fsS -o /dev/null "$1" 2>/dev/null && return 0; sleep 0.1; done
  echo "error: $2 did not start at $1; see the output above" >&2; exit 1
}

start "$BIN" demo-upstream --addr "$UPSTREAM_ADDR"
start "$BIN" serve
wait_http "http://$UPSTREAM_ADDR/ready" "the demo upstream"
wait_http "http://$ORIGIN_ADDR/healthz" "the origin"

admin() { # method path [json]
  curl -sS -X "$1" "http://$ORIGIN_ADDR$2" -H "authorization: Bearer $TOLLGATE_ADMIN_TOKEN" \
    -H 'content-type: application/json' ${3:+--data "$3"}
}
json() { node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const v=JSON.parse(s);console.log(v[process.argv[1]]??"")})' "$1"; }

# Seed once; the demo key is kept in the data dir so every run prints a working curl.
if [ ! -s "$DATA_DIR/demo-key" ]; then
  api_id=$(admin POST /admin/v1/apis "{\"name\":\"demo\",\"base_path\":\"/demo\",\"upstream_url\":\"http://$UPSTREAM_ADDR\"}" | json id)
  consumer_id=$(admin POST /admin/v1/consumers '{"name":"Demo Developer","email":"demo@example.com"}' | json id)
  [ -n "$api_id" ] && [ -n "$consumer_id" ] || { echo "error: seeding the demo API failed" >&2; exit 1; }
  (umask 077; admin POST /admin/v1/keys "{\"consumer_id\":\"$consumer_id\",\"api_id\":\"$api_id\"}" | json key > "$DATA_DIR/demo-key")
  # Published with a free plan, so the developer portal lists it and offers the plan.
  spec='{"openapi":"3.0.3","info":{"title":"demo","version":"1.0.0"},"paths":{"/hello":{"get":{"parameters":[{"name":"name","in":"query","schema":{"type":"string"}}],"responses":{"200":{"description":"an echo"}}}}}}'
  curl -sS -o /dev/null -X POST "http://$ORIGIN_ADDR/admin/v1/apis/$api_id/versions?version=1.0.0" \
    -H "authorization: Bearer $TOLLGATE_ADMIN_TOKEN" -H 'content-type: application/json' --data "$spec"
  admin POST "/admin/v1/apis/$api_id/versions/1.0.0/publish" '{}' >/dev/null
  admin POST /admin/v1/plans '{"name":"Free","type":"free","rate_limit":{"requests":60,"per_seconds":60}}' >/dev/null
fi
DEMO_KEY=$(cat "$DATA_DIR/demo-key")
# A platform operator for the console, once; the password is kept in the data dir.
if [ ! -s "$DATA_DIR/operator-password" ]; then
  password=$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')
  TOLLGATE_OPERATOR_PASSWORD=$password "$BIN" operator create --email operator@example.com \
    --name "Demo Operator" >/dev/null
  (umask 077; printf '%s\n' "$password" > "$DATA_DIR/operator-password")
fi

# The edge's settings go in a private env file, not on a command line other users can read.
(umask 077; printf 'ORIGIN_URL=http://%s\nEDGE_SECRET=%s\n' "$ORIGIN_ADDR" "$TOLLGATE_EDGE_SECRET" > "$DATA_DIR/edge.env")
start npx wrangler dev --ip 127.0.0.1 --port "$EDGE_PORT" --inspector-port 0 \
  --persist-to "$DATA_DIR/edge" --show-interactive-dev-session=false --env-file "$DATA_DIR/edge.env"
for _ in $(seq 1 600); do
  curl -s -o /dev/null "http://127.0.0.1:$EDGE_PORT/" 2>/dev/null && break
  sleep 0.1
done

cat <<BANNER

  tollgate is running
    edge      http://127.0.0.1:$EDGE_PORT      (wrangler dev, workerd)
    origin    http://$ORIGIN_ADDR      (admin API, /openapi.json, /healthz)
    portal    http://$ORIGIN_ADDR/portal   (developer portal: sign up, subscribe, create a key, try it)
    console   http://$ORIGIN_ADDR/console  (operators: operator@example.com, password in $DATA_DIR/operator-password)
    upstream  http://$UPSTREAM_ADDR      (demo echo service)
    data      $DATA_DIR

  admin token  $TOLLGATE_ADMIN_TOKEN
  demo key     $DEMO_KEY

  try it:
    curl -H "Authorization: Bearer $DEMO_KEY" http://127.0.0.1:$EDGE_PORT/demo/hello?name=tollgate

  Ctrl-C stops everything.
BANNER
wait -n "${pids[@]}"
echo "a tollgate process exited; stopping the rest" >&2
