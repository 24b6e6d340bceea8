#!/usr/bin/env bash
# Knowledge-graph benchmarks for docs/performance.md ("Knowledge graph"): full scan vs
# universal-ctags, commit-scope assessment, git mining, embedding throughput vs Python
# onnxruntime, the embedding cache after a one-file change, search latency and recall.
#
#   bash scripts/bench-graph.sh
#
# The corpus is the source of the `syn` crate 2.0.119 (~65k lines of Rust), fetched by
# cargo into a throw-away project and copied into a git repository of its own under
#   ${WEFT_BENCH_DIR:-$HOME/.cache/weft/bench}
# (never into this repository). Raw results are left in that directory's results/.
# Knobs: WEFT_BENCH_RUNS (timed runs per command, 5), WEFT_BENCH_TEXTS (texts of the
# embedding comparison, 1000), WEFT_BENCH_COMMITS (synthetic history, 2000).
# Nothing here asserts on time: it measures and prints.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/env.sh

work="${WEFT_BENCH_DIR:-$HOME/.cache/weft/bench}"
runs="${WEFT_BENCH_RUNS:-5}"
n_texts="${WEFT_BENCH_TEXTS:-1000}"
n_commits="${WEFT_BENCH_COMMITS:-2000}"
batch=32
threads=2
n_queries=200
syn_version="2.0.119"

SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
apt_updated=""
apt_install() {
    [ -n "$apt_updated" ] || { $SUDO apt-get update -qq; apt_updated=1; }
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "$@" >/dev/null
}

# --- tools ---------------------------------------------------------------------------
ctags --version 2>/dev/null | grep -q 'Universal Ctags' || apt_install universal-ctags
command -v hyperfine >/dev/null 2>&1 || apt_install hyperfine
python3 -c 'import onnxruntime, tokenizers, numpy' 2>/dev/null \
    || python3 -m pip install --quiet "onnxruntime==1.32.0" tokenizers numpy
bash scripts/models.sh

echo "bench: building (release)"
cargo build --release --locked -p weft-cli --bin weft
cargo build --release --locked -p weft-graph --example graph_bench
weft="$CARGO_TARGET_DIR/release/weft"
gb="$CARGO_TARGET_DIR/release/examples/graph_bench"

