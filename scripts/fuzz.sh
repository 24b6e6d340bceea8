#!/usr/bin/env bash
# Fuzzing: builds the cargo-fuzz targets of fuzz/ with nightly and runs each for a bounded time on a scratch copy of its committed seeds; any crash fails the run.
set -euo pipefail
cd "$(dirname "$0")/.."

# Usage: bash scripts/fuzz.sh [TARGET...]   (default: every target in fuzz/Cargo.toml)
#        bash scripts/fuzz.sh --seeds       rewrites fuzz/corpus/ with fuzz/examples/seeds.rs
# WEFT_FUZZ_SECONDS   seconds per target (20)       WEFT_FUZZ_JOBS     targets at once (cores, at most 2)
# WEFT_FUZZ_RSS_MB    memory limit per target (2048) WEFT_FUZZ_MAX_LEN  longest input (16384)
# WEFT_FUZZ_TIMEOUT   seconds one input may take (10)
# WEFT_FUZZ_TARGET_DIR  build directory, outside the clone (~/.cache/weft/fuzz-target)
seconds="${WEFT_FUZZ_SECONDS:-20}"
rss_mb="${WEFT_FUZZ_RSS_MB:-2048}"
max_len="${WEFT_FUZZ_MAX_LEN:-16384}"
timeout="${WEFT_FUZZ_TIMEOUT:-10}"
cores="$(nproc 2>/dev/null || echo 1)"
jobs="${WEFT_FUZZ_JOBS:-$((cores < 2 ? cores : 2))}"
target_dir="${WEFT_FUZZ_TARGET_DIR:-$HOME/.cache/weft/fuzz-target}"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"

if ! cargo +nightly --version >/dev/null 2>&1; then
    echo "fuzz: cargo-fuzz needs a nightly toolchain (rustup toolchain install nightly)" >&2
    exit 1
fi
if ! cargo +nightly fuzz --version >/dev/null 2>&1; then
    echo "fuzz: installing cargo-fuzz" >&2
    cargo install cargo-fuzz --locked --quiet
fi

# RocksDB takes ~10 minutes to compile. When the stable build (scripts/env.sh's target
# directory) has compiled the same librocksdb-sys version, link its library instead.
rocks_version="$(awk '/^name = "librocksdb-sys"$/ { getline; gsub(/"/, "", $3); print $3 }' fuzz/Cargo.lock)"
main_target="${CARGO_TARGET_DIR:-$HOME/.cache/weft/target}"
prebuilt=""
for output in $(ls -t "$main_target"/*/build/librocksdb-sys-*/output 2>/dev/null); do
    lib="$(dirname "$output")/out/librocksdb.a"
    if [ -f "$lib" ] && grep -qF "librocksdb-sys-$rocks_version" "$output"; then
        prebuilt="$lib"
        break
    fi
done
if [ -n "$prebuilt" ]; then
    # A fixed copy: the path cargo sees never changes, and the stable build may replace
    # its own file at any time.
    lib_dir="$target_dir/prebuilt/rocksdb-$rocks_version"
    mkdir -p "$lib_dir"
    cmp -s "$prebuilt" "$lib_dir/librocksdb.a" || cp "$prebuilt" "$lib_dir/librocksdb.a"
    export ROCKSDB_LIB_DIR="$lib_dir" ROCKSDB_STATIC=1
else
    echo "fuzz: no prebuilt RocksDB $rocks_version in $main_target; compiling it" >&2
    unset ROCKSDB_LIB_DIR ROCKSDB_STATIC
fi

# Release with debug assertions and overflow checks, AddressSanitizer (the default).
mkdir -p "$target_dir"
started=$SECONDS
cargo +nightly fuzz build --fuzz-dir fuzz --release --debug-assertions \
    --target-dir "$target_dir" --codegen-units 16 >"$target_dir/build.log" 2>&1 || {
    tail -n 40 "$target_dir/build.log" >&2
    echo "fuzz: build failed (log: $target_dir/build.log)" >&2
    exit 1
}
echo "fuzz: built in $((SECONDS - started)) s$([ -n "$prebuilt" ] && echo ", RocksDB linked from $prebuilt")"

