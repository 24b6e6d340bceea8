#!/usr/bin/env bash
# The render figures of docs/performance.md ("weft ui"): the page's bundle size, and the
# time from navigation to the first laid-out view in headless chromium for a generated
# organisation (node/ui/tests/gen-large.mjs), opened as a static export from file://.
# Five runs each; prints the median. Needs scripts/ui.sh and scripts/browser.sh first.
set -euo pipefail
cd "$(dirname "$0")/../node/ui"
runs=5
measure() { # VIEW DIR
    for _ in $(seq "$runs"); do
        node tests/e2e.mjs render --url "file://$2/index.html" --expect "{\"view\":\"$1\"}"
    done | python3 -c 'import json,sys; ms=sorted(json.loads(l)["ms"] for l in sys.stdin); print(ms[len(ms)//2])'
}
echo "app.js: $(wc -c < dist/app.js) bytes, $(gzip -9c dist/app.js | wc -c) gzipped"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
node tests/gen-large.mjs "$work/large" 5 1000 50 >/dev/null
node tests/gen-large.mjs "$work/small" 5 100 10 >/dev/null
echo "impact, 5 peers x 1000 uses (aggregated): $(measure impact "$work/large") ms"
echo "impact, 5 peers x 100 uses (one node per use): $(measure impact "$work/small") ms"
echo "mesh, 50 peers: $(measure mesh "$work/large") ms"
echo "mesh, 10 peers: $(measure mesh "$work/small") ms"
