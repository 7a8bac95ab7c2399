#!/bin/sh
# Browser end-to-end tests, inside a private network namespace whose only
# interface is lo (../../../shared/notes/chromium-loopback-webrtc.md): no
# STUN query, mDNS packet or candidate can leave the machine.
#   tests/e2e/run.sh                 # the regular suite
#   tests/e2e/run.sh big.test.mjs    # the 1 GiB transfer (slow)
# Needs: build/peerdrop-server, web/dist (cd web && npm ci && npm run build),
# Debian chromium (/usr/bin/chromium), npm ci in tests/e2e.
set -eu
cd "$(dirname "$0")"
[ "$#" -gt 0 ] || set -- basic.test.mjs scenarios.test.mjs storage.test.mjs errors.test.mjs connect.test.mjs
exec unshare -rn sh -c 'ip link set lo up && exec node --test --test-concurrency=1 "$@"' sh "$@"
