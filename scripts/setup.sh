#!/usr/bin/env bash
# Quick start, step 1: install what the build needs, the embedding model and the web
# page's packages, build weft, run the demo.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
bash scripts/models.sh
# The web page `weft ui` serves (npm packages from its registry), embedded by the build.
bash scripts/ui.sh
. scripts/env.sh
cargo build --locked --bin weft
"$CARGO_TARGET_DIR/debug/weft" demo
echo
echo "weft is built: $CARGO_TARGET_DIR/debug/weft (try: weft --help)"