mkdir -p "$work/results"
results="$work/results"
rm -f "$results"/*

now() { echo "$EPOCHREALTIME"; }
elapsed() { python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.3f}')" "$1" "$2"; }
# hyperfine over commands run without a shell; output is discarded.
hf() { # name, hyperfine args...
    local name="$1"; shift
    hyperfine -N --style basic --export-json "$results/$name.json" "$@"
}
git_quiet() { git -c user.name=bench -c user.email=bench@example.invalid "$@" >/dev/null; }

# --- corpus --------------------------------------------------------------------------
syn_src() {
    local proj="$work/fetch"
    rm -rf "$proj" && mkdir -p "$proj/src"
    cat > "$proj/Cargo.toml" <<EOF
[package]
name = "weft-bench-fetch"
version = "0.0.0"
edition = "2021"
publish = false

[dependencies]
syn = { version = "=$syn_version", default-features = false }

[workspace]
EOF
    echo > "$proj/src/lib.rs"
    (cd "$proj" && cargo fetch --quiet)
    (cd "$proj" && cargo metadata --format-version 1 --quiet) | python3 -c '
import json, os, sys
meta = json.load(sys.stdin)
syn = next(p for p in meta["packages"] if p["name"] == "syn")
print(os.path.dirname(syn["manifest_path"]))'
}

make_repo() { # dir: a fresh git repository holding the syn source, weft-initialised
    local dir="$1"
    rm -rf "$dir" && mkdir -p "$dir"
    cp -R "$src"/. "$dir"/
    rm -f "$dir/.cargo_vcs_info.json" "$dir/.cargo-ok"
    (cd "$dir" && git init -q -b main && git add -A && git_quiet commit -q -m "syn $syn_version")
    "$weft" -C "$dir" init >/dev/null
    (cd "$dir" && git add -A && git_quiet commit -q -m "chore: weft init")
}

src="$(syn_src)"
corpus="$work/syn"
make_repo "$corpus"
rs_files=$(cd "$corpus" && git ls-files '*.rs' | wc -l)
rs_lines=$(cd "$corpus" && git ls-files -z '*.rs' | xargs -0 cat | wc -l)
echo "bench: corpus syn $syn_version: $rs_files Rust files, $rs_lines lines ($corpus)"

# --- 1. full scan vs universal-ctags ---------------------------------------------------
echo; echo "== full scan (cold graph cache) vs universal-ctags, same tree, same run"
cd "$corpus"
ctags_cmd=(ctags -R --languages=Rust --exclude=.weftos --exclude=.git --fields=+n -f "$results/tags" .)
hf scan --warmup 1 --runs "$runs" \
    --prepare "rm -rf $corpus/.weftos/graph" \
    -n "weft symbols --json (cold)" "$weft --json symbols" \
    --prepare "true" \
    -n "ctags -R" "${ctags_cmd[*]}"
hf scan-warm --warmup 1 --runs "$runs" -n "weft symbols --json (warm cache)" "$weft --json symbols"
"${ctags_cmd[@]}" 2>/dev/null
"$weft" --json symbols > "$results/symbols.json"
grep -vc '^!_' "$results/tags" > "$results/ctags-count" || true
# The same on only the files weft analyses (it skips @generated files such as src/gen/).
python3 -c 'import json, sys; print("\n".join(f["path"] for f in json.load(sys.stdin)["files"]))' \
    < "$results/symbols.json" > "$results/weft-files"
ctags --languages=Rust --fields=+n -f "$results/tags-weft-files" -L "$results/weft-files" 2>/dev/null
grep -vc '^!_' "$results/tags-weft-files" > "$results/ctags-count-weft-files" || true
# In-process: opening the cache, and the scan alone (no process start-up, no JSON output).
for i in 1 2 3; do
    rm -rf .weftos/graph
    "$gb" scan . >> "$results/scan-inprocess.jsonl"
done
"$gb" scan . >> "$results/scan-inprocess.jsonl"
cat "$results/scan-inprocess.jsonl"
cd - >/dev/null

# --- 2. commit scope -------------------------------------------------------------------
echo; echo "== assess --scope commit after a one-file commit (warm graph cache)"
python3 - "$corpus/src/ident.rs" <<'EOF'
import sys
path = sys.argv[1]
with open(path, "a", encoding="utf-8") as f:
    f.write("\n/// Whether an identifier is a raw identifier (`r#...`).\n"
            "pub fn bench_is_raw(ident: &str) -> bool {\n"
            "    ident.starts_with(\"r#\") && ident.len() > 2\n}\n")
EOF
(cd "$corpus" && git add -A && git_quiet commit -q -m "feat: bench_is_raw")
assess=("$weft" -C "$corpus" assess --scope commit --format json --fail-on none)
t0=$(now); "${assess[@]}" > "$results/assess-report.json"; t1=$(now)
elapsed "$t0" "$t1" > "$results/assess-first-seconds"
hf assess --warmup 1 --runs "$runs" -n "weft assess --scope commit" "${assess[*]}"

# --- 3. embeddings: Rust (ort) vs Python onnxruntime, same texts, same batch -----------
echo; echo "== embedding throughput: weft (Rust, ort) vs Python onnxruntime, $n_texts texts, batch $batch, $threads threads"
"$gb" texts "$corpus" "$results/texts.txt" "$n_texts" | tee "$results/texts.json"
for round in 1 2; do
    "$gb" embed "$results/texts.txt" "$batch" "$threads" | tee "$results/embed-rust-$round.json"
    python3 scripts/embed_reference.py bench "$results/texts.txt" "$batch" "$threads" \
        | tee "$results/embed-python-$round.json"
done
# The same texts sorted by length, as `weft search` batches them (less padding).
python3 -c 'import sys; print("".join(sorted(open(sys.argv[1], encoding="utf-8"), key=len)), end="")' \
    "$results/texts.txt" > "$results/texts-sorted.txt"
"$gb" embed "$results/texts-sorted.txt" "$batch" "$threads" | tee "$results/embed-rust-sorted.json"
python3 scripts/embed_reference.py bench "$results/texts-sorted.txt" "$batch" "$threads" \
    | tee "$results/embed-python-sorted.json"

# --- 4. the embedding cache: first search, then after a one-function change -------------
echo; echo "== weft search: first run (embeds every symbol), after a one-function change, unchanged"
query="parse a literal string and return its value"
search() { "$weft" -C "$corpus" --json search "$query" -k 10; }
t0=$(now); search > "$results/search-first.json"; t1=$(now)
elapsed "$t0" "$t1" > "$results/search-first-seconds"
python3 - "$corpus/src/lit.rs" <<'EOF'
import sys
path = sys.argv[1]
text = open(path, encoding="utf-8").read()
target = "    pub fn value(&self) -> String {\n"
assert target in text, "LitStr::value not found"
text = text.replace(target, "    /// The string's value with escapes resolved (benchmark edit).\n" + target, 1)
open(path, "w", encoding="utf-8").write(text)
EOF
t0=$(now); search > "$results/search-changed.json"; t1=$(now)
elapsed "$t0" "$t1" > "$results/search-changed-seconds"
t0=$(now); search > "$results/search-unchanged.json"; t1=$(now)
elapsed "$t0" "$t1" > "$results/search-unchanged-seconds"

# --- 5. search latency and recall@10 vs exact search ----------------------------------
echo; echo "== search: HNSW vs exact, $n_queries queries, k = 10"
"$gb" search "$corpus" "$n_queries" 10 | tee "$results/search-bench.json"

# --- 6. git mining ---------------------------------------------------------------------
echo; echo "== git mining: synthetic history of $n_commits commits over the same tree"
hist="$work/history"
rm -rf "$hist" && mkdir -p "$hist"
(cd "$hist" && git init -q -b main)
python3 - "$src" "$n_commits" <<'EOF' | (cd "$hist" && git fast-import --quiet)
# A fast-import stream: the syn tree as the first commit, then N commits each appending
# a comment line to 1-5 Rust files chosen by a seeded generator; fixed authors and times.
import os, random, sys
src, n = sys.argv[1], int(sys.argv[2])
out = sys.stdout.buffer
rng = random.Random(42)
files = {}
for dirpath, dirnames, filenames in os.walk(src):
    dirnames.sort()
    for name in sorted(filenames):
        if name in (".cargo_vcs_info.json", ".cargo-ok"):
            continue
        full = os.path.join(dirpath, name)
        files[os.path.relpath(full, src)] = open(full, "rb").read()
rust = sorted(p for p in files if p.endswith(".rs"))
authors = [("Ada", "ada"), ("Brian", "brian"), ("Chen", "chen"), ("Dana", "dana"), ("Emil", "emil")]
types = ["fix", "feat", "refactor", "docs", "test", "chore"]
def data(b):
    out.write(b"data %d\n" % len(b)); out.write(b)
def commit(i, changed, message):
    name, user = authors[i % len(authors)] if i else ("bench", "bench")
    when = 1_700_000_000 + i * 1800
    out.write(b"commit refs/heads/main\n")
    out.write(f"author {name} <{user}@example.invalid> {when} +0000\n".encode())
    out.write(f"committer {name} <{user}@example.invalid> {when} +0000\n".encode())
    data(message.encode() + b"\n")  # each commit continues the branch
    for path in changed:
        out.write(f"M 100644 inline {path}\n".encode()); data(files[path])
commit(0, sorted(files), "syn 2.0.119")
for i in range(1, n + 1):
    changed = sorted(rng.sample(rust, rng.randint(1, 5)))
    for path in changed:
        files[path] += b"// change %d\n" % i
    commit(i, changed, f"{rng.choice(types)}: change {i}")
out.write(b"done\n")
EOF
(cd "$hist" && git reset -q --hard main)
"$weft" -C "$hist" init >/dev/null
(cd "$hist" && git add -A && git_quiet commit -q -m "chore: weft init")
hf history --runs 3 --prepare "rm -rf $hist/.weftos/graph" \
    -n "weft history --json (cold, $((n_commits + 2)) commits)" "$weft -C $hist --json history"
"$weft" -C "$hist" --json history > /dev/null # mined, the cache warm
for i in $(seq 1 10); do
    echo "// more $i" >> "$hist/src/lib.rs"
    (cd "$hist" && git_quiet commit -qam "fix: more $i")
done
t0=$(now); "$weft" -C "$hist" --json history > "$results/history-incremental.json"; t1=$(now)
elapsed "$t0" "$t1" > "$results/history-incremental-seconds"

# --- summary ---------------------------------------------------------------------------
echo; echo "== summary (raw results in $results)"
python3 - "$results" "$rs_files" "$rs_lines" "$n_commits" <<'EOF'
import json, os, sys
r, rs_files, rs_lines, n_commits = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
def load(name):
    return json.load(open(os.path.join(r, name)))
def text(name):
    return open(os.path.join(r, name)).read().strip()
def hf(name):
    return [(x["command"], x["mean"], x["stddev"] or 0.0) for x in load(name + ".json")["results"]]
def mean_of(name, key):
    vals = [load(f"{name}-{i}.json")[key] for i in (1, 2)]
    return sum(vals) / len(vals), vals

print(f"corpus: syn 2.0.119, {rs_files} Rust files, {rs_lines} lines")
(wc, wm, ws), (cc, cm, cs) = hf("scan")
(_, warm, warm_sd), = hf("scan-warm")
sym = load("symbols.json")["files"]
counts = {k: sum(len(f[k]) for f in sym) for k in ("symbols", "imports", "references", "markers")}
tags = int(text("ctags-count"))
tags_weft = int(text("ctags-count-weft-files"))
print(f"full scan: weft cold {wm:.3f} s ± {ws:.3f}, ctags {cm:.3f} s ± {cs:.3f}: "
      f"{wm / cm:.2f}x ctags (goal <= 3x); weft warm cache {warm:.3f} s")
inproc = [json.loads(l) for l in open(os.path.join(r, "scan-inprocess.jsonl"))]
cold = [x for x in inproc if x["parsed"]]
print(f"  in-process (graph_bench scan): cold scan {[round(x['scan_ms']) for x in cold]} ms, "
      f"open {[round(x['open_ms']) for x in cold]} ms; warm scan {round(inproc[-1]['scan_ms'])} ms; "
      f"{cold[0]['files']} files analysed")
print(f"  extracted: ctags {tags} tags ({tags_weft} in the {len(sym)} files weft analyses); "
      f"weft {counts['symbols']} symbols + {counts['imports']} imports"
      f" + {counts['references']} references + {counts['markers']} markers = {sum(counts.values())} facts")
(_, am, asd), = hf("assess")
print(f"commit scope: first run after the commit {float(text('assess-first-seconds')):.3f} s, "
      f"warm {am:.3f} s ± {asd:.3f} (goal <= 2 s)")
t = load("texts.json")
rust, rv = mean_of("embed-rust", "per_second")
py, pv = mean_of("embed-python", "per_second")
tokens = load("embed-rust-1.json")["mean_tokens"]
print(f"embedding: {t['written']} texts (of {t['distinct_texts']} distinct, {t['symbols']} symbols), "
      f"mean {tokens:.1f} tokens: weft {rust:.1f}/s {[round(v, 1) for v in rv]}, "
      f"python {py:.1f}/s {[round(v, 1) for v in pv]}: {100 * rust / py:.1f} % (goal >= 95 %)")
rs, ps = load("embed-rust-sorted.json"), load("embed-python-sorted.json")
print(f"  sorted by length: weft {rs['per_second']:.1f}/s, python {ps['per_second']:.1f}/s: "
      f"{100 * rs['per_second'] / ps['per_second']:.1f} %")
for name in ("first", "changed", "unchanged"):
    s = load(f"search-{name}.json")["index"]
    print(f"search {name}: {float(text(f'search-{name}-seconds')):.2f} s, symbols {s['symbols']}, "
          f"embedded {s['embedded']}, rebuilt {s['rebuilt']}")
b = load("search-bench.json")
print(f"search: {b['symbols']} vectors, HNSW {b['hnsw_search_us']:.0f} us/query, exact "
      f"{b['exact_search_us']:.0f} us/query, recall@{b['k']} {b['recall_at_k']:.3f} over {b['queries']} queries;"
      f" SymbolIndex::search (loads the index per call) {b['symbol_index_search_us']:.0f} us;"
      f" query embedding {b['query_embed_us']:.0f} us")
(_, hm, hsd), = hf("history")
print(f"git mining: {n_commits + 2} commits cold {hm:.3f} s ± {hsd:.3f} = "
      f"{hm * 1000 / (n_commits + 2):.3f} s per 1,000 commits; 10 new commits "
      f"{float(text('history-incremental-seconds')):.3f} s")
EOF
