//! API diff of a large crate between two versions, for docs/performance.md:
//!
//! ```text
//! api_diff_bench OLD_DIR NEW_DIR WORK_DIR [RUNS]
//! ```
//!
//! Copies OLD_DIR (e.g. `~/.cargo/registry/src/*/syn-2.0.117`) into a new git repository
//! in WORK_DIR (which must not exist) as one commit, NEW_DIR as the next, and times
//! `weft_graph::api::diff` between the two: once cold (the facts cache empty, as for the
//! first `weft coordinate impact` after a release) and RUNS times warm (default 5). The
//! floor, in the same run: tree-sitter alone parsing the Rust files that differ between
//! the two versions (what a cold diff must parse), and every Rust file of both versions.
//! Prints one JSON object.

#![allow(missing_docs)]

use git2::{IndexAddOption, Oid, Repository, Signature, Time};
use serde_json::json;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use weft_graph::{api, GraphConfig, KnowledgeGraph};

const USAGE: &str = "usage: api_diff_bench OLD_DIR NEW_DIR WORK_DIR [RUNS]";

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if !(3..=4).contains(&args.len()) {
        fail(USAGE);
    }
    let runs: usize = args
        .get(3)
        .map_or(Some(5), |r| r.parse().ok())
        .unwrap_or_else(|| fail(USAGE));
    let report = run(
        Path::new(&args[0]),
        Path::new(&args[1]),
        Path::new(&args[2]),
        runs,
    );
    println!("{report}");
}

/// Builds the repository, diffs it cold once and warm `runs` times, and times the floor.
pub fn run(old: &Path, new: &Path, work: &Path, runs: usize) -> serde_json::Value {
    if work.exists() {
        fail(&format!("{}: already exists", work.display()));
    }
    std::fs::create_dir_all(work).expect("work dir");
    let repo = Repository::init(work).expect("git init");
    copy_tree(old, work);
    let base = commit_all(&repo, "version A", 1_000);
    clear_tree(work);
    copy_tree(new, work);
    let head = commit_all(&repo, "version B", 2_000);

    let root = work.canonicalize().expect("work dir");
    let graph = KnowledgeGraph::open(&root, &root.join(".weftos/graph"), &GraphConfig::default())
        .expect("graph");
    let started = Instant::now();
    let diff = api::diff(&graph, &repo, Some(base), head).expect("api diff");
    let cold = started.elapsed();
    let mut warm = Vec::with_capacity(runs);
    for _ in 0..runs {
        let started = Instant::now();
        let again = api::diff(&graph, &repo, Some(base), head).expect("api diff");
        warm.push(started.elapsed());
        assert_eq!(again.changes.len(), diff.changes.len());
    }

    let (changed, all) = rust_files(&repo, base, head);
    let parse = |texts: &[String]| {
        let mut parser = tree_sitter::Parser::new();
        parser
            .set_language(&tree_sitter_rust::LANGUAGE.into())
            .expect("grammar");
        let started = Instant::now();
        for text in texts {
            parser.parse(text, None).expect("parse");
        }
        started.elapsed()
    };
    let lines = |texts: &[String]| texts.iter().map(|t| t.lines().count()).sum::<usize>();
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    let mut warm_ms: Vec<f64> = warm.iter().map(|d| ms(*d)).collect();
    warm_ms.sort_by(f64::total_cmp);
    json!({
        "files_changed": diff.files_changed,
        "api_changes": diff.changes.len(),
        "breaking": diff.count(api::Class::Breaking),
        "cold_ms": ms(cold),
        "warm_ms": warm_ms,
        "warm_median_ms": warm_ms.get(warm_ms.len() / 2),
        "floor_parse_changed_ms": ms(parse(&changed)),
        "changed_rust_files": changed.len(),
        "changed_rust_lines": lines(&changed),
        "floor_parse_all_ms": ms(parse(&all)),
        "all_rust_files": all.len(),
        "all_rust_lines": lines(&all),
    })
}

/// The Rust files' texts that differ between the two commits (both sides of each), and
/// those of every Rust file of both.
fn rust_files(repo: &Repository, base: Oid, head: Oid) -> (Vec<String>, Vec<String>) {
    let files = |commit: Oid| {
        let tree = repo
            .find_commit(commit)
            .and_then(|c| c.tree())
            .expect("tree");
        let mut out = std::collections::BTreeMap::new();
        tree.walk(git2::TreeWalkMode::PreOrder, |dir, entry| {
            let name = entry.name().unwrap_or_default();
            if name.ends_with(".rs") && entry.kind() == Some(git2::ObjectType::Blob) {
                out.insert(format!("{dir}{name}"), entry.id());
            }
            git2::TreeWalkResult::Ok
        })
        .expect("walk");
        out
    };
    let text =
        |id: Oid| String::from_utf8_lossy(repo.find_blob(id).expect("blob").content()).into_owned();
    let (old, new) = (files(base), files(head));
    let mut changed = Vec::new();
    let mut all = Vec::new();
    for (side, other) in [(&old, &new), (&new, &old)] {
        for (path, id) in side {
            all.push(text(*id));
            if other.get(path) != Some(id) {
                changed.push(text(*id));
            }
        }
    }
    (changed, all)
}

fn copy_tree(from: &Path, to: &Path) {
    for entry in std::fs::read_dir(from).expect("read dir") {
        let entry = entry.expect("entry");
        let name = entry.file_name();
        if name == ".git" || name.to_string_lossy().starts_with(".cargo") {
            continue;
        }
        let target: PathBuf = to.join(&name);
        if entry.file_type().expect("type").is_dir() {
            std::fs::create_dir_all(&target).expect("mkdir");
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy");
        }
    }
}

fn clear_tree(dir: &Path) {
    for entry in std::fs::read_dir(dir).expect("read dir") {
        let entry = entry.expect("entry");
        if entry.file_name() == ".git" {
            continue;
        }
        if entry.file_type().expect("type").is_dir() {
            std::fs::remove_dir_all(entry.path()).expect("rm -r");
        } else {
            std::fs::remove_file(entry.path()).expect("rm");
        }
    }
}

fn commit_all(repo: &Repository, message: &str, time: i64) -> Oid {
    let mut index = repo.index().expect("index");
    index.clear().expect("clear");
    index
        .add_all(["*"], IndexAddOption::DEFAULT | IndexAddOption::FORCE, None)
        .expect("add");
    index.write().expect("write index");
    let tree = repo
        .find_tree(index.write_tree().expect("tree"))
        .expect("tree");
    let sig = Signature::new("Bench", "bench@example.org", &Time::new(time, 0)).expect("sig");
    let parent = repo.head().ok().and_then(|h| h.peel_to_commit().ok());
    let parents: Vec<_> = parent.iter().collect();
    repo.commit(Some("HEAD"), &sig, &sig, message, &tree, &parents)
        .expect("commit")
}

fn fail(message: &str) -> ! {
    eprintln!("api_diff_bench: {message}");
    std::process::exit(2)
}
