#!/usr/bin/env bash
# Quick start, step 2: the whole test suite, with the format and lint checks CI runs.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
# The embedding tests use the real model, and the SARIF test the official schema.
bash scripts/models.sh
bash scripts/sarif-schema.sh
# The web page (built before cargo, which embeds it) and the browser its tests drive:
# Debian's chromium through playwright-core.
bash scripts/ui.sh
bash scripts/browser.sh
# The independent encoders of the known-answer vectors (crosscheck.py) sign with it.
python3 -c 'import cryptography' 2>/dev/null || python3 -m pip install --quiet cryptography
. scripts/env.sh
cargo fmt --all --check
cargo clippy --locked --workspace --all-targets -- -D warnings
cargo test --locked --workspace --all-targets
# The compose testnet (the local-process testnet runs inside the cargo tests).
bash testnet/ci.sh
bash scripts/fuzz.sh
