//! Knowledge-graph measurements for docs/performance.md, driven by
//! `scripts/bench-graph.sh`. Each subcommand prints one JSON object.
//!
//! ```text
//! graph_bench scan REPO_DIR                 time of opening the graph and of one scan
//! graph_bench texts REPO_DIR OUT_FILE [N]   symbol texts as the index embeds them
//! graph_bench embed FILE BATCH THREADS      embedding throughput over FILE's lines
//! graph_bench search REPO_DIR QUERIES K     HNSW latency and recall@K vs exact search
//! ```
//!
//! `texts` writes the distinct texts of `graph::index::symbol_text`, in scan order, one
//! per line with newlines replaced by spaces (so `scripts/embed_reference.py bench`
//! reads exactly the same texts). `search` needs an index built by `weft search`.

#![allow(missing_docs)]

use serde_json::json;
use std::collections::BTreeSet;
use std::path::Path;
use std::time::{Duration, Instant};
use usearch::{Index, IndexOptions, MetricKind, ScalarKind};
use weft_graph::embed::{Embedder, ModelFiles, DIMENSIONS, MAX_TOKENS};
use weft_graph::index::{symbol_text, IndexEntry, INDEX_FILE};
use weft_graph::{GraphConfig, KnowledgeGraph};

/// Where a weft node keeps a repository's graph cache (the node's layout; repeated here
/// because this bench runs the graph without a node).
const GRAPH_DIR: &str = ".weftos/graph";

const USAGE: &str = "usage: graph_bench scan REPO_DIR | texts REPO_DIR OUT_FILE [N] | embed FILE BATCH THREADS | search REPO_DIR QUERIES K";

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let arg = |i: usize| args.get(i).map(String::as_str);
    let number = |i: usize| -> usize {
        arg(i)
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| fail(USAGE))
    };
    match (arg(0), args.len()) {
        (Some("scan"), 2) => scan(Path::new(&args[1])),
        (Some("texts"), 3 | 4) => {
            let limit = if args.len() == 4 {
                number(3)
            } else {
                usize::MAX
            };
            texts(Path::new(&args[1]), Path::new(&args[2]), limit);
        }
        (Some("embed"), 4) => embed(Path::new(&args[1]), number(2), number(3)),
        (Some("search"), 4) => search(Path::new(&args[1]), number(2), number(3)),
        _ => fail(USAGE),
    }
}

fn fail(message: &str) -> ! {
    eprintln!("graph_bench: {message}");
    std::process::exit(2)
}

/// The graph as `weft` opens it with a default `weave.toml`.
fn graph(repo: &Path) -> KnowledgeGraph {
    let root = repo.canonicalize().expect("repository directory");
    KnowledgeGraph::open(&root, &root.join(GRAPH_DIR), &GraphConfig::default())
        .expect("opening the knowledge graph")
}

/// In-process times, without process start-up and output: what `weft symbols` spends
/// opening the cache and scanning (cold when the script removed `.weftos/graph`).
fn scan(repo: &Path) {
    let started = Instant::now();
    let graph = graph(repo);
    let opened = started.elapsed();
    let started = Instant::now();
    let scan = graph.scan(&|_, _| {}).expect("scan");
    let scanned = started.elapsed();
    let facts: usize = scan
        .files
        .iter()
        .map(|f| {
            let f = &f.facts;
            f.symbols.len() + f.imports.len() + f.references.len() + f.markers.len()
        })
        .sum();
    println!(
        "{}",
        json!({
            "open_ms": opened.as_secs_f64() * 1e3,
            "scan_ms": scanned.as_secs_f64() * 1e3,
            "files": scan.files.len(),
            "parsed": scan.parsed,
            "cached": scan.reused,
            "facts": facts,
        })
    );
}

/// One line per text: the embedding of a text is the same with spaces for newlines
/// only approximately, so both runtimes must read this file, not the original texts.
fn one_line(text: &str) -> String {
    text.replace(['\n', '\r'], " ")
}

fn texts(repo: &Path, out: &Path, limit: usize) {
    let graph = graph(repo);
    let scan = graph.scan(&|_, _| {}).expect("scan");
    let mut seen = BTreeSet::new();
    let mut symbols = 0usize;
    let mut lines = Vec::new();
    for file in &scan.files {
        for symbol in &file.facts.symbols {
            symbols += 1;
            let text = one_line(&symbol_text(symbol));
            if seen.insert(text.clone()) && lines.len() < limit {
                lines.push(text);
            }
        }
    }
    let mut body = lines.join("\n");
    body.push('\n');
    std::fs::write(out, body).expect("writing the texts");
    let chars: usize = lines.iter().map(|l| l.chars().count()).sum();
    println!(
        "{}",
        json!({
            "files": scan.files.len(),
            "symbols": symbols,
            "distinct_texts": seen.len(),
            "written": lines.len(),
            "mean_chars": chars as f64 / lines.len().max(1) as f64,
        })
    );
}

fn model_files() -> ModelFiles {
    ModelFiles::locate().expect("model files (bash scripts/models.sh)")
}

/// Mean tokens per text as the model sees it ([CLS] and [SEP] included, truncated at
/// [`MAX_TOKENS`]).
fn mean_tokens(files: &ModelFiles, texts: &[&str]) -> f64 {
    let mut tokenizer = tokenizers::Tokenizer::from_file(&files.tokenizer).expect("tokenizer.json");
    // The shipped tokenizer pads and truncates at 128 tokens; the embedder truncates at
    // MAX_TOKENS and pads per batch.
    tokenizer.with_padding(None);
    tokenizer
        .with_truncation(Some(tokenizers::TruncationParams {
            max_length: MAX_TOKENS,
            ..tokenizers::TruncationParams::default()
        }))
        .expect("truncation");
    let total: usize = texts
        .iter()
        .map(|t| {
            tokenizer
                .encode(*t, true)
                .expect("tokenizing")
                .get_ids()
                .len()
        })
        .sum();
    total as f64 / texts.len().max(1) as f64
}

