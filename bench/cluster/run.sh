#!/usr/bin/env bash
# bench/cluster/run.sh: relay between two nodes on one Redis (issue 15),
# peerdrop-server against the Node + socket.io + @socket.io/redis-adapter
# reference, both measured in this one invocation on this machine by the
# same load generator. Not part of CI. bench/README.md ("Many nodes") says
# what each figure means; bench/RESULTS.md has the figures.
#
#   bench/cluster/run.sh            full run (about 8 minutes on 2 cores)
#   bench/cluster/run.sh --quick    smoke run (about 2 minutes)
#
# Environment:
#   PEERDROP_SERVER  C server binary (default build/peerdrop-server)
#   REPEAT           repeats of every case (3; quick 1)
#   PAIRS WINDOW     client pairs (32) and unreceived offers per pair (32)
#   RATE             latency cases: offers per second in total (5000)
#   WARMUP DURATION  seconds before measuring, seconds measured (2, 5)
#   QUIET_WAIT       seconds to wait for an idle machine before each case (20)
#   MODES            which measurements: "relay latency" (both)
#   CONFIGS          which configurations, kind:layout, e.g. "peerdrop:1 peerdrop:2"
#                    (default: peerdrop:1 peerdrop:1r peerdrop:2 reference:1 reference:2)
#   RT=1             latency cases only: the nodes, Redis and the load generator
#                    run SCHED_FIFO (chrt -f 10, root), so that other work on a
#                    shared machine delays them less; they use ~20% of a core
#                    there. The report says when it was on.
#   KEEP_LOGS=1      keep the work directory (logs, raw lines)
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
BENCH=$(dirname "$HERE")
ROOT=$(dirname "$BENCH")
SERVER=${PEERDROP_SERVER:-$ROOT/build/peerdrop-server}

QUICK=0
for arg in "$@"; do
  case $arg in
    --quick) QUICK=1 ;;
    -h | --help) sed -n '2,25p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "run.sh: unknown argument $arg" >&2; exit 2 ;;
  esac
done
if [ "$QUICK" = 1 ]; then
  : "${REPEAT:=1}" "${WARMUP:=1}" "${DURATION:=2}" "${QUIET_WAIT:=5}"
fi
REPEAT=${REPEAT:-3}
PAIRS=${PAIRS:-32}
WINDOW=${WINDOW:-32}
RATE=${RATE:-5000}
WARMUP=${WARMUP:-2}
DURATION=${DURATION:-5}
QUIET_WAIT=${QUIET_WAIT:-20}

die() { echo "run.sh: $*" >&2; exit 1; }
[ -x "$SERVER" ] || die "no C server at $SERVER (build it, or set PEERDROP_SERVER)"
for p in node redis-server curl python3; do
  command -v $p > /dev/null || die "$p is needed"
done
ulimit -n "$(ulimit -Hn)"

make -s -C "$BENCH/loadgen" > /dev/null
LOADGEN=$BENCH/loadgen/loadgen
# the reference and its redis-adapter: exact versions in package-lock.json
if [ ! -d "$BENCH/reference/node_modules/@socket.io/redis-adapter" ]; then
  (cd "$BENCH/reference" && npm ci --no-audit --no-fund --loglevel=error) > /dev/null
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/peerdrop-cluster-bench.XXXXXX")
RESULTS=$WORK/results.txt
: > "$RESULTS"
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill -KILL "$p" 2> /dev/null || true; done
  if [ "${KEEP_LOGS:-0}" = 1 ]; then echo "logs and raw results kept in $WORK" >&2; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

# ---- processes -----------------------------------------------------------------

# Both servers get the same flags. peerdrop's per-address caps are off: the
# load generator is one address creating and joining 32 rooms at once
# (bench/run.sh says why); the reference has no such caps.
SERVER_ARGS=(--argon2 min --rate-limit 0 --port 0 --host 127.0.0.1 --log-level warn)
PEERDROP_ONLY_ARGS=(--max-conns-per-ip 0 --max-sessions-per-ip 0 --max-sessions 0 --hash-queue 0
  --hash-queue-per-address 0 --address-guesses 0)
