#!/usr/bin/env bash
# The local pilot: a civreg hub and the three pilot offices (Istog/Istok, Mitrovicë/Mitrovica,
# Prishtinë/Priština) on this machine. The hub's PKI issues each office an enrollment bundle with
# the real `pki` commands; each node has its own data dir, key file and clerk, imports demo
# register pages, and runs its sync worker against the hub over mutual TLS.
#
#   ./deploy/pilot.sh             start (or restart on the same data); Ctrl-C stops everything
#   ./deploy/pilot.sh --cut-link  the same, then cuts Istog's link for a while (PILOT_CUT_SECONDS,
#                                 default 45): the dashboard shows it go dark, the clerk keeps
#                                 registering, and when the link returns it catches up
#   PILOT_SECONDS=20 ./deploy/pilot.sh    stop by itself after 20 s (for scripted runs)
#   PILOT_PORT, PILOT_HTTP_PORT, PILOT_APP_PORT, PILOT_DATA, PILOT_BIN_DIR: ports, data dir,
#                                 prebuilt binaries
#
# The operator dashboard is at http://127.0.0.1:8080 (PILOT_HTTP_PORT), login `pilot-operator`
# with the password printed at the end (PILOT_OPERATOR_PASSWORD to choose it).
# Each office's clerk app is at http://127.0.0.1:8091, :8092, :8093 (from PILOT_APP_PORT), login
# `pilot` with the password printed at the end (PILOT_PASSWORD to choose it).
# Data lives in ./pilot-data (PILOT_DATA=DIR to change); `rm -rf pilot-data` resets it.
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=${PILOT_DATA:-$PWD/pilot-data}
PORT=${PILOT_PORT:-7443}
HTTP_PORT=${PILOT_HTTP_PORT:-8080}
APP_PORT=${PILOT_APP_PORT:-8091}
HUB_URL=https://localhost:$PORT
CUT=""
case "${1:-}" in
  --cut-link) CUT=istog ;;
  "") ;;
  *) echo "usage: $0 [--cut-link]" >&2; exit 2 ;;
esac
LINK_PORT=$((PORT + 1))
OPERATOR=pilot-operator

