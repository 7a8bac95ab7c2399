#!/bin/sh
# Browser end-to-end tests, inside a private network namespace
# (../../../shared/notes/chromium-loopback-webrtc.md): no STUN query, mDNS
# packet or candidate can leave the machine.
#   tests/e2e/run.sh                      # the regular suite
#   tests/e2e/run.sh big.test.mjs         # the 1 GiB transfer (slow)
#   tests/e2e/run.sh firefox.test.mjs     # Firefox (also firefox-big.test.mjs)
#   tests/e2e/run.sh mitm.test.mjs        # a malicious signaling server (issue 14)
#   tests/e2e/run.sh pwa.test.mjs         # the installable app, axe-core (issue 17)
# The namespace has only lo, except for Firefox suites: Firefox gathers no
# host candidate when lo is the only interface (even with
# media.peerconnection.ice.loopback), so they get a veth pair with private
# addresses and a default route via its other end; nothing leaves the
# namespace (../../../shared/notes/firefox-webrtc-tests.md).
# Needs: build/peerdrop-server, web/dist (cd web && npm ci && npm run build),
# Debian chromium (/usr/bin/chromium) and firefox-esr, npm ci in tests/e2e.
set -eu
cd "$(dirname "$0")"
[ "$#" -gt 0 ] || set -- basic.test.mjs scenarios.test.mjs storage.test.mjs errors.test.mjs connect.test.mjs
veth=
case " $* " in *firefox*) veth=1 ;; esac
export PD_VETH="$veth"
exec unshare -rn sh -c '
  ip link set lo up
  if [ -n "$PD_VETH" ]; then
    ip link add v0 type veth peer name v1
    ip addr add 10.213.0.1/24 dev v0
    ip addr add 10.213.0.2/24 dev v1
    ip link set v0 up
    ip link set v1 up
    ip route add default via 10.213.0.2 dev v0
  fi
  exec node --test --test-concurrency=1 "$@"' sh "$@"
