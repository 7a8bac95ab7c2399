#!/usr/bin/env bash
# scripts/run-official-suites.sh: runs the official Engine.IO v4 and
# Socket.IO v5 protocol test suites against the server, by hand.
#
# The suites are third-party code: they are never committed and CI does not
# run them. Bring a snapshot of github.com/socketio/socket.io (a clone, or a
# bare mirror) and point MIRROR at its git directory:
#   MIRROR=/path/to/socket.io/.git RUNS=5 scripts/run-official-suites.sh
# The suites are extracted to $WORK (default /tmp/peerdrop-suites), their
# pinned devDependencies installed with npm ci, and each is run RUNS times
# against build/peerdrop-conformance-server eio|sio on localhost:3000 (the
# server with the suites' fixtures; peerdrop-server does not contain them).
set -euo pipefail
cd "$(dirname "$0")/.."
: "${MIRROR:?set MIRROR to a git directory of socketio/socket.io}"
WORK=${WORK:-/tmp/peerdrop-suites}
RUNS=${RUNS:-3}
SERVER=${PEERDROP_CONFORMANCE_SERVER:-build/peerdrop-conformance-server}

extract() { # dir
    mkdir -p "$WORK/$1"
    for f in $(git -C "$MIRROR" ls-tree --name-only HEAD "$1/"); do
        git -C "$MIRROR" show "HEAD:$f" >"$WORK/$f"
    done
    (cd "$WORK/$1" && npm ci --no-audit --no-fund --loglevel=error)
}

run_suite() { # mode dir
    local mode=$1 dir=$2 ok=0
    for i in $(seq "$RUNS"); do
        "$SERVER" "$mode" --host 127.0.0.1 --port 3000 --log-level warn &
        local pid=$!
        sleep 0.3
        local out
        out=$(cd "$WORK/$dir" && npx mocha test-suite.js 2>&1 || true)
        kill "$pid"
        wait "$pid" || true
        local summary
        summary=$(echo "$out" | grep -E "passing|failing" | tr '\n' ' ')
        echo "$mode run $i: $summary"
        echo "$out" | grep -q failing || ok=$((ok + 1))
    done
    echo "$mode: $ok of $RUNS runs without a failure"
}

extract docs/engine.io-protocol/v4-test-suite
extract docs/socket.io-protocol/v5-test-suite
run_suite eio docs/engine.io-protocol/v4-test-suite
run_suite sio docs/socket.io-protocol/v5-test-suite