# Every port the pilot serves on must be free: a taken one stops the pilot here, loudly, instead
# of a hub that only logs that its dashboard is not served.
port_taken() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
ports=("hub (PILOT_PORT)=$PORT" "dashboard (PILOT_HTTP_PORT)=$HTTP_PORT")
for i in 0 1 2; do ports+=("clerk app $((i + 1)) (PILOT_APP_PORT+$i)=$((APP_PORT + i))"); done
if [ -n "$CUT" ]; then ports+=("cut-able link (PILOT_PORT+1)=$LINK_PORT"); fi
for entry in "${ports[@]}"; do
  p=${entry##*=}
  if port_taken "$p"; then
    echo "pilot: port $p for the ${entry%=*} is taken by another program: stop it, or choose another port with the variable named" >&2
    exit 1
  fi
done
export CIVREG_OPERATOR=$OPERATOR
export CIVREG_OPERATOR_PASSWORD=${PILOT_OPERATOR_PASSWORD:-pilot-operator-password}

if [ -n "${PILOT_BIN_DIR:-}" ]; then
  BIN=$PILOT_BIN_DIR   # prebuilt binaries (the test suite runs the pilot this way)
else
  echo "== building civreg (release)"
  cargo build --release --locked -p civreg-node -p civreg-hub -p civreg-deploy
  BIN=$PWD/target/release
fi
NODE=$BIN/civreg-node
HUB=$BIN/civreg-hub
LINK=$BIN/civreg-link

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
  "$HUB" --data-dir "$DATA/hub" operator add "$OPERATOR"
fi
"$HUB" --data-dir "$DATA/hub" serve --grpc-listen "127.0.0.1:$PORT" --http-listen "127.0.0.1:$HTTP_PORT" \
  >"$DATA/logs/hub.out" 2>"$DATA/logs/hub.log" &
pids+=($!)
# The hub prints where it serves the dashboard; a port taken since the check above, or refused,
# stops the pilot instead of printing a dashboard address that does not answer.
hub_deadline=$((SECONDS + 60))
until grep -q "^dashboard on " "$DATA/logs/hub.out" 2>/dev/null; do
  if ! kill -0 "${pids[-1]}" 2>/dev/null; then
    echo "pilot: the hub stopped while starting; see $DATA/logs/hub.log" >&2
    tail -n 5 "$DATA/logs/hub.log" >&2 || true
    exit 1
  fi
  if grep -q "the dashboard is not served" "$DATA/logs/hub.log" 2>/dev/null || [ $SECONDS -ge $hub_deadline ]; then
    echo "pilot: the hub does not serve its dashboard on 127.0.0.1:$HTTP_PORT (port taken?); see $DATA/logs/hub.log" >&2
    exit 1
  fi
  sleep 0.2
done
if [ -n "$CUT" ]; then
  # The office's line: a relay the pilot can cut (SIGUSR1) and restore (SIGUSR2).
  "$LINK" --listen "127.0.0.1:$LINK_PORT" --to "127.0.0.1:$PORT" >"$DATA/logs/link.out" 2>&1 &
  link_pid=$!
  pids+=($link_pid)
fi

OFFICES=(istog mitrovice-jugut prishtine)
app_port() { # office → the port of its clerk app
  local i
  for i in "${!OFFICES[@]}"; do
    if [ "${OFFICES[$i]}" = "$1" ]; then echo $((APP_PORT + i)); return; fi
  done
}
for m in "${OFFICES[@]}"; do
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
  hub_arg=()
  if [ "$m" = "$CUT" ]; then hub_arg=(--hub "https://localhost:$LINK_PORT"); fi
  "$NODE" --data-dir "$d" serve --interval-secs 2 --http-listen "127.0.0.1:$(app_port "$m")" "${hub_arg[@]}" >"$DATA/logs/$m.out" 2>"$DATA/logs/$m.log" &
  pids+=($!)
done

synced() { # office, seconds
  local deadline=$((SECONDS + $2)) st
  until st=$("$NODE" --data-dir "$DATA/$1" --json status) \
        && grep -q '"online":true' <<<"$st" && grep -q '"ops_waiting":0' <<<"$st"; do
    if [ $SECONDS -ge $deadline ]; then
      echo "office $1 has not synced within $2 s; see $DATA/logs/$1.log" >&2
      return 1
    fi
    sleep 0.5
  done
  echo "$1: synced"
}

echo
echo "== waiting for every office to reach the hub"
deadline=$((SECONDS + 60))
for m in "${OFFICES[@]}"; do
  synced "$m" 60
done

until [ "$("$HUB" --data-dir "$DATA/hub" --json status 2>/dev/null | grep -o '"node"' | wc -l)" -ge 3 ]; do
  if [ $SECONDS -ge $deadline ]; then echo "the hub does not list the offices; see $DATA/logs/hub.log" >&2; exit 1; fi
  sleep 0.5
done
echo
"$HUB" --data-dir "$DATA/hub" status

# The hub's search index follows each office's feed on its own (within a second or so): wait
# until it holds a record of every office (a name from each office's demo file).
for probe in Gashi Đorđević Krasniqi; do
  until "$HUB" --data-dir "$DATA/hub" --json search "$probe" 2>/dev/null | grep -q '"regno"'; do
    if [ $SECONDS -ge $deadline ]; then echo "the hub's search index did not catch up (no $probe); see $DATA/logs/hub.log" >&2; exit 1; fi
    sleep 0.5
  done
done
echo
echo "== searching across scripts from Prishtinë (national answers from the hub's index)"
for q in "Arben Gashi 1968" "Гаши" "gashi arbn" "Djordjevic" "Krasnići"; do
  echo "-- civreg-node search $q"
  "$NODE" --data-dir "$DATA/prishtine" search $q --limit 3
done

# Each office's clerk app answers (it is served by the office's `serve`).
for m in "${OFFICES[@]}"; do
  until (exec 3<>"/dev/tcp/127.0.0.1/$(app_port "$m")") 2>/dev/null; do
    if [ $SECONDS -ge $deadline ]; then echo "the clerk app of $m does not answer on port $(app_port "$m"); see $DATA/logs/$m.log" >&2; exit 1; fi
    sleep 0.5
  done
done

echo
echo "pilot running: hub on $HUB_URL, logs in $DATA/logs"
echo "dashboard:  http://127.0.0.1:$HTTP_PORT   login: $OPERATOR   password: $CIVREG_OPERATOR_PASSWORD"
for m in "${OFFICES[@]}"; do
  printf 'clerk app of %-16s http://127.0.0.1:%s   login: %s   password: %s\n' "$m:" "$(app_port "$m")" "$CIVREG_CLERK" "$CIVREG_CLERK_PASSWORD"
done
echo "try:  $NODE --data-dir $DATA/istog status"
echo "      $HUB --data-dir $DATA/hub status"

if [ -n "$CUT" ]; then
  cut_for=${PILOT_CUT_SECONDS:-45}
  echo
  echo "== cutting $CUT's link for $cut_for s: within 10 s (two of its 2-second rounds and a margin) the dashboard lists it as not reaching the hub"
  kill -USR1 "$link_pid"
  for i in 1 2 3; do
    "$NODE" --data-dir "$DATA/$CUT" register birth --file deploy/examples/birth.json
  done
  sleep 3
  "$NODE" --data-dir "$DATA/$CUT" status || true
  sleep "$cut_for"
  echo
  echo "== restoring $CUT's link: it catches up on its own"
  kill -USR2 "$link_pid"
  synced "$CUT" 120
  "$HUB" --data-dir "$DATA/hub" status
fi
if [ -n "${PILOT_SECONDS:-}" ]; then
  sleep "$PILOT_SECONDS"
else
  echo "Ctrl-C stops the pilot"
  wait
fi
