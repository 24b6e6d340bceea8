//! The benchmark code of docs/performance.md run once at a tiny size (never timed): the
//! API diff bench on two versions of a two-function crate.

#[allow(dead_code)]
#[path = "../examples/api_diff_bench.rs"]
mod api_diff_bench;

use std::path::Path;

fn write(root: &Path, rel: &str, text: &str) {
    let path = root.join(rel);
    std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    std::fs::write(path, text).expect("write");
}

#[test]
fn api_diff_bench_runs_on_a_tiny_crate() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (old, new) = (dir.path().join("v1"), dir.path().join("v2"));
    let manifest = "[package]\nname = \"tiny\"\nversion = \"1.0.0\"\nedition = \"2021\"\n";
    write(&old, "Cargo.toml", manifest);
    write(
        &old,
        "src/lib.rs",
        "pub fn a() {}\npub fn b(x: u32) -> u32 { x }\n",
    );
    write(&new, "Cargo.toml", manifest);
    write(
        &new,
        "src/lib.rs",
        "pub fn a() {}\npub fn b(x: u32, y: u32) -> u32 { x + y }\n",
    );
    let report = api_diff_bench::run(&old, &new, &dir.path().join("work"), 2);
    // One source file differs; `b` gained a parameter: one breaking change.
    assert_eq!(report["files_changed"], 1);
    assert_eq!(report["breaking"], 1);
    assert_eq!(report["changed_rust_files"], 2, "both sides of src/lib.rs");
    assert_eq!(report["all_rust_files"], 2);
    assert_eq!(report["warm_ms"].as_array().map(Vec::len), Some(2));
}
