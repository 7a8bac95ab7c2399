#!/usr/bin/env bash
# bench/wan/run.sh: peerdrop CLI -> CLI and TCP (BBR, cubic; 32 MiB buffers)
# over an emulated WAN link (wanlink.c: loss, bottleneck, delay), in one
# invocation, cases round robin, medians. CI runs one short case of it
# (tests/integration/wan-link.test.mjs). See bench/README.md.
#
#   bench/wan/run.sh            full matrix: RTT 0/20/50/100/150 ms x loss 0, 0.5 % x 100, 500 Mbit/s
#   bench/wan/run.sh --quick    RTT 0/50/100 ms at 500 Mbit/s, 50 ms + 0.5 % loss at 100 Mbit/s
#   bench/wan/run.sh --verify   only the link check (ping RTT, iperf3 rate, TUN drop counters)
#
# Environment:
#   WAN_SIZE_MB    MiB per transfer (128; --quick 64)
#   WAN_ROUNDS     rounds, every case once per round (3; --quick 2)
#   WAN_LINKS      "rtt_ms,rate_mbit,loss_pct;..." instead of the matrix
#   WAN_CASES      comma list of cli-cli,tcp-bbr,tcp-cubic (the default);
#                  cli-cli-lanesN runs both CLIs with --lanes N (plain cli-cli:
#                  the CLI's default); and the browser cases raw-b2b (raw
#                  Chromium -> raw Chromium, one data channel), cli-chromium,
#                  chromium-cli, app-app (web app -> web app), run by
#                  bench/transfer/bench.mjs across the link (needs web/dist,
#                  chromium, tests/e2e's npm packages); web-web@N: web app ->
#                  web app with N lanes on both pages (bench/wan/web_case.mjs)
#   WAN_NO_VERIFY=1  skip the link check
#   PEERDROP_CLI, PEERDROP_SERVER   binaries (build/peerdrop, build/peerdrop-server)
#   QUIET_WAIT     seconds to wait for an idle machine before each case (10)
#   WAN_TIMEOUT    hard bound of the whole run, seconds (3600)
#   WAN_CASE_LIMIT bound of one transfer, seconds (300)
#   WAN_VARIANTS   "name:/path/to/peerdrop;name:VAR=v,VAR=v": cases cli-cli@name
#                  run another CLI binary, or both CLIs with extra environment
#   WAN_CLI_LOG    append both CLIs' debug logs to this file
#   WAN_FREEZE     "N,B": in every case the N-th UDP flow across the link (1: the
#                  session's connection, 2..: its lanes) goes dead after B bytes
#                  (results: frozen_drops; CLI cases also sessions, seconds)
#   WAN_WEB_TRACE  web-web cases: append, once a second, every peer
#                  connection's bytes, round trip and send queues on both
#                  pages, and the case's phases, to this file (JSON lines)
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
die() { echo "run.sh: $*" >&2; exit 1; }

mode=full
case ${1:-} in
  -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
  --quick) mode=quick ;;
  --verify) mode=verify ;;
  '') ;;
  *) die "unknown argument $1; see --help" ;;
esac
CLI=${PEERDROP_CLI:-$ROOT/build/peerdrop}
SERVER=${PEERDROP_SERVER:-$ROOT/build/peerdrop-server}
[ -x "$CLI" ] && [ -x "$SERVER" ] || die "build first (cmake --build build), or set PEERDROP_CLI/PEERDROP_SERVER"
verify=1
[ "${WAN_NO_VERIFY:-0}" = 1 ] && verify=0
tools="unshare nsenter ip python3 timeout make cc"
[ $verify = 1 ] && tools="$tools ping iperf3"
for c in $tools; do
  command -v $c > /dev/null || die "$c is needed (iperf3, iputils-ping: Debian packages)"
done
[ -c /dev/net/tun ] || die "no /dev/net/tun"
make -s -C "$HERE" wanlink
case ,${WAN_CASES:-}, in
  *,raw-b2b* | *,cli-chromium* | *,chromium-cli* | *,app-app*)
    command -v node > /dev/null || die "node is needed for the browser cases"
    [ -f "${BENCH_WEB_ROOT:-$ROOT/web/dist}/index.html" ] || die "no web app: cd web && npm ci && npm run build"
    [ -d "$ROOT/tests/e2e/node_modules/playwright-core" ] ||
      (cd "$ROOT/tests/e2e" && npm ci --no-audit --no-fund --loglevel=error) > /dev/null ;;
esac

if [ $mode = quick ]; then
  links=${WAN_LINKS:-"0,500,0;50,500,0;100,500,0;50,100,0.5"}
  size=${WAN_SIZE_MB:-64} rounds=${WAN_ROUNDS:-2}
else
  m=""
  for rate in 500 100; do for loss in 0 0.5; do for rtt in 0 20 50 100 150; do m="$m;$rtt,$rate,$loss"; done; done; done
  links=${WAN_LINKS:-${m#;}}
  size=${WAN_SIZE_MB:-128} rounds=${WAN_ROUNDS:-3}
fi
[ $mode = verify ] && links="" && rounds=0
cases=${WAN_CASES:-cli-cli,tcp-bbr,tcp-cubic}
TMPBASE=/dev/shm
[ -w $TMPBASE ] || TMPBASE=${TMPDIR:-/tmp}

WAN_CFG=$(python3 -c '
import json, sys
a = sys.argv
links = [[float(x) if "." in x else int(x) for x in l.split(",")] for l in a[1].split(";") if l]
print(json.dumps({"links": links, "size_mb": int(a[2]), "rounds": int(a[3]), "cases": a[4].split(","),
                  "cli": a[5], "server": a[6], "tmp": a[7], "verify": a[8] == "1",
                  "quiet_wait": int(a[9]), "limit_s": int(a[10])}))' \
  "$links" "$size" "$rounds" "$cases" "$CLI" "$SERVER" "$TMPBASE" "$verify" "${QUIET_WAIT:-10}" "${WAN_CASE_LIMIT:-300}")
export WAN_CFG

echo "# $(date -u +%FT%TZ) $(uname -srm), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "# tree $(git -C "$ROOT" rev-parse --short HEAD 2> /dev/null || echo '?'); cli $CLI; $size MiB x $rounds rounds; links (rtt ms, Mbit/s, loss %): $links"
# A user, mount and PID namespace: when python exits or the timeout fires,
# every process (namespace holders, wanlink, server, peers) dies with it.
# unshare ignores SIGTERM, hence -s KILL.
timeout -s KILL "${WAN_TIMEOUT:-3600}" \
  unshare -r -m -p -f --mount-proc --kill-child python3 "$HERE/bench.py"
