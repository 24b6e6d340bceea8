//! Held-out evaluation of weft's co-change coupling as change prediction (Zimmermann et
//! al.'s navigation task, ROSE: 64 % top-3), for docs/performance.md.
//!
//! ```text
//! cochange_eval [--train SHARE] [--min-revs N] [--min-shared N] [--min-coupling PCT]
//!               [--max-size N] [--min-confidence X] [--half-life N] [--json] REPO...
//! ```
//!
//! Each REPO is a git directory (bare or not). Mines the first SHARE (0.8) of its commits
//! with weft's mining settings (the defaults, or the options given) and asks
//! `History::coupling` for the partners of every file of every later commit; see
//! `weft_graph::history::eval` for the exact definitions.

#![allow(missing_docs)]

use std::time::Instant;
use weft_graph::history::eval::{evaluate, ROSE_TOP3, TOP_K};
use weft_graph::history::MiningConfig;

const USAGE: &str = "usage: cochange_eval [--train SHARE] [--min-revs N] [--min-shared N] [--min-coupling PCT] [--max-size N] [--min-confidence X] [--half-life N] [--json] REPO...";

fn main() {
    let mut cfg = MiningConfig::default();
    let mut train = 0.8;
    let mut json = false;
    let mut repos = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().unwrap_or_else(|| fail(USAGE));
        match arg.as_str() {
            "--train" => train = number(&value()),
            "--min-revs" => cfg.min_revs = number(&value()),
            "--min-shared" => cfg.min_shared_revs = number(&value()),
            "--min-coupling" => cfg.min_coupling = number(&value()),
            "--max-size" => cfg.max_changeset_size = number(&value()),
            "--min-confidence" => cfg.min_confidence = number(&value()),
            "--half-life" => cfg.recency_half_life = number(&value()),
            "--json" => json = true,
            flag if flag.starts_with("--") => fail(USAGE),
            _ => repos.push(arg),
        }
    }
    if repos.is_empty() {
        fail(USAGE);
    }
    if !json {
        println!(
            "{:<28} {:>7} {:>7} {:>7} {:>8} {:>7} {:>7} {:>7} {:>9} {:>6}",
            "repository",
            "commits",
            "mined",
            "queries",
            "coverage",
            "top-1",
            "top-3",
            "top-10",
            "top-3/all",
            "secs"
        );
    }
    for repo_path in &repos {
        let repo = git2::Repository::open(repo_path)
            .unwrap_or_else(|e| fail(&format!("{repo_path}: {}", e.message())));
        let started = Instant::now();
        let eval =
            evaluate(&repo, &cfg, train).unwrap_or_else(|e| fail(&format!("{repo_path}: {e}")));
        let secs = started.elapsed().as_secs_f64();
        if json {
            let rates: Vec<_> = TOP_K
                .iter()
                .map(|k| serde_json::json!({"k": k, "hit_rate": eval.hit_rate(*k), "hit_rate_all": eval.hit_rate_all(*k)}))
                .collect();
            println!(
                "{}",
                serde_json::json!({
                    "repository": repo_path, "evaluation": eval, "coverage": eval.coverage(),
                    "rates": rates, "rose_top3": ROSE_TOP3, "seconds": secs,
                })
            );
            continue;
        }
        let pct = |x: f64| format!("{:.1}%", 100.0 * x);
        println!(
            "{:<28} {:>7} {:>7} {:>7} {:>8} {:>7} {:>7} {:>7} {:>9} {:>6.1}",
            name(repo_path),
            eval.commits,
            eval.mined_commits,
            eval.queries,
            pct(eval.coverage()),
            pct(eval.hit_rate(1)),
            pct(eval.hit_rate(3)),
            pct(eval.hit_rate(10)),
            pct(eval.hit_rate_all(3)),
            secs
        );
    }
    if !json {
        println!(
            "ROSE (Zimmermann et al., ICSE 2004), navigation, top-3: {:.0}%",
            100.0 * ROSE_TOP3
        );
    }
}

/// A short name: `owner+name` of a fetched mirror, else the last path component.
fn name(path: &str) -> String {
    let parts: Vec<&str> = path
        .trim_end_matches('/')
        .split('/')
        .filter(|p| !p.is_empty() && *p != "repo" && *p != ".git")
        .collect();
    parts.last().copied().unwrap_or(path).to_owned()
}

fn number<T: std::str::FromStr>(text: &str) -> T {
    text.parse().unwrap_or_else(|_| fail(USAGE))
}

fn fail(message: &str) -> ! {
    eprintln!("cochange_eval: {message}");
    std::process::exit(2)
}