fn embed(file: &Path, batch: usize, threads: usize) {
    let content = std::fs::read_to_string(file).expect("reading the texts");
    let texts: Vec<&str> = content.lines().filter(|l| !l.trim().is_empty()).collect();
    let batch = batch.max(1);
    let files = model_files();
    let mut embedder = Embedder::load(&files, threads).expect("loading the model");
    let warm: Vec<&str> = texts.iter().take(batch).copied().collect();
    embedder.embed(&warm).expect("warm-up batch");
    let started = Instant::now();
    for chunk in texts.chunks(batch) {
        embedder.embed(chunk).expect("embedding");
    }
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "{}",
        json!({
            "texts": texts.len(),
            "seconds": seconds,
            "per_second": texts.len() as f64 / seconds,
            "mean_tokens": mean_tokens(&files, &texts),
            "batch": batch,
            "threads": threads,
        })
    );
}

/// Deterministic natural-language-ish queries: the words of every n-th symbol's
/// qualified name (`SignedHead::verify_signature` → "signed head verify signature").
fn queries(entries: &[IndexEntry], count: usize) -> Vec<String> {
    let step = (entries.len() / count.max(1)).max(1);
    entries
        .iter()
        .step_by(step)
        .take(count)
        .map(|e| {
            let mut words = String::new();
            let mut prev_lower = false;
            for c in e.qualified.chars() {
                if c.is_alphanumeric() {
                    if c.is_uppercase() && prev_lower {
                        words.push(' ');
                    }
                    words.extend(c.to_lowercase());
                    prev_lower = c.is_lowercase() || c.is_ascii_digit();
                } else {
                    if !words.ends_with(' ') {
                        words.push(' ');
                    }
                    prev_lower = false;
                }
            }
            format!("{} {}", e.kind.as_str(), words.trim())
        })
        .collect()
}

/// The part of the index's cache record (`graph::index`) this benchmark reads.
#[derive(serde::Deserialize)]
struct IndexRecord {
    entries: Vec<IndexEntry>,
}

fn micros(d: Duration, n: usize) -> f64 {
    d.as_secs_f64() * 1e6 / n.max(1) as f64
}

fn search(repo: &Path, count: usize, k: usize) {
    let graph = graph(repo);
    let entries = graph
        .store()
        .meta::<IndexRecord>("index")
        .expect("reading the index record")
        .unwrap_or_else(|| fail("no index yet: run `weft search` in the repository first"))
        .entries;
    let queries = queries(&entries, count);
    let refs: Vec<&str> = queries.iter().map(String::as_str).collect();
    let mut embedder = Embedder::load(&model_files(), 0).expect("loading the model");
    let started = Instant::now();
    let vectors: Vec<Vec<f32>> = refs
        .iter()
        .map(|q| embedder.embed(&[q]).expect("embedding a query").remove(0))
        .collect();
    let embed_time = started.elapsed();

    // The HNSW index as `weft search` saves it, loaded once.
    let path = repo
        .join(GRAPH_DIR)
        .join(INDEX_FILE)
        .to_string_lossy()
        .into_owned();
    let options = IndexOptions {
        dimensions: DIMENSIONS,
        metric: MetricKind::Cos,
        quantization: ScalarKind::F32,
        ..IndexOptions::default()
    };
    let index = Index::new(&options).expect("usearch index");
    let started = Instant::now();
    index.load(&path).expect("loading the saved index");
    let load_time = started.elapsed();

    let started = Instant::now();
    let approximate: Vec<Vec<u64>> = vectors
        .iter()
        .map(|v| index.search(v, k).expect("HNSW search").keys)
        .collect();
    let hnsw_time = started.elapsed();
    let started = Instant::now();
    let exact: Vec<Vec<u64>> = vectors
        .iter()
        .map(|v| index.exact_search(v, k).expect("exact search").keys)
        .collect();
    let exact_time = started.elapsed();
    let recall = approximate
        .iter()
        .zip(&exact)
        .map(|(a, e)| {
            let e: BTreeSet<u64> = e.iter().copied().collect();
            a.iter().filter(|key| e.contains(key)).count() as f64 / e.len().max(1) as f64
        })
        .sum::<f64>()
        / vectors.len().max(1) as f64;

    // The library call `weft search` makes: it opens the saved index on every call.
    let symbol_index = graph.index();
    let started = Instant::now();
    for v in &vectors {
        symbol_index
            .search(graph.store(), v, k, false)
            .expect("SymbolIndex::search");
    }
    let api_time = started.elapsed();

    let n = vectors.len();
    println!(
        "{}",
        json!({
            "symbols": index.size(),
            "index_file_bytes": std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0),
            "index_memory_bytes": index.memory_usage(),
            "queries": n,
            "k": k,
            "recall_at_k": recall,
            "hnsw_search_us": micros(hnsw_time, n),
            "exact_search_us": micros(exact_time, n),
            "symbol_index_search_us": micros(api_time, n),
            "index_load_us": load_time.as_secs_f64() * 1e6,
            "query_embed_us": micros(embed_time, n),
            "example_queries": &queries[..n.min(3)],
        })
    );
}
