#!/usr/bin/env bash
# The etcd baseline of consensus/examples/cluster_bench.rs: a 3-member etcd cluster on
# loopback (Debian's etcd-server, 3.4), puts of a 100-byte value through its JSON gateway:
# p50/p99 at one client, throughput at 64 concurrent clients. Temporary data directories,
# every member stopped at the end. Usage: scripts/bench-etcd.sh [ops]
set -euo pipefail
ops=${1:-500}
command -v etcd >/dev/null || { echo "etcd is not installed (Debian: apt-get install etcd-server)" >&2; exit 2; }
dir=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$dir"; }
trap cleanup EXIT
cluster="e1=http://127.0.0.1:23801,e2=http://127.0.0.1:23802,e3=http://127.0.0.1:23803"
for i in 1 2 3; do
  etcd --name "e$i" --data-dir "$dir/e$i" \
    --listen-peer-urls "http://127.0.0.1:2380$i" --initial-advertise-peer-urls "http://127.0.0.1:2380$i" \
    --listen-client-urls "http://127.0.0.1:2379$i" --advertise-client-urls "http://127.0.0.1:2379$i" \
    --initial-cluster "$cluster" --initial-cluster-state new --log-level error >"$dir/e$i.log" 2>&1 &
  pids+=($!)
done
python3 - "$ops" <<'PY'
import base64, json, sys, threading, time, urllib.request
ops = int(sys.argv[1])
urls = ["http://127.0.0.1:2379%d/v3/kv/put" % i for i in (1, 2, 3)]
value = base64.b64encode(b"x" * 100).decode()
def put(url, key):
    body = json.dumps({"key": base64.b64encode(key.encode()).decode(), "value": value}).encode()
    req = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as r:
        r.read()
deadline = time.time() + 30
while True:
    try:
        put(urls[0], "warm"); break
    except Exception:
        if time.time() > deadline: raise
        time.sleep(0.2)
for n in range(20): put(urls[0], "warm%d" % n)
def pct(xs, p):
    xs = sorted(xs); return xs[max(1, min(len(xs), int(-(-len(xs) * p // 1)))) - 1]
lat = []
for n in range(ops):
    t = time.perf_counter(); put(urls[0], "k%d" % n); lat.append(time.perf_counter() - t)
print("%-44s p50 %7.2f ms   p99 %7.2f ms   (%d ops)" % ("etcd 3.4, 3 members, put, 1 client", pct(lat, .5) * 1e3, pct(lat, .99) * 1e3, ops))
clients, per = 64, max(10, ops // 10)
def client(c):
    for n in range(per): put(urls[0], "c%d-%d" % (c, n))
threads = [threading.Thread(target=client, args=(c,)) for c in range(clients)]
t = time.perf_counter()
for th in threads: th.start()
for th in threads: th.join()
el = time.perf_counter() - t
print("%-44s %9.0f puts/s (%d clients x %d)" % ("etcd 3.4, 3 members, put, 64 clients", clients * per / el, clients, per))
PY
