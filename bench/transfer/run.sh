#!/usr/bin/env bash
# bench/transfer/run.sh: file-transfer throughput and memory on loopback:
# the peerdrop CLI, the web app in Chromium, and the references (raw
# Chromium data channel, libdatachannel via node-datachannel), all in this
# one invocation. Not part of CI. See bench/transfer/README.md.
#
#   bench/transfer/run.sh                      1 GiB per case (~16 minutes on 2 loaded cores)
#   BENCH_SIZE_MB=256 bench/transfer/run.sh    quick run
#
# Environment:
#   BENCH_SIZE_MB     MiB moved per case (1024)
#   BENCH_CASES       comma list of ldc-ldc,raw-b2b,ldc-chromium,cli-cli,
#                     cli-chromium,cli-raw,chromium-cli,app-b2b (default: all;
#                     cli-raw: peerdrop send -> a raw Chromium page that speaks
#                     the transfer protocol but neither hashes nor stores)
#   BENCH_APP_CHUNKS  web app data message sizes, bytes (16384,32768,65536; up to 262144)
#   REPEAT            runs per case; median MB/s, largest memory peak (1)
#   PEERDROP_CLI      the CLI (default build/peerdrop)
#   PEERDROP_SERVER   the server (default build/peerdrop-server)
#   BENCH_WEB_ROOT    the built web app to serve (default web/dist)
#   BENCH_TMP         where the files and Chromium profiles go (default
#                     /dev/shm: tmpfs, so the disk is not measured)
#   QUIET_WAIT        seconds to wait for an idle machine before each case (20)
#   BENCH_LINK_MBIT   shape the namespace's lo to this rate (tc tbf), so the
#                     link, not the CPU, is the limit, as on a real network
#                     (unset: unshaped loopback)
#   BENCH_CPU_SPLIT=1 also print CPU s per GiB by side, process and thread
#   BENCH_JS_PROFILE=1 app-b2b: print both pages' JavaScript self time per
#                     function (V8 profile; an unminified BENCH_WEB_ROOT
#                     gives readable names)
#   KEEP_LOGS=1       keep the work directory (results.json)
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
export PEERDROP_CLI=${PEERDROP_CLI:-$ROOT/build/peerdrop}
export PEERDROP_SERVER=${PEERDROP_SERVER:-$ROOT/build/peerdrop-server}
export CHROMIUM=${CHROMIUM:-/usr/bin/chromium}

case ${1:-} in -h | --help) sed -n '2,27p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;; esac
[ $# -eq 0 ] || { echo "run.sh: no arguments; see --help" >&2; exit 2; }
die() { echo "run.sh: $*" >&2; exit 1; }
LINK_MBIT=${BENCH_LINK_MBIT:-}
[[ -z $LINK_MBIT || $LINK_MBIT =~ ^[1-9][0-9]{0,4}$ ]] || die "BENCH_LINK_MBIT must be a whole number of Mbit/s"

[ -x "$PEERDROP_CLI" ] || die "no CLI at $PEERDROP_CLI (build it, or set PEERDROP_CLI)"
[ -x "$PEERDROP_SERVER" ] || die "no server at $PEERDROP_SERVER (build it, or set PEERDROP_SERVER)"
[ -f "${BENCH_WEB_ROOT:-$ROOT/web/dist}/index.html" ] || die "no web app in ${BENCH_WEB_ROOT:-web/dist}: cd web && npm ci && npm run build"
[ -x "$CHROMIUM" ] || die "no Chromium at $CHROMIUM (apt-get install chromium)"
command -v node > /dev/null || die "node >= 20 is needed"
command -v unshare > /dev/null && command -v ip > /dev/null || die "unshare and ip are needed"
# A stale binary would measure old code: say so (not fatal).
newer=$(find "$ROOT/src" -name '*.[ch]' -newer "$PEERDROP_CLI" | head -3)
[ -z "$newer" ] || echo "run.sh: warning: sources newer than $PEERDROP_CLI, e.g. ${newer//$'\n'/ }" >&2

# playwright-core comes from tests/e2e (lib.mjs is reused); node-datachannel
# is this folder's own, pinned by package-lock.json (prebuilt from npm).
[ -d "$ROOT/tests/e2e/node_modules/playwright-core" ] ||
  (cd "$ROOT/tests/e2e" && npm ci --no-audit --no-fund --loglevel=error) > /dev/null
[ -d "$HERE/node_modules/node-datachannel" ] ||
  (cd "$HERE" && npm ci --no-audit --no-fund --loglevel=error) > /dev/null

TMPBASE=${BENCH_TMP:-/dev/shm}
[ -d "$TMPBASE" ] && [ -w "$TMPBASE" ] || TMPBASE=${TMPDIR:-/tmp}
BENCH_WORK=$(mktemp -d "$TMPBASE/peerdrop-xfer.XXXXXX")
export BENCH_WORK
cleanup() {
  if [ "${KEEP_LOGS:-0}" = 1 ]; then echo "work directory kept: $BENCH_WORK" >&2; else rm -rf "$BENCH_WORK"; fi
}
trap cleanup EXIT

echo "# $(date -u +%FT%TZ) $(uname -srm), $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')" >&2
echo "# tree $(git -C "$ROOT" rev-parse --short HEAD 2> /dev/null || echo '?'); cli $PEERDROP_CLI; server $PEERDROP_SERVER; web ${BENCH_WEB_ROOT:-$ROOT/web/dist}" >&2
echo "# $($CHROMIUM --version 2> /dev/null), node $(node --version), node-datachannel $(node -p "require('$HERE/node_modules/node-datachannel/package.json').version")" >&2

# A private network namespace whose only interface is lo: nothing leaves the
# machine (../../../shared/notes/chromium-loopback-webrtc.md). Bounded: every
# wait inside bench.mjs has a timeout, and so does the whole run.
# With BENCH_LINK_MBIT a token bucket on lo (both directions share it)
# limits the rate; its queue holds 50 ms, beyond which packets drop, as
# at a real bottleneck.
if [ -n "$LINK_MBIT" ]; then
  command -v tc > /dev/null || die "BENCH_LINK_MBIT needs tc (apt-get install iproute2)"
  echo "# lo shaped: tc qdisc add dev lo root tbf rate ${LINK_MBIT}mbit burst 256kb latency 50ms" >&2
fi
rc=0
timeout --kill-after=30 7200 unshare -rn sh -c '
  ip link set lo up || exit 1
  if [ -n "$2" ]; then
    tc qdisc add dev lo root tbf rate "$2"mbit burst 256kb latency 50ms ||
      { echo "run.sh: tc could not shape lo (is sch_tbf in this kernel?)" >&2; exit 1; }
  fi
  exec node "$1"' sh "$HERE/bench.mjs" "$LINK_MBIT" || rc=$?
exit $rc
