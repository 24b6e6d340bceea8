#!/usr/bin/env bash
# Installs Debian's chromium for the browser tests of `weft ui` (node/ui/tests/e2e.mjs,
# driven by tests/tests/ui_browser.rs) when it is missing. Safe to run repeatedly.
set -euo pipefail
command -v chromium >/dev/null 2>&1 && exit 0
echo "installing: chromium" >&2
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
$SUDO apt-get update
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y chromium
