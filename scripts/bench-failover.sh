#!/usr/bin/env bash
# Failover of a real cluster: three `weft` daemons on 127.0.0.1 (three git clones: one
# `weft cluster init`, two `weft cluster join`), then KILLS times: SIGKILL the leader's
# daemon, append through a survivor in a loop (`weft chain append`, forwarded to whoever
# leads) until one is acknowledged, and record the time from the kill to that
# acknowledgement; the victim's daemon is restarted and caught up before the next kill.
# Prints p50/p99/max. Every wait is bounded; everything started is stopped.
# Usage: scripts/bench-failover.sh [KILLS]   (default 20; WEFT=path/to/weft)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
. "$root/scripts/env.sh"
WEFT="${WEFT:-$CARGO_TARGET_DIR/release/weft}"
kills="${1:-20}"
[ -x "$WEFT" ] || { echo "no weft binary at $WEFT (cargo build --release --bin weft)" >&2; exit 2; }
dir="$(mktemp -d)"
base=$((30000 + RANDOM % 20000))
cleanup() {
    for i in 1 2 3; do
        [ -d "$dir/m$i" ] && timeout 10 "$WEFT" -C "$dir/m$i" node stop >/dev/null 2>&1 || true
    done
    rm -rf "$dir"
}
trap cleanup EXIT
now_ms() { date +%s%3N; }
w() { local i="$1"; shift; timeout 30 "$WEFT" -C "$dir/m$i" "$@"; }
jget() { python3 -c "import json,sys; d=json.load(sys.stdin); print(eval(sys.argv[1], {'d': d}))" "$1"; }
addr() { echo "/ip4/127.0.0.1/tcp/$((base + $1))"; }
start() { w "$1" node start --listen "$(addr "$1")" >/dev/null; }
until_ok() { # until_ok SECONDS CMD...
    local deadline=$(( $(date +%s) + $1 )); shift
    until "$@" >/dev/null 2>&1; do [ "$(date +%s)" -lt "$deadline" ] || return 1; sleep 0.05; done
}
state() { w "$1" cluster status --json 2>/dev/null | jget 'd.get("state", "")'; }
voters() { w 1 cluster status --json | jget 'sum(1 for m in d.get("members", []) if m["role"] != "learner")'; }
# Predicates for until_ok (re-evaluated on every try).
leads() { [ "$(state "$1")" = Leader ]; }
has_voters() { [ "$(voters)" = "$1" ]; }
caught_up() { [ "$(w "$1" status --json | jget 'd["length"]')" -gt "$2" ]; }
pid_of() { python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['pid'])" "$dir/m$1/.weftos/node.json"; }

for i in 1 2 3; do mkdir -p "$dir/m$i" && git -C "$dir/m$i" init -q; done
w 1 init >/dev/null
token="$(w 1 cluster init --name m1 --json | jget 'd["token"]')"
start 1
until_ok 60 leads 1 || { echo "m1 did not form its cluster" >&2; exit 1; }
founder="$(w 1 status --json | jget 'd["peer_id"]')"
for i in 2 3; do
    w "$i" cluster join "$(addr 1)" --peer-id "$founder" --token "$token" --name "m$i" >/dev/null
    start "$i"
    until_ok 120 has_voters "$i" || { echo "m$i did not become a voter" >&2; exit 1; }
done

samples=()
for k in $(seq 1 "$kills"); do
    leader=""
    for i in 1 2 3; do [ "$(state "$i")" = Leader ] && leader="$i" && break; done
    [ -n "$leader" ] || { echo "no leader before kill $k" >&2; exit 1; }
    survivor=$(( leader % 3 + 1 ))
    w "$survivor" chain append --source bench --kind bench.warm --payload-json '{}' >/dev/null
    t0=$(now_ms)
    kill -KILL "$(pid_of "$leader")"
    until_ok 60 w "$survivor" chain append --source bench --kind bench.failover \
        --payload-json "{\"k\":$k}" || { echo "nothing acknowledged after kill $k" >&2; exit 1; }
    samples+=($(( $(now_ms) - t0 )))
    start "$leader"
    target="$(w "$survivor" chain head --linearizable --json | jget 'd["seq"]')"
    until_ok 60 caught_up "$leader" "$target" || { echo "m$leader did not catch up after kill $k" >&2; exit 1; }
done
printf '%s\n' "${samples[@]}" | python3 -c '
import math, sys
s = sorted(int(l) for l in sys.stdin if l.strip())
pick = lambda p: s[max(1, math.ceil(len(s) * p)) - 1]
print(f"failover after SIGKILL of the leader daemon ({len(s)} kills): p50 {pick(0.5)} ms, p99 {pick(0.99)} ms, max {s[-1]} ms")
print("  (each includes starting the weft CLI for every append tried, polled at once again on failure)")
'
