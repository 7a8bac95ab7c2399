#!/usr/bin/env bash
# bench/run.sh: peerdrop-server against the Node + socket.io reference, both
# measured in this one invocation on this machine, by the same load generator.
# Not part of CI. See bench/README.md for what each figure means.
#
#   bench/run.sh            full run (about 6 minutes on 2 cores)
#   bench/run.sh --quick    smoke run with small sizes (about 1 minute)
#
# Environment:
#   PEERDROP_SERVER  C server binary (default build/peerdrop-server)
#   REPEAT           repeats of connect-rate/relay/latency, median kept (3)
#   IDLE_CONNS       idle connections, first size (10000)
#   IDLE_MAX         idle connections, second size (RLIMIT_NOFILE hard - 1000)
#   CONNECT_CONNS    connections for connect-rate (5000), INFLIGHT (128)
#   PAIRS WINDOW     relay: client pairs (32) and unreceived offers per pair (32)
#   RATE             latency: offers per second (5000)
#   WARMUP DURATION  relay/latency seconds (2, 5)
#   QUIET_WAIT       seconds to wait for an idle machine before each case (20)
#   KEEP_LOGS=1      keep the work directory with server logs and raw lines
set -euo pipefail

BENCH=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname "$BENCH")
SERVER=${PEERDROP_SERVER:-$ROOT/build/peerdrop-server}

QUICK=0
for arg in "$@"; do
  case $arg in
    --quick) QUICK=1 ;;
    -h | --help) sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "run.sh: unknown argument $arg" >&2; exit 2 ;;
  esac
done

# Both servers and the load generator inherit the raised limit.
ulimit -n "$(ulimit -Hn)"
NOFILE=$(ulimit -n)

if [ "$QUICK" = 1 ]; then
  : "${REPEAT:=1}" "${IDLE_CONNS:=2000}" "${IDLE_MAX:=4000}" "${CONNECT_CONNS:=2000}"
  : "${WARMUP:=1}" "${DURATION:=2}" "${QUIET_WAIT:=5}"
fi
REPEAT=${REPEAT:-3}
IDLE_CONNS=${IDLE_CONNS:-10000}
IDLE_MAX=${IDLE_MAX:-$((NOFILE - 1000))}
CONNECT_CONNS=${CONNECT_CONNS:-5000}
INFLIGHT=${INFLIGHT:-128}
PAIRS=${PAIRS:-32}
WINDOW=${WINDOW:-32}
RATE=${RATE:-5000}
WARMUP=${WARMUP:-2}
DURATION=${DURATION:-5}
QUIET_WAIT=${QUIET_WAIT:-20}

die() { echo "run.sh: $*" >&2; exit 1; }

[ -x "$SERVER" ] || die "no C server at $SERVER (build it, or set PEERDROP_SERVER)"
command -v node > /dev/null || die "node is needed for the reference server"
[ "$IDLE_MAX" -le $((NOFILE - 16)) ] || die "IDLE_MAX=$IDLE_MAX does not fit RLIMIT_NOFILE=$NOFILE"

make -s -C "$BENCH/loadgen" > /dev/null
LOADGEN=$BENCH/loadgen/loadgen
if [ ! -d "$BENCH/reference/node_modules" ]; then
  (cd "$BENCH/reference" && npm ci --no-audit --no-fund --loglevel=error) > /dev/null
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/peerdrop-bench.XXXXXX")
RESULTS=$WORK/results.txt
: > "$RESULTS"
SPID=
cleanup() {
  if [ -n "$SPID" ] && kill -0 "$SPID" 2> /dev/null; then kill -KILL "$SPID" 2> /dev/null || true; fi
  if [ "${KEEP_LOGS:-0}" = 1 ]; then echo "logs and raw results kept in $WORK" >&2; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

# ---- servers -----------------------------------------------------------------

SERVER_ARGS=(--argon2 min --rate-limit 0 --port 0 --host 127.0.0.1 --log-level warn)
# The load generator is one client address holding up to 19,000 connections
# and creating and joining 32 rooms at once: peerdrop's per-address caps
# (docs/security.md: connections and sessions past 256, 4 queued hashes, 30
# password checks in flight or failed a minute) would refuse it, so they are
# off here, as the reference has none.
PEERDROP_ONLY_ARGS=(--max-conns-per-ip 0 --max-sessions-per-ip 0 --max-sessions 0 --hash-queue 0 --hash-queue-per-address 0 --address-guesses 0)
SLOG=
SPORT=

start_server() { # kind: peerdrop | reference
  SLOG=$WORK/$1.$((++NSTART)).log
  case $1 in
    peerdrop) "$SERVER" "${SERVER_ARGS[@]}" "${PEERDROP_ONLY_ARGS[@]}" 2> "$SLOG" > /dev/null & ;;
    reference) node "$BENCH/reference/server.mjs" "${SERVER_ARGS[@]}" 2> "$SLOG" > /dev/null & ;;
  esac
  SPID=$!
  SPORT=
  for _ in $(seq 100); do
    kill -0 "$SPID" 2> /dev/null || { cat "$SLOG" >&2; die "$1 server exited at start"; }
    # The listening line (docs/server-cli.md); ss as a fallback for servers
    # that do not print it.
    SPORT=$(grep -o 'listening url=http://[^ ]*' "$SLOG" 2> /dev/null | head -1 | sed 's/.*://') || true
    [ -n "$SPORT" ] || SPORT=$(ss -Hltnp 2> /dev/null | grep "pid=$SPID," | awk '{print $4}' | sed 's/.*://' | head -1) || true
    [ -n "$SPORT" ] && break
    sleep 0.1
  done
  [ -n "$SPORT" ] || die "$1 server did not start listening within 10 s"
  # healthz proves it answers HTTP, not just that the port is bound; give a
  # loaded machine (a previous case's 19,000 sockets closing) 20 s
  for _ in $(seq 100); do
    curl -fsS -m 2 "http://127.0.0.1:$SPORT/healthz" > /dev/null 2>&1 && return 0
    sleep 0.2
  done
  die "$1 server does not answer /healthz"
}

