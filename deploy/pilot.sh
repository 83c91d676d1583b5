#!/usr/bin/env bash
# The local pilot: a civreg hub and the three pilot offices (Istog/Istok, Mitrovicë/Mitrovica,
# Prishtinë/Priština) on this machine. The hub's PKI issues each office an enrollment bundle with
# the real `pki` commands; each node has its own data dir, key file and clerk, imports demo
# register pages, and runs its sync worker against the hub over mutual TLS.
#
#   ./deploy/pilot.sh            start (or restart on the same data); Ctrl-C stops everything
#   PILOT_SECONDS=20 ./deploy/pilot.sh    stop by itself after 20 s (for scripted runs)
#
# Data lives in ./pilot-data (PILOT_DATA=DIR to change); `rm -rf pilot-data` resets it.
# Not yet in the pilot: the operator dashboard and the "cut one node's link" form (README).
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=${PILOT_DATA:-$PWD/pilot-data}
PORT=${PILOT_PORT:-7443}
HUB_URL=https://localhost:$PORT

echo "== building civreg (release)"
cargo build --release --locked -p civreg-node -p civreg-hub
NODE=$PWD/target/release/civreg-node
HUB=$PWD/target/release/civreg-hub

export CIVREG_CLERK=pilot
export CIVREG_CLERK_PASSWORD=${PILOT_PASSWORD:-pilot-demo-password}
export CIVREG_NEW_CLERK_PASSWORD=$CIVREG_CLERK_PASSWORD
mkdir -p "$DATA/logs"

pids=()
stop() {
  echo
  echo "== stopping"
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  echo "stopped; data kept in $DATA (run again to continue)"
}
trap stop EXIT
trap 'exit 130' INT TERM

echo "== hub ($DATA/hub)"
if [ ! -f "$DATA/hub/pki/ca.pem" ]; then
  "$HUB" --data-dir "$DATA/hub" pki init
fi
"$HUB" --data-dir "$DATA/hub" serve --grpc-listen "127.0.0.1:$PORT" >"$DATA/logs/hub.out" 2>"$DATA/logs/hub.log" &
pids+=($!)

for m in istog mitrovice-jugut prishtine; do
  d=$DATA/$m
  echo
  echo "== office $m ($d)"
  if [ ! -d "$d/db" ]; then
    "$HUB" --data-dir "$DATA/hub" pki issue --municipality "$m" --node-id 1 --out "$DATA/bundles/$m" --hub-url "$HUB_URL"
    "$NODE" --data-dir "$d" init --bundle "$DATA/bundles/$m"
    "$NODE" --data-dir "$d" clerk add "$CIVREG_CLERK"
  fi
  # Exit code 1 means some rows were rejected; the pilot files have none, so stop if it happens.
  "$NODE" --data-dir "$d" import "deploy/pilot/$m.csv"
  "$NODE" --data-dir "$d" verify
  "$NODE" --data-dir "$d" serve --interval-secs 2 >"$DATA/logs/$m.out" 2>"$DATA/logs/$m.log" &
  pids+=($!)
done

echo
echo "== waiting for every office to reach the hub"
deadline=$((SECONDS + 60))
for m in istog mitrovice-jugut prishtine; do
  until st=$("$NODE" --data-dir "$DATA/$m" --json status) \
        && grep -q '"online":true' <<<"$st" && grep -q '"ops_waiting":0' <<<"$st"; do
    if [ $SECONDS -ge $deadline ]; then
      echo "office $m has not synced within 60 s; see $DATA/logs/$m.log" >&2
      exit 1
    fi
    sleep 0.5
  done
  echo "$m: synced"
done

until [ "$("$HUB" --data-dir "$DATA/hub" --json status 2>/dev/null | grep -o '"node"' | wc -l)" -ge 3 ]; do
  if [ $SECONDS -ge $deadline ]; then echo "the hub does not list the offices; see $DATA/logs/hub.log" >&2; exit 1; fi
  sleep 0.5
done
echo
"$HUB" --data-dir "$DATA/hub" status

echo
echo "== searching across scripts at Prishtinë (local answers; national search is not built yet)"
for q in "Arben Gashi 1968" "Гаши" "gashi arbn" "Djordjevic" "Krasnići"; do
  echo "-- civreg-node search $q"
  "$NODE" --data-dir "$DATA/prishtine" search $q --limit 3
done

echo
echo "pilot running: hub on $HUB_URL, logs in $DATA/logs"
echo "try:  $NODE --data-dir $DATA/istog status"
echo "      $HUB --data-dir $DATA/hub status"
if [ -n "${PILOT_SECONDS:-}" ]; then
  sleep "$PILOT_SECONDS"
else
  echo "Ctrl-C stops the pilot"
  wait
fi
