# scripts/setup.sh: installs what Peerdrop needs on Debian bookworm (as root).
# Sourced by scripts/run and scripts/test; installs only what is missing, so a
# second run costs seconds.

# Libraries and tools the C build needs. Why each library: docs/architecture.md.
PD_BUILD_PACKAGES="build-essential cmake pkg-config libuv1-dev libsodium-dev libjansson-dev libssl-dev libnice-dev libusrsctp-dev libqrencode-dev libhiredis-dev"
# What the tests add: clang for libFuzzer and sanitizers, clang-format for
# the formatting check, clang-tidy for the C lint (.clang-tidy), openssl
# for test certificates, unzip (a second
# reader of the .zip the web app writes), Chromium and Firefox
# ESR for the browser tests, iproute2/util-linux for the private network
# namespace the browser tests run in, coturn for the TURN relay tests,
# redis-server and haproxy for the many-nodes tests, file for cpack's
# dpkg-shlibdeps step (the package test; dpkg-dev comes with
# build-essential), zsh to check the zsh completion (19 MB installed).
PD_TEST_PACKAGES="clang clang-format clang-tidy libclang-rt-14-dev openssl curl unzip chromium firefox-esr iproute2 util-linux python3 coturn redis-server haproxy file zsh"

pd_log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

pd_apt_install() {
    local missing=()
    for p in "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    pd_log "apt-get install ${missing[*]}"
    local sudo=""
    [ "$(id -u)" -ne 0 ] && sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# Node 20+ builds the web app (Vite) and runs the integration tests. The
# machine's Node is used when it is new enough; else Debian's is installed.
pd_need_node() {
    if ! command -v node >/dev/null 2>&1; then
        pd_apt_install nodejs npm
    fi
    local major
    major=$(node -p 'process.versions.node.split(".")[0]')
    if [ "$major" -lt 20 ]; then
        echo "Node.js $major found; Peerdrop's web build needs Node.js 20 or newer" >&2
        return 1
    fi
}

pd_npm_ci() { # dir
    if [ ! -d "$1/node_modules" ] || [ "$1/package-lock.json" -nt "$1/node_modules/.package-lock.json" ]; then
        pd_log "npm ci in $1"
        (cd "$1" && npm ci --no-audit --no-fund --loglevel=error)
    fi
}

pd_build_web() {
    pd_npm_ci web
    pd_log "building the web app (web/dist)"
    (cd web && npm run --silent build)
}

# Developers' and CI's C build: warnings are errors (PD_WERROR). The build
# type is RelWithDebInfo (-O2 -g) unless PD_BUILD_TYPE says otherwise;
# scripts/test builds build/ as Release, the way packagers build.
pd_build_c() { # build-dir [cmake args...]
    local dir=$1
    shift
    pd_log "building C ($dir, ${PD_BUILD_TYPE:-RelWithDebInfo})"
    cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE="${PD_BUILD_TYPE:-RelWithDebInfo}" -DPD_WERROR=ON "$@" >/dev/null
    cmake --build "$dir" -j"$(nproc)"
}
