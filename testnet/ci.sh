#!/usr/bin/env bash
# The compose testnet's converge and partition scenarios, as the test suite runs them.
# Needs a Docker engine: as root it installs Debian's docker.io and docker-compose and
# starts dockerd when none answers. Without one it skips, unless WEFT_REQUIRE_DOCKER=1
# (CI), where that is a failure.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"

skip() {
    if [ "${WEFT_REQUIRE_DOCKER:-0}" = 1 ]; then
        echo "testnet/ci.sh: $* (WEFT_REQUIRE_DOCKER=1)" >&2
        exit 1
    fi
    echo "testnet/ci.sh: skipped the compose testnet: $*"
    exit 0
}

if [ "$(id -u)" -eq 0 ] && ! { command -v dockerd >/dev/null && command -v docker-compose >/dev/null; }; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y docker.io docker-compose >/dev/null
fi
command -v docker >/dev/null || skip "docker is not installed"
if ! docker info >/dev/null 2>&1; then
    [ "$(id -u)" -eq 0 ] && command -v dockerd >/dev/null || skip "no Docker engine answers"
    mkdir -p /var/log
    nohup dockerd >/var/log/weft-dockerd.log 2>&1 &
    dockerd_pid=$!
    # The engine this run started stops with it.
    trap 'kill "$dockerd_pid" 2>/dev/null || true' EXIT
    for _ in $(seq 1 60); do docker info >/dev/null 2>&1 && break; sleep 0.5; done
    docker info >/dev/null 2>&1 || skip "dockerd did not start (see /var/log/weft-dockerd.log)"
fi
"$here/run" build
"$here/run" --compose converge partition cluster
