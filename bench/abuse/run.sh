#!/usr/bin/env bash
# bench/abuse/run.sh: legitimate users' latency, and the server's memory and
# CPU, while one attacker on loopback runs each attack of issue 11. Not CI.
#   bench/abuse/run.sh                       every attack, 10 s window each (~2.5 min)
#   ATTACKS=none,guess WINDOW=5 bench/abuse/run.sh
#   PEERDROP_SERVER=build-x/peerdrop-server SERVER_ARGS="--argon2 moderate" bench/abuse/run.sh
# See bench/abuse/README.md for what each column means.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# The attacker (slowloris) and the server both need many fds; both inherit this.
ulimit -n "$(ulimit -Hn)"
if [ ! -d "$HERE/node_modules" ] || [ "$HERE/package-lock.json" -nt "$HERE/node_modules/.package-lock.json" ]; then
  (cd "$HERE" && npm ci --no-audit --no-fund --loglevel=error)
fi
exec node "$HERE/abuse.mjs"
