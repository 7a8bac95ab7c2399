#!/bin/sh
# The receive-throughput probe (recv-perf.mjs) in a lo-only network namespace.
#   tests/e2e/run-perf.sh raw 256 64     # raw data channel, 256 MiB, 64 KiB messages
#   tests/e2e/run-perf.sh app 256 --profile
set -eu
cd "$(dirname "$0")"
exec unshare -rn sh -c 'ip link set lo up && exec node recv-perf.mjs "$@"' sh "$@"
