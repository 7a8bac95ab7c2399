#!/usr/bin/env bash
# bench/transfer/profile.sh: where a CLI -> CLI transfer spends its time.
# Runs `peerdrop send` and `peerdrop receive --yes` through a real
# peerdrop-server in a network namespace with only lo, each under
# `perf record`, and prints both sides' flat profiles (self time by shared
# object and by symbol, user and kernel). Not part of CI.
#
#   bench/transfer/profile.sh                 256 MiB
#   PROFILE_MB=512 bench/transfer/profile.sh
#
# Environment: PEERDROP_CLI, PEERDROP_SERVER (default build/), PROFILE_MB,
# PROFILE_TOP (symbols shown per side, 30), KEEP_LOGS=1 (keep perf.data files).
# Kernel samples need root: as root the namespace is made with `unshare -n`
# (the initial user namespace, so perf sees the kernel); otherwise
# `unshare -rn`, and the profiles show user space only.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
CLI=${PEERDROP_CLI:-$ROOT/build/peerdrop}
SERVER=${PEERDROP_SERVER:-$ROOT/build/peerdrop-server}
MB=${PROFILE_MB:-256}
TOP=${PROFILE_TOP:-30}
die() { echo "profile.sh: $*" >&2; exit 1; }
[ -x "$CLI" ] && [ -x "$SERVER" ] || die "need $CLI and $SERVER (or set PEERDROP_CLI / PEERDROP_SERVER)"
command -v perf > /dev/null || die "perf is needed (apt-get install linux-perf)"

if [ "${INSIDE:-0}" != 1 ]; then
  W=$(mktemp -d "${BENCH_TMP:-/dev/shm}/peerdrop-prof.XXXXXX")
  trap '[ "${KEEP_LOGS:-0}" = 1 ] && echo "kept $W" >&2 || rm -rf "$W"' EXIT
  head -c $((MB << 20)) /dev/urandom > "$W/big.bin"
  if [ "$(id -u)" = 0 ]; then ns=(unshare -n); else ns=(unshare -rn); fi
  INSIDE=1 W=$W timeout --kill-after=10 600 "${ns[@]}" "$0"
  set +o pipefail # head closes the pipe early
  for side in send receive; do
    echo "== peerdrop $side: self time by shared object"
    perf report -i "$W/$side.data" --stdio --no-children --sort dso 2> /dev/null | grep '%' | head -12
    echo "== peerdrop $side: self time by symbol (top $TOP)"
    perf report -i "$W/$side.data" --stdio --no-children --sort dso,sym 2> /dev/null | grep '%' | head -"$TOP"
    echo
  done
  exit 0
fi

# ---- inside the namespace ----------------------------------------------------
ip link set lo up
"$SERVER" --port 0 --host 127.0.0.1 --argon2 min --rate-limit 0 2> "$W/server.log" &
SPID=$!
PIDS=("$SPID")
trap 'kill "${PIDS[@]}" 2> /dev/null || true' EXIT
url=
for _ in $(seq 100); do
  url=$(grep -o 'listening url=[^ ]*' "$W/server.log" | head -1 | cut -d= -f2) || true
  [ -n "$url" ] && break
  sleep 0.1
done
[ -n "$url" ] || die "server did not start"

perf record -q -F 997 -o "$W/send.data" -- "$CLI" send "$W/big.bin" --server "$url" --count 1 --json > "$W/send.out" 2> "$W/send.err" &
PIDS+=($!)
link=
for _ in $(seq 100); do
  link=$(grep -o '"link":"[^"]*"' "$W/send.out" | head -1 | cut -d'"' -f4) || true
  [ -n "$link" ] && break
  sleep 0.1
done
[ -n "$link" ] || die "sender did not announce a room: $(cat "$W/send.err")"
start=$(date +%s.%N)
perf record -q -F 997 -o "$W/receive.data" -- "$CLI" receive "$link" --yes -o "$W/out" --json > "$W/receive.out" 2> "$W/receive.err" ||
  die "receive failed: $(tail -3 "$W/receive.err")"
end=$(date +%s.%N)
wait "${PIDS[1]}" || die "send failed: $(tail -3 "$W/send.err")"
cmp -s "$W/big.bin" "$W/out/big.bin" || die "received file differs"
echo "$MB MiB received in $(echo "$end - $start" | bc) s (process start to exit, under perf)"
