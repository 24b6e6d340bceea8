#!/usr/bin/env bash
# Builds the web page `weft ui` serves (node/ui, TypeScript + cytoscape) into
# node/ui/dist/, which the next `cargo build` embeds. npm installs the exact packages of
# package-lock.json from its registry; nothing is fetched at run time. Safe to run
# repeatedly: the install is skipped while node_modules matches the lock file.
set -euo pipefail
cd "$(dirname "$0")/../node/ui"
command -v npm >/dev/null 2>&1 || {
    echo "npm is missing: install Node.js 18 or newer (Debian: apt-get install nodejs npm), then run this again" >&2
    exit 1
}
if ! cmp -s package-lock.json node_modules/.package-lock.json 2>/dev/null && ! [ node_modules/.package-lock.json -nt package-lock.json ]; then
    npm ci --no-audit --no-fund --loglevel=error
fi
npm run --silent build
npm test --silent
echo "weft ui page built: node/ui/dist/ ($(wc -c < dist/app.js) bytes of script)" >&2
