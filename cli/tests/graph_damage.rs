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

/// Copies the directory `from` to `to` (files and subdirectories).
fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("read dir") {
        let entry = entry.expect("entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("type").is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy");
        }
    }
}

#[test]
fn each_index_build_is_recorded_once_and_an_index_from_elsewhere_is_rebuilt_not_trusted() {
    let repo = repo_with_functions(12);
    let len = repo.len();
    let first = search(&repo, "hash a password");
    let recorded = first["provenance"].clone();
    assert_eq!(recorded["seq"], len, "{first}");
    assert_eq!(recorded["symbols"], 12);
    assert_eq!(recorded["model"], "all-MiniLM-L6-v2/int8/mean/l2");
    assert_eq!(recorded["dimensions"], 384);
    let event = repo.json(&["chain", "log", "--from", &len.to_string(), "--limit", "1"]);
    assert_eq!(event["kind"], "graph.index", "{event}");
    assert_eq!(event["hash"], recorded["event"]);
    // The same index is not recorded again.
    let again = search(&repo, "hash a password");
    assert_eq!(again["provenance"], recorded);
    assert_eq!(repo.len(), len + 1);

    // Another repository's cache, consistent in itself and holding the same symbols: the
    // event it notes is of another chain, so here it is rebuilt and recorded anew.
    let other = repo_with_functions(12);
    search(&other, "open a TCP socket");
    let graph = repo.file(".weftos/graph");
    std::fs::remove_dir_all(&graph).expect("rm graph");
    copy_dir(&other.file(".weftos/graph"), &graph);
    // Read by path from another node, the copied index answers nothing: its chain does
    // not record it.
    let asker = weft_tests::Repo::initialised();
    let path = repo.path().to_str().expect("utf-8 path");
    asker.json(&["coordinate", "link", "up", "--path", path]);
    let asked = asker.json(&["search", "hash a password", "--peers"]);
    let peer = &asked["peers"][0];
    assert_eq!(peer["state"], "unvouched", "{asked}");
    assert!(
        asked["hits"]
            .as_array()
            .expect("hits")
            .iter()
            .all(|h| h["project"] != "up"),
        "{asked}"
    );
    // (Linking witnessed the asker's head on this chain too.)
    let before = repo.len();
    let replaced = search(&repo, "hash a password");
    assert_eq!(hit_names(&replaced), hit_names(&first));
    assert_eq!(replaced["index"]["rebuilt"], true, "{replaced}");
    assert_eq!(replaced["index"]["embedded"], 0, "its vectors are reused");
    assert_eq!(replaced["provenance"]["seq"], before, "{replaced}");
    // Same symbols and model: the same vector set, whichever node built it.
    assert_eq!(replaced["provenance"]["vectors"], recorded["vectors"]);
    assert_eq!(repo.len(), before + 1);
    repo.weft(&["chain", "verify"]).assert().success();
    // Rebuilt and recorded, it answers the other node again, checked in its view of
    // this chain.
    let asked = asker.json(&["search", "hash a password", "--peers"]);
    let peer = &asked["peers"][0];
    assert_eq!(peer["state"], "answered", "{asked}");
    assert_eq!(peer["index"]["checked"], "replica", "{asked}");
    assert_eq!(peer["index"]["seq"], before, "{asked}");
}
