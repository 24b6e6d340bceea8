//! The knowledge-graph cache is derived data: damaged values, a damaged index file and a
//! process killed (SIGKILL) while embedding must all end in the same answers as a clean
//! run, never in an error or a wrong result.

use serde_json::Value;
use std::time::Duration;
use weft_tests::Repo;

/// A repository with many distinct documented functions, so embedding takes seconds.
fn repo_with_functions(n: usize) -> Repo {
    let repo = Repo::initialised();
    std::fs::remove_file(repo.file("src/main.rs")).expect("rm");
    std::fs::remove_file(repo.file("tool.py")).expect("rm");
    let topics = [
        "parse a JSON document",
        "open a TCP socket",
        "compress a byte buffer",
        "sort a list of names",
        "hash a password",
        "render an HTML page",
        "read a configuration file",
        "send an email",
        "resize an image",
        "schedule a job",
    ];
    let mut text = String::new();
    for i in 0..n {
        let topic = topics[i % topics.len()];
        text.push_str(&format!(
            "/// Step {i}: {topic}, variant {}.\npub fn op_{i}(x: u32) -> u32 {{\n    x + {i}\n}}\n\n",
            i / topics.len()
        ));
    }
    std::fs::write(repo.file("src/lib.rs"), text).expect("write");
    repo
}

/// Vectors the graph store at `dir` holds now, read through a secondary instance beside
/// the process writing it (0 before the store exists).
fn cached_vectors(dir: &std::path::Path) -> usize {
    let families = ["facts", "files", "vectors", "meta"];
    let Ok(store) = weft_kernel::Store::open_view(dir, &families) else {
        return 0;
    };
    store
        .db()
        .iterator_cf(store.cf("vectors"), rocksdb::IteratorMode::Start)
        .count()
}

fn search(repo: &Repo, query: &str) -> Value {
    repo.json(&["search", query, "-k", "5"])
}

fn hit_names(v: &Value) -> Vec<String> {
    v["hits"]
        .as_array()
        .expect("hits")
        .iter()
        .map(|h| h["qualified"].as_str().expect("name").to_string())
        .collect()
}

#[test]
fn damaged_cache_values_and_index_file_are_rebuilt() {
    let repo = repo_with_functions(30);
    let clean = search(&repo, "hash a password");
    let names = hit_names(&clean);
    assert!(names[0].starts_with("op_"), "{names:?}");
    let symbols = repo.json(&["symbols"]);

    // A damaged index file: detected by its recorded hash and rebuilt.
    let index = repo.file(".weftos/graph/symbols.usearch");
    let mut bytes = std::fs::read(&index).expect("index");
    let len = bytes.len();
    bytes.truncate(len / 2);
    std::fs::write(&index, &bytes).expect("truncate");
    let again = search(&repo, "hash a password");
    assert_eq!(hit_names(&again), names);
    assert_eq!(again["index"]["rebuilt"], true);
    assert_eq!(again["index"]["embedded"], 0, "vectors were still cached");

    // Garbage in every cached value: parsed, embedded and mined again, same answers.
    {
        let path = repo.file(".weftos/graph");
        let families = ["default", "facts", "files", "vectors", "meta"];
        let db = rocksdb::DB::open_cf(&rocksdb::Options::default(), &path, families)
            .expect("open graph store");
        for family in &families[1..] {
            let cf = db.cf_handle(family).expect("family");
            let keys: Vec<Box<[u8]>> = db
                .iterator_cf(cf, rocksdb::IteratorMode::Start)
                .map(|kv| kv.expect("read").0)
                .collect();
            assert!(!keys.is_empty(), "{family} is empty");
            for key in keys {
                db.put_cf(cf, key, b"\xff\x00garbage").expect("damage");
            }
        }
    }
    let after = repo.json(&["symbols"]);
    assert_eq!(after["files"], symbols["files"]);
    let healed = search(&repo, "hash a password");
    assert_eq!(hit_names(&healed), names);
    assert_eq!(healed["index"]["embedded"], 30);
}

#[test]
fn sigkill_while_embedding_loses_nothing_and_misleads_nobody() {
    let repo = repo_with_functions(300);
    let reference = repo_with_functions(300);
    let want = hit_names(&search(&reference, "compress a byte buffer"));

    // Killed at points of its progress, not after guessed delays: once the store holds
    // this many vectors, wherever the process is in writing the next batch.
    let graph = repo.file(".weftos/graph");
    let mut killed_midway = 0;
    for kill_at in [30usize, 120, 210] {
        let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("weft"))
            .arg("-C")
            .arg(repo.path())
            .args(["search", "compress a byte buffer", "--json"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("spawn");
        for _ in 0..50_000 {
            if child.try_wait().expect("wait").is_some() || cached_vectors(&graph) >= kill_at {
                break;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        if child.try_wait().expect("wait").is_none() {
            killed_midway += 1;
        }
        let _ = child.kill(); // SIGKILL
        let _ = child.wait();
    }
    assert!(
        killed_midway > 0,
        "no kill landed while embedding: the test tested nothing"
    );
    let got = search(&repo, "compress a byte buffer");
    assert_eq!(hit_names(&got), want);
    assert_eq!(got["index"]["symbols"], 300);
    // Nothing left to embed, and the index is consistent with its record.
    let again = search(&repo, "compress a byte buffer");
    assert_eq!(again["index"]["embedded"], 0);
    assert_eq!(again["index"]["rebuilt"], false);
    assert_eq!(hit_names(&again), want);
}
