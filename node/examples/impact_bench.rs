//! `coordinate impact` against generated peers, for docs/performance.md:
//!
//! ```text
//! impact_bench DIR [PEERS] [FILES_PER_PEER] [RUNS]
//! ```
//!
//! Builds in DIR (which must not exist) an upstream crate with 400 public functions,
//! tagged v1.0.0, then changes 40 signatures and removes 10; and PEERS Rust users
//! (default 5) of FILES_PER_PEER files of 200 lines (default 100: 20k lines each) whose
//! functions call the upstream's. Each peer's graph cache is filled first (as its own
//! node would have it), then impact runs RUNS times (default 5); prints one JSON object
//! with every run's wall time and the totals the report found.

#![allow(missing_docs)]

use git2::{Repository, Signature};
use serde_json::json;
use std::fmt::Write as _;
use std::path::Path;
use std::time::Instant;
use weft_node::coordinate::{self, ImpactRequest};
use weft_node::engine::{open_graph, OpenMode};
use weft_node::query::NoMesh;
use weft_node::{Layout, Node, WeaveConfig};

const UPSTREAM_FNS: usize = 400;

fn commit_all(root: &Path, message: &str) {
    let repo = Repository::open(root).unwrap_or_else(|_| Repository::init(root).expect("init"));
    let mut index = repo.index().expect("index");
    index
        .add_all(["*"], git2::IndexAddOption::DEFAULT, None)
        .expect("add");
    index.write().expect("write");
    let tree = repo
        .find_tree(index.write_tree().expect("tree"))
        .expect("tree");
    let sig = Signature::now("Bench", "bench@example.org").expect("sig");
    let parent = repo.head().ok().and_then(|h| h.peel_to_commit().ok());
    let parents: Vec<&git2::Commit<'_>> = parent.iter().collect();
    repo.commit(Some("HEAD"), &sig, &sig, message, &tree, &parents)
        .expect("commit");
}

fn write(root: &Path, rel: &str, text: &str) {
    let path = root.join(rel);
    std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    std::fs::write(path, text).expect("write");
}

fn upstream_source(changed: bool) -> String {
    let mut s = String::new();
    for i in 0..UPSTREAM_FNS {
        if changed && i % 40 == 7 {
            continue; // removed
        }
        let extra = if changed && i % 10 == 3 {
            ", flag: bool"
        } else {
            ""
        };
        writeln!(
            s,
            "pub fn api_{i}(x: u64{extra}) -> u64 {{\n    x + {i}\n}}\n"
        )
        .expect("fmt");
    }
    s
}

fn peer_file(peer: usize, file: usize) -> String {
    let mut s = String::from("use up::*;\n\n");
    // 20 functions of 10 lines: 200 lines.
    for f in 0..20 {
        let target = (peer * 7 + file * 13 + f * 17) % UPSTREAM_FNS;
        writeln!(
            s,
            "pub fn p{file}_{f}(v: u64) -> u64 {{\n    let a = v * 2;\n    let b = a + 1;\n    if b > 10 {{\n        return api_{target}(b);\n    }}\n    let c = b - 1;\n    c\n}}\n"
        )
        .expect("fmt");
    }
    s
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(dir) = args.first() else {
        eprintln!("usage: impact_bench DIR [PEERS] [FILES_PER_PEER] [RUNS]");
        std::process::exit(2);
    };
    let num =
        |i: usize, default: usize| args.get(i).and_then(|v| v.parse().ok()).unwrap_or(default);
    let (peers, files, runs) = (num(1, 5), num(2, 100), num(3, 5));
    let base = Path::new(dir);
    assert!(
        !base.exists(),
        "{} exists: give a new directory",
        base.display()
    );
    let up = base.join("up");
    write(
        &up,
        "Cargo.toml",
        "[package]\nname = \"up\"\nversion = \"1.0.0\"\nedition = \"2021\"\n",
    );
    write(&up, "src/lib.rs", &upstream_source(false));
    commit_all(&up, "v1");
    {
        let repo = Repository::open(&up).expect("open");
        let head = repo.head().expect("head").peel_to_commit().expect("commit");
        repo.tag_lightweight("v1.0.0", head.as_object(), false)
            .expect("tag");
    }
    write(&up, "src/lib.rs", &upstream_source(true));
    commit_all(&up, "v2");
    weft_node::init::init(&up).expect("init up");
    let mut links = String::new();
    let mut lines = 0usize;
    for p in 0..peers {
        let root = base.join(format!("peer{p}"));
        // A crate `cargo check` builds, for `impact --check` to be measured on it too.
        write(
            &root,
            "Cargo.toml",
            &format!("[package]\nname = \"peer{p}\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[dependencies]\nup = {{ path = \"../up\" }}\n"),
        );
        let mut modules = String::new();
        for f in 0..files {
            let text = peer_file(p, f);
            lines += text.lines().count();
            write(&root, &format!("src/m{f}.rs"), &text);
            writeln!(modules, "pub mod m{f};").expect("a String takes writes");
        }
        write(&root, "src/lib.rs", &modules);
        commit_all(&root, "peer");
        weft_node::init::init(&root).expect("init peer");
        let layout = Layout::new(&root);
        let config = WeaveConfig::load(&root).expect("config");
        open_graph(&layout, &config)
            .expect("graph")
            .scan(&|_, _| {})
            .expect("scan");
        writeln!(
            links,
            "\n[[coordination.peers]]\nname = \"peer{p}\"\npath = \"../peer{p}\""
        )
        .expect("fmt");
    }
    let config = up.join("weave.toml");
    let text = std::fs::read_to_string(&config).expect("read");
    std::fs::write(&config, format!("{text}{links}")).expect("write");
    let mut times = Vec::new();
    let mut last = None;
    for _ in 0..runs {
        let start = Instant::now();
        let node = Node::open(&up, OpenMode::Checked).expect("open");
        let report = coordinate::impact(&node, &ImpactRequest::default(), &NoMesh).expect("impact");
        coordinate::record_impact(&node, &report).expect("record");
        times.push(start.elapsed().as_secs_f64() * 1000.0);
        last = Some(report.summary);
    }
    let summary = last.expect("at least one run");
    println!(
        "{}",
        json!({
            "peers": peers,
            "lines_per_peer": lines / peers.max(1),
            "runs_ms": times.iter().map(|t| t.round()).collect::<Vec<_>>(),
            "breaking_changes": summary.breaking_changes,
            "affected": summary.affected,
            "breaking_uses": summary.breaking_uses,
        })
    );
}
