//! Peak memory of chain verification, for docs/performance.md: memory must not grow with
//! the chain. Build a chain in one process, verify it in a fresh one, and read the
//! verifying process's peak resident set (VmHWM) from /proc.
//!
//! ```text
//! cargo run --release -p weft-kernel --example chain_rss -- build DIR EVENTS
//! cargo run --release -p weft-kernel --example chain_rss -- verify DIR
//! ```

#![allow(missing_docs)]

use std::path::Path;
use std::sync::Arc;
use std::time::Instant;
use weft_kernel::cbor;
use weft_kernel::event::EventDraft;
use weft_kernel::{Chain, NodeKey, Store};

fn key() -> NodeKey {
    NodeKey::from_seed(&[5; 32])
}

fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
        })
        .unwrap_or(0)
}

fn build(dir: &Path, events: u64) {
    let store = Arc::new(Store::create(&dir.join("chain")).expect("store"));
    let chain = Chain::create(store, key(), "rss").expect("chain");
    let started = Instant::now();
    let mut i = 0;
    while i < events {
        let n = 1000.min(events - i);
        let drafts = (i..i + n)
            .map(|j| {
                let payload = cbor::from_json(&serde_json::json!({"i": j, "file": "src/engine/scheduler.rs", "note": "benchmark event"})).expect("payload");
                EventDraft::new("bench", "bench.event", payload).expect("draft")
            })
            .collect();
        chain.append_batch(drafts).expect("batch");
        i += n;
    }
    println!("built {} events in {:.1?}", chain.len(), started.elapsed());
}

fn verify(dir: &Path) {
    let store = Arc::new(Store::open(&dir.join("chain")).expect("store"));
    let chain = Chain::open_unchecked(store, None).expect("chain");
    let before = peak_rss_kib();
    let started = Instant::now();
    let report = weft_kernel::verify::verify(&chain, &mut |_| {}).expect("verify");
    let elapsed = started.elapsed();
    assert!(report.ok(), "{:?}", report.failures.first());
    println!(
        "verified {} events ({} heads) in {elapsed:.2?}: {:.0} events/s; peak RSS {} KiB (before verify {} KiB)",
        report.events,
        report.heads,
        report.events as f64 / elapsed.as_secs_f64(),
        peak_rss_kib(),
        before
    );
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    match args.get(1).map(String::as_str) {
        Some("build") if args.len() == 4 => build(
            Path::new(&args[2]),
            args[3].parse().expect("EVENTS is a number"),
        ),
        Some("verify") if args.len() == 3 => verify(Path::new(&args[2])),
        _ => {
            eprintln!("usage: chain_rss build DIR EVENTS | chain_rss verify DIR");
            std::process::exit(2);
        }
    }
}