if [ "${1:-}" = "--seeds" ]; then
    # cargo-fuzz 0.13's own flags (its src/project.rs), so that the generator reuses the
    # instrumented build above; should they drift, that costs a rebuild, nothing more.
    flags="-Cpasses=sancov-module -Cllvm-args=-sanitizer-coverage-level=4"
    flags+=" -Cllvm-args=-sanitizer-coverage-inline-8bit-counters -Cllvm-args=-sanitizer-coverage-pc-table"
    flags+=" -Cllvm-args=-sanitizer-coverage-trace-compares --cfg fuzzing"
    flags+=" -Cllvm-args=-simplifycfg-branch-fold-threshold=0 -Zsanitizer=address"
    flags+=" -Cllvm-args=-sanitizer-coverage-stack-depth -Cdebug-assertions -Ccodegen-units=16"
    RUSTFLAGS="$flags" ASAN_OPTIONS=detect_leaks=0 cargo +nightly run --quiet \
        --manifest-path fuzz/Cargo.toml --release --config 'profile.release.debug="line-tables-only"' \
        --target x86_64-unknown-linux-gnu --target-dir "$target_dir" --example seeds -- "$PWD/fuzz/corpus"
    exit 0
fi
if [ "$#" -gt 0 ]; then
    targets=("$@")
else
    mapfile -t targets < <(cargo +nightly fuzz list --fuzz-dir fuzz)
fi
bin_dir="$target_dir/x86_64-unknown-linux-gnu/release"
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
kept="$target_dir/artifacts"
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_odr_violation=0}"

# Runs one target; prints its line and leaves any crash input under $kept/<target>/.
run_one() {
    local target="$1" work="$scratch/$1"
    rm -rf "${kept:?}/$target"
    mkdir -p "$work/corpus" "$work/found"
    cp fuzz/corpus/"$target"/* "$work/corpus/"
    local seeds status=0
    seeds="$(ls "$work/corpus" | wc -l)"
    "$bin_dir/$target" "$work/corpus" -max_total_time="$seconds" -timeout="$timeout" \
        -rss_limit_mb="$rss_mb" -malloc_limit_mb="$rss_mb" -max_len="$max_len" \
        -print_final_stats=1 -artifact_prefix="$work/found/" >"$work/log" 2>&1 || status=$?
    local runs
    runs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/log" | tail -n 1)"
    if [ "$status" -eq 0 ] && [ -z "$(ls "$work/found")" ]; then
        echo "fuzz: $target: ${runs:-0} executions in $seconds s, corpus $seeds -> $(ls "$work/corpus" | wc -l), no crash"
        return 0
    fi
    mkdir -p "$kept/$target"
    cp "$work/log" "$kept/$target/log"
    cp "$work"/found/* "$kept/$target/" 2>/dev/null || true
    grep -m 1 -E 'panicked at|ERROR: libFuzzer|ERROR: AddressSanitizer' "$work/log" >&2 || tail -n 20 "$work/log" >&2
    for crash in "$kept/$target"/*; do
        [ "$(basename "$crash")" = log ] || echo "fuzz: $target: CRASH (exit $status) input $crash" >&2
    done
    echo "fuzz: $target: log $kept/$target/log" >&2
    return 1
}

failed=0
running=0
for target in "${targets[@]}"; do
    if [ "$running" -ge "$jobs" ]; then
        wait -n || failed=1
        running=$((running - 1))
    fi
    run_one "$target" &
    running=$((running + 1))
done
while [ "$running" -gt 0 ]; do
    wait -n || failed=1
    running=$((running - 1))
done
if [ "$failed" -ne 0 ]; then
    echo "fuzz: crashes found; replay one with $bin_dir/TARGET FILE" >&2
    exit 1
fi
echo "fuzz: ${#targets[@]} targets, $seconds s each, no crash"