N=0

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# A fresh redis-server, no persistence, in the work directory; sets RPID, RURL.
start_redis() {
  local port log=$WORK/redis.$((++N)).log
  for _ in 1 2 3; do
    port=$(free_port)
    "${PFX[@]}" redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no --dir "$WORK" \
      --logfile "$log" &
    RPID=$!
    PIDS+=("$RPID")
    for _ in $(seq 50); do
      if [ "$(redis-cli -p "$port" ping 2> /dev/null)" = PONG ]; then
        RURL=redis://127.0.0.1:$port
        return 0
      fi
      kill -0 "$RPID" 2> /dev/null || break
      sleep 0.1
    done
    kill -KILL "$RPID" 2> /dev/null || true
  done
  die "redis-server did not start (log: $log)"
}

# start_node kind [redis-url]: one server; sets NPID, NPORT, NLOG.
start_node() {
  local kind=$1 redis=${2:-}
  local extra=()
  [ -n "$redis" ] && extra=(--redis "$redis")
  NLOG=$WORK/$kind.$((++N)).log
  case $kind in
    peerdrop) "${PFX[@]}" "$SERVER" "${SERVER_ARGS[@]}" "${PEERDROP_ONLY_ARGS[@]}" "${extra[@]}" 2> "$NLOG" > /dev/null & ;;
    reference) "${PFX[@]}" node "$BENCH/reference/server.mjs" "${SERVER_ARGS[@]}" "${extra[@]}" 2> "$NLOG" > /dev/null & ;;
  esac
  NPID=$!
  PIDS+=("$NPID")
  NPORT=
  for _ in $(seq 300); do
    kill -0 "$NPID" 2> /dev/null || { cat "$NLOG" >&2; die "$kind exited at start"; }
    NPORT=$(grep -o 'listening url=http://[^ ]*' "$NLOG" 2> /dev/null | head -1 | sed 's/.*://') || true
    [ -n "$NPORT" ] && break
    sleep 0.1
  done
  [ -n "$NPORT" ] || die "$kind did not print its listening line within 30 s"
  for _ in $(seq 100); do
    curl -fsS -m 2 "http://127.0.0.1:$NPORT/healthz" > /dev/null 2>&1 && return 0
    sleep 0.2
  done
  die "$kind on port $NPORT does not answer /healthz"
}

# stop pid: SIGTERM, 5 s, then SIGKILL; echoes ok or what went wrong
stop_pid() {
  local pid=$1
  if ! kill -0 "$pid" 2> /dev/null; then
    wait "$pid" 2> /dev/null && echo "exited(0)" || echo "died"
    return
  fi
  kill -TERM "$pid"
  for _ in $(seq 50); do kill -0 "$pid" 2> /dev/null || break; sleep 0.1; done
  if kill -0 "$pid" 2> /dev/null; then
    kill -KILL "$pid"
    wait "$pid" 2> /dev/null || true
    echo hung-on-SIGTERM
    return
  fi
  wait "$pid" 2> /dev/null || true
  echo ok
}

machine_busy() { awk '/^cpu /{print $2+$3+$4+$7+$8+$9, $2+$3+$4+$5+$6+$7+$8+$9}' /proc/stat; }
wait_quiet() {
  local end=$((SECONDS + QUIET_WAIT)) b0 t0 b1 t1 pct
  while :; do
    read -r b0 t0 < <(machine_busy)
    sleep 1
    read -r b1 t1 < <(machine_busy)
    pct=$(((b1 - b0) * 100 / (t1 - t0 + 1)))
    [ "$pct" -lt 15 ] && return 0
    if [ $SECONDS -ge $end ]; then
      echo "   (machine still ${pct}% busy after ${QUIET_WAIT}s; measuring anyway)" >&2
      return 0
    fi
  done
}

# ---- cases ---------------------------------------------------------------------
# A configuration is a server kind and a layout:
#   1    one node, no Redis (the default deployment)
#   1r   one node with --redis, both peers on it
#   2    two nodes on one Redis; A on node 1, B on node 2: every offer crosses
# Server CPU is the sum of every process of the configuration (nodes and
# Redis): what the deployment spends per message.