# Stops the server; sets STATUS to "ok", or to what went wrong.
STATUS=
stop_server() {
  local status=ok
  if ! kill -0 "$SPID" 2> /dev/null; then
    wait "$SPID" 2> /dev/null && status="exited(0)" || status="died(status $?)"
  else
    kill -TERM "$SPID"
    for _ in $(seq 50); do kill -0 "$SPID" 2> /dev/null || break; sleep 0.1; done
    if kill -0 "$SPID" 2> /dev/null; then
      kill -KILL "$SPID"
      status="hung-on-SIGTERM"
    fi
    wait "$SPID" 2> /dev/null || true
  fi
  SPID=
  STATUS=$status
}

# Wait (bounded) until the machine is nearly idle, so other work on the
# shared cores disturbs the figures less. Each case also reports
# other_cpu_pct: CPU used during the measurement by neither process.
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

NSTART=0
run_case() { # kind label loadgen-args...
  local kind=$1 label=$2 line rc status errs
  shift 2
  start_server "$kind"
  wait_quiet
  set +e
  line=$(timeout 600 "$LOADGEN" "$@" --port "$SPORT" --pid "$SPID" 2>> "$WORK/loadgen.err")
  rc=$?
  set -e
  stop_server
  status=$STATUS
  errs=$(grep -ci 'error' "$SLOG" || true)
  [ -n "$line" ] || line="mode=none"
  echo "$kind $label rc=$rc server=$status server_log_errors=$errs $line" >> "$RESULTS"
  printf '   %-9s %-14s %s\n' "$kind" "$label" "$(summary "$line")" >&2
  if [ "$rc" != 0 ] || [ "$status" != ok ] || [ "$errs" != 0 ]; then
    echo "   !! $kind $label: loadgen exit $rc, server $status, $errs error lines in its log" >&2
    tail -n 5 "$WORK/loadgen.err" | sed 's/^/   !! loadgen: /' >&2
    grep -i 'error' "$SLOG" | head -n 5 | sed 's/^/   !! server: /' >&2
  fi
}

summary() { # the headline figures of one loadgen line
  echo "$1" | tr ' ' '\n' | grep -E '^(rss_per_conn_bytes|conns_per_s|msgs_per_s|server_cpu_us_per_msg|lat_p50_us|lat_p99_us|loadgen_cpu_pct|other_cpu_pct|errors|ready)=' | tr '\n' ' '
}

echo "peerdrop bench: $(date -u +%Y-%m-%dT%H:%M:%SZ), $(nproc) cores, $(uname -r), node $(node --version)" >&2
echo "C server: $SERVER; RLIMIT_NOFILE=$NOFILE; work dir $WORK" >&2

echo "== idle connections" >&2
for n in "$IDLE_CONNS" "$IDLE_MAX"; do
  for kind in peerdrop reference; do
    run_case "$kind" "idle-$n" idle --conns "$n" --inflight "$INFLIGHT" --timeout 120
  done
done

for r in $(seq "$REPEAT"); do
  echo "== round $r of $REPEAT" >&2
  for kind in peerdrop reference; do
    run_case "$kind" connect connect-rate --conns "$CONNECT_CONNS" --inflight "$INFLIGHT"
    run_case "$kind" relay-ack relay --pairs "$PAIRS" --window "$WINDOW" --ack 1 \
      --warmup "$WARMUP" --duration "$DURATION"
    run_case "$kind" relay-noack relay --pairs "$PAIRS" --window "$WINDOW" --ack 0 \
      --warmup "$WARMUP" --duration "$DURATION"
    run_case "$kind" latency latency --pairs "$PAIRS" --rate "$RATE" --ack 1 \
      --warmup "$WARMUP" --duration "$DURATION"
  done
done

# ---- table ---------------------------------------------------------------------

