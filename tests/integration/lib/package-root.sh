#!/usr/bin/env bash
# A throwaway copy of this machine's system, for package.test.mjs. Run as
# root under `unshare -m --propagation private`: inside this mount
# namespace /usr, /etc and /var become overlays whose writes land in a
# tmpfs, so `dpkg -i` installs into the real file layout (real paths, the
# real dpkg database, maintainer scripts and triggers) while the machine
# itself never changes. The test runs its commands in here with nsenter
# --mount=/proc/<this pid>/ns/mnt. When the test closes this script's stdin
# (or dies), the script exits, the namespace goes with its last process and
# the tmpfs with it: nothing is left to clean up.
set -euo pipefail

mount -t tmpfs -o mode=0700 peerdrop-package-test /mnt
for d in usr etc var; do
    mkdir "/mnt/$d" "/mnt/$d.work"
    mount -t overlay overlay -o "lowerdir=/$d,upperdir=/mnt/$d,workdir=/mnt/$d.work" "/$d"
done
# Maintainer scripts talk to systemd when /run/systemd/system exists; on a
# machine that runs systemd they would reach the real one. Not from here.
if [ -d /run/systemd/system ]; then
    mount -t tmpfs -o mode=0755 peerdrop-package-test /run/systemd
fi

echo ready
# until the test closes stdin
read -r _ || true