PFX=()
run_case() { # kind layout mode
  local kind=$1 layout=$2 mode=$3 rurl="" ports=() pids=() line rc status errs
  PFX=()
  [ "${RT:-0}" = 1 ] && [ "$mode" = latency ] && PFX=(chrt -f 10)
  if [ "$layout" != 1 ]; then
    start_redis
    rurl=$RURL
  fi
  start_node "$kind" "$rurl"
  ports+=("$NPORT")
  pids+=("$NPID")
  local logs=("$NLOG")
  if [ "$layout" = 2 ]; then
    start_node "$kind" "$rurl"
    ports+=("$NPORT")
    pids+=("$NPID")
    logs+=("$NLOG")
  fi
  local args=(--port "${ports[0]}")
  [ "$layout" = 2 ] && args+=(--port-b "${ports[1]}")
  for p in "${pids[@]}"; do args+=(--pid "$p"); done
  [ -n "$rurl" ] && args+=(--pid "$RPID")
  case $mode in
    relay) args+=(--pairs "$PAIRS" --window "$WINDOW" --ack 1) ;;
    latency) args+=(--pairs "$PAIRS" --rate "$RATE") ;;
  esac
  wait_quiet
  set +e
  line=$(timeout 300 "${PFX[@]}" "$LOADGEN" "$mode" "${args[@]}" --warmup "$WARMUP" --duration "$DURATION" 2>> "$WORK/loadgen.err")
  rc=$?
  set -e
  status=ok
  for p in "${pids[@]}"; do
    local s
    s=$(stop_pid "$p")
    [ "$s" = ok ] || status=$s
  done
  [ -n "$rurl" ] && stop_pid "$RPID" > /dev/null
  errs=$(cat "${logs[@]}" | grep -ci 'error' || true)
  [ -n "$line" ] || line="mode=none"
  echo "$kind $layout $mode rc=$rc server=$status server_log_errors=$errs $line" >> "$RESULTS"
  printf '   %-9s %-2s %-7s %s\n' "$kind" "$layout" "$mode" "$(summary "$line")" >&2
  if [ "$rc" != 0 ] || [ "$status" != ok ] || [ "$errs" != 0 ]; then
    echo "   !! $kind $layout $mode: loadgen exit $rc, servers $status, $errs error lines in their logs" >&2
    tail -n 5 "$WORK/loadgen.err" | sed 's/^/   !! loadgen: /' >&2
    cat "${logs[@]}" | grep -i 'error' | head -n 5 | sed 's/^/   !! server: /' >&2
  fi
}

summary() {
  echo "$1" | tr ' ' '\n' | grep -E '^(msgs_per_s|server_cpu_us_per_msg|lat_p50_us|lat_p99_us|skipped|server_cpu_pct_each|loadgen_cpu_pct|other_cpu_pct|errors)=' | tr '\n' ' '
}

read -r -a CONFIGS <<< "${CONFIGS:-peerdrop:1 peerdrop:1r peerdrop:2 reference:1 reference:2}"
read -r -a MODES <<< "${MODES:-relay latency}"
echo "bench/cluster: $REPEAT repeat(s), $PAIRS pairs, window $WINDOW, latency at $RATE msg/s, ${WARMUP}+${DURATION} s per case$([ "${RT:-0}" = 1 ] && echo ", latency cases SCHED_FIFO (RT=1)")" >&2
echo "   peerdrop: $SERVER; reference: node $(node --version), socket.io + @socket.io/redis-adapter; $(redis-server --version | grep -o 'v=[^ ]*')" >&2
for r in $(seq "$REPEAT"); do
  echo "== round $r/$REPEAT" >&2
  for mode in "${MODES[@]}"; do
    for c in "${CONFIGS[@]}"; do
      run_case "${c%%:*}" "${c#*:}" "$mode"
    done
  done
done

# ---- report --------------------------------------------------------------------

python3 "$HERE/report.py" "$RESULTS" "$RATE"

problems=$(grep -v ' rc=0 server=ok server_log_errors=0 ' "$RESULTS" || true)
problems+=$(grep -E ' errors=[1-9]| undelivered=[1-9]' "$RESULTS" || true)
if [ -n "$problems" ]; then
  echo
  echo "PROBLEMS (loadgen exit, server state, server log errors, loadgen errors):"
  echo "$problems" | cut -c1-300
fi
echo
echo "raw lines:"
cat "$RESULTS"