# KEY over all lines of KIND/LABEL ("-" when absent), aggregated by AGG:
# median, max or min. Throughput and latency use the best repeat (max or
# min): other work on shared cores only ever makes them worse, so the best
# repeat is the one closest to the server's own figure. CPU cost per message
# or handshake and memory, which other load barely moves, use the median.
med() {
  awk -v kind="$1" -v label="$2" -v key="$3" -v agg="${4:-median}" '
    $1 == kind && $2 == label { for (i = 3; i <= NF; i++) { split($i, kv, "="); if (kv[1] == key) v[n++] = kv[2] + 0 } }
    END {
      if (n == 0) { print "-"; exit }
      for (i = 0; i < n; i++) for (j = i + 1; j < n; j++) if (v[j] < v[i]) { t = v[i]; v[i] = v[j]; v[j] = t }
      m = (n % 2) ? v[int(n / 2)] : (v[n / 2 - 1] + v[n / 2]) / 2
      if (agg == "max") m = v[n - 1]
      if (agg == "min") m = v[0]
      if (m >= 100 || m <= -100) printf "%.0f\n", m; else printf "%.3g\n", m
    }' "$RESULTS"
}

# row: title label key better(high|low) agg(median|best) target-description target-check
row() {
  local title=$1 label=$2 key=$3 better=$4 agg=$5 target=${6:-} check=${7:-}
  local p r ratio verdict=""
  if [ "$agg" = best ]; then
    if [ "$better" = high ]; then agg=max; else agg=min; fi
  fi
  p=$(med peerdrop "$label" "$key" "$agg")
  r=$(med reference "$label" "$key" "$agg")
  ratio=$(awk -v p="$p" -v r="$r" -v b="$better" 'BEGIN {
    if (p == "-" || r == "-" || p + 0 == 0 || r + 0 == 0) { print "-"; exit }
    printf "%.2fx\n", (b == "high") ? p / r : r / p }')
  if [ -n "$check" ] && [ "$p" != "-" ]; then
    verdict=$(awk -v p="$p" -v r="$r" "BEGIN { print (($check) ? \"PASS\" : \"FAIL\") }")
  fi
  printf '%-46s %12s %12s %9s   %-22s %s\n' "$title" "$p" "$r" "$ratio" "$target" "$verdict"
}

echo
echo "peerdrop-server vs Node socket.io reference: $(date -u +%Y-%m-%dT%H:%M:%SZ), $(nproc) cores; $REPEAT repeats:"
echo "[best] = best repeat (max throughput, min latency); other rows = median"
echo "ratio = how many times better peerdrop is (above 1 = peerdrop better)"
printf '%-46s %12s %12s %9s   %s\n' metric peerdrop reference ratio target
row "idle RSS per connection @$IDLE_CONNS (bytes)" "idle-$IDLE_CONNS" rss_per_conn_bytes low median "<= 2048 B" "p <= 2048"
row "idle RSS per connection @$IDLE_MAX (bytes)" "idle-$IDLE_MAX" rss_per_conn_bytes low median "<= 2048 B" "p <= 2048"
row "idle connections held @$IDLE_MAX" "idle-$IDLE_MAX" ready high median
row "connect rate, $CONNECT_CONNS conns (conn/s) [best]" connect conns_per_s high best
row "connect: server CPU per handshake (us)" connect server_cpu_us_per_conn low median
row "relay with acks (msg/s) [best]" relay-ack msgs_per_s high best ">= 5x reference" "p >= 5 * r"
row "relay with acks: server CPU per msg (us)" relay-ack server_cpu_us_per_msg low median
row "relay with acks: p99 at saturation (us) [best]" relay-ack lat_p99_us low best
row "relay without acks (msg/s) [best]" relay-noack msgs_per_s high best ">= 5x reference" "p >= 5 * r"
row "relay without acks: server CPU per msg (us)" relay-noack server_cpu_us_per_msg low median
row "latency p50 @$RATE msg/s (us) [best]" latency lat_p50_us low best
row "latency p99 @$RATE msg/s (us) [best]" latency lat_p99_us low best "<= reference" "p <= r"
row "latency: server CPU per msg @$RATE msg/s (us)" latency server_cpu_us_per_msg low median
echo
echo "load generator CPU during relay with acks (max): peerdrop $(med peerdrop relay-ack loadgen_cpu_pct max)%, reference $(med reference relay-ack loadgen_cpu_pct max)% of one core"
echo "other processes' CPU during each connect/relay/latency case (% of one core; 200 = both cores):" \
  "$(awk '{for (i = 3; i <= NF; i++) if ($i ~ /^other_cpu_pct=/) { split($i, kv, "="); s = s " " int(kv[2]) }} END {print s}' "$RESULTS")"
problems=$(awk '$3 != "rc=0" || $4 != "server=ok" || $5 != "server_log_errors=0" || $0 ~ / errors=[1-9]/' "$RESULTS")
if [ -n "$problems" ]; then
  echo
  echo "PROBLEMS (loadgen exit, server state, server log errors, loadgen errors):"
  echo "$problems" | cut -c1-300
fi
echo
echo "raw lines:"
cat "$RESULTS"
