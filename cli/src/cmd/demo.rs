//! `weft demo`: the guided tour on an embedded default. It initialises a throw-away
//! repository, appends events, proves one, exports and verifies the chain, shows the
//! gate denying a risky release, lists symbols, records an assessment and searches the
//! code: every step through the same engine the commands use.

use crate::args::DemoArgs;
use crate::ctx::{input, Ctx};
use crate::exit;
use anyhow::{ensure, Result};
use std::path::Path;
use weft_kernel::cbor;
use weft_kernel::event::EventDraft;
use weft_kernel::gate::{Decision, Effect};
use weft_node::engine::OpenMode;
use weft_node::Node;

const SAMPLE_FILES: [(&str, &str); 3] = [
    (
        "src/lib.rs",
        "//! A tiny library.\npub fn parse(input: &str) -> usize {\n    input.len()\n}\n",
    ),
    (
        "tools/report.py",
        "def report(items):\n    return len(items)\n",
    ),
    ("README.md", "# demo\n"),
];

pub fn run(ctx: &Ctx, args: DemoArgs) -> Result<u8> {
    let temp;
    let dir = match &args.keep {
        Some(d) => {
            if d.exists() {
                return Err(input(format!(
                    "{} exists; --keep needs a new directory",
                    d.display()
                )));
            }
            std::fs::create_dir_all(d)?;
            d.clone()
        }
        None => {
            temp = tempfile::Builder::new().prefix("weft-demo-").tempdir()?;
            temp.path().to_path_buf()
        }
    };
    tour(ctx, &dir)?;
    if args.keep.is_some() {
        say!(ctx; "\nthe demo repository is kept in {}", dir.display());
    }
    Ok(exit::OK)
}

/// Step 7: symbols, an assessment recorded on the chain, and semantic search when the
/// model is installed.
fn knowledge_graph(ctx: &Ctx, node: &Node) -> Result<()> {
    use weft_node::graph::assess::{run as pipeline, scope::ScopeRequest};
    step(
        ctx,
        7,
        "the knowledge graph: symbols, an assessment on the chain, semantic search",
    );
    let graph = node.graph()?;
    let scan = graph.scan(&|_, _| {})?;
    for file in &scan.files {
        for s in &file.facts.symbols {
            say!(ctx;
                "    {}:{}  {} {}",
                file.path,
                s.start_line,
                s.kind.as_str(),
                s.qualified
            );
        }
    }
    let report = pipeline::assess(&graph, &ScopeRequest::Full, "", &pipeline::Quiet)?;
    let written = pipeline::write_report(&node.layout().artifacts(), &report)?;
    let event = weft_node::assess::commit::record(node, &written, &report)?;
    say!(ctx;
        "    assessment: {} finding(s) in {} files; report hash {} recorded as event {}",
        report.findings.len(),
        report.files_scanned,
        crate::out::short(&written.hash.to_hex()),
        event.event.seq
    );
    match graph.embedder() {
        Ok(mut embedder) => {
            let query = "measure the length of some text";
            let (_, index, provenance) = weft_node::provenance::sync_recorded(
                node,
                &graph,
                &scan,
                &mut embedder,
                &|_, _| {},
            )?;
            say!(ctx;
                "    search index of {} symbols recorded as event {} (vector set {})",
                provenance.digest.symbols,
                provenance.seq,
                crate::out::short(&provenance.digest.vectors.to_hex())
            );
            let hits = weft_node::provenance::search(&mut embedder, &index, query, 1)?;
            if let Some(hit) = hits.first() {
                say!(ctx;
                    "    search {query:?}: {} {} ({:.2})",
                    hit.entry.path,
                    hit.entry.qualified,
                    hit.score
                );
            }
        }
        Err(e) => say!(ctx; "    search skipped: {e}"),
    }
    Ok(())
}

fn step(ctx: &Ctx, n: u32, text: &str) {
    say!(ctx; "\n[{n}] {text}");
}

fn tour(ctx: &Ctx, dir: &Path) -> Result<()> {
    step(ctx, 1, "a throw-away git repository with a little code");
    for (path, text) in SAMPLE_FILES {
        let file = dir.join(path);
        std::fs::create_dir_all(file.parent().expect("sample files are in a directory"))?;
        std::fs::write(&file, text)?;
    }
    weft_node::init::git_init(dir)?;
    say!(ctx; "    {}", dir.display());

    step(
        ctx,
        2,
        "weft init: key, genesis event, bootstrap tree, weave.toml, .gitignore",
    );
    let report = weft_node::init::init(dir)?;
    say!(ctx;
        "    chain {}  key {}",
        report.chain_id,
        report.key_fingerprint
    );
    say!(ctx;
        "    languages detected: {}",
        report.project.languages.join(", ")
    );

    let node = Node::open(dir, OpenMode::Checked)?;
    step(
        ctx,
        3,
        "append three events (each returns once it is on disk)",
    );
    for (i, note) in ["design review done", "tests green", "ready to release"]
        .iter()
        .enumerate()
    {
        let payload = cbor::from_json(&serde_json::json!({"note": note, "step": i + 1}))?;
        let stored = node
            .chain()
            .append(EventDraft::new("demo", "demo.note", payload)?)?;
        say!(ctx;
            "    {:>2} {:<10} {}",
            stored.event.seq,
            stored.event.kind,
            stored.hash
        );
    }
    let service = node.tree().set(
        "/apps/demo",
        "service",
        [("owner".to_string(), "demo".to_string())].into(),
    )?;
    say!(ctx;
        "    {:>2} tree.set   /apps/demo (the resource tree changes by chain events too)",
        service.event.seq
    );

    step(
        ctx,
        4,
        "inclusion proof of event 3, checked offline against the signed head",
    );
    let proof = weft_kernel::proof::prove(node.chain(), 3)?;
    let proof_file = dir.join("event-3.proof.json");
    std::fs::write(&proof_file, serde_json::to_vec_pretty(&proof)?)?;
    let proven = weft_kernel::proof::verify_proof(&proof, Some(&node.key()?.public_key()))?;
    say!(ctx;
        "    valid: event {} ({}) is one of {} events; audit path of {} hashes; {}",
        proven.event.seq,
        proven.event.kind,
        proven.head.size(),
        proof["audit_path"].as_array().map(|a| a.len()).unwrap_or(0),
        proof_file.display()
    );

    step(ctx, 5, "export to a portable segment file and verify it");
    let export = dir.join("chain.weftseg");
    let mut file = std::io::BufWriter::new(std::fs::File::create(&export)?);
    weft_kernel::segment::export(node.chain(), node.key()?, &mut file, &mut |_| {})?;
    drop(file);
    let summary =
        weft_kernel::segment::verify_file(std::io::BufReader::new(std::fs::File::open(&export)?))?;
    say!(ctx;
        "    valid: {} events in {} segments, {} bytes, footer signed by the chain's key",
        summary.events,
        summary.segments,
        std::fs::metadata(&export)?.len()
    );
    let mut bytes = std::fs::read(&export)?;
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x01;
    let tampered = weft_kernel::segment::verify_file(bytes.as_slice());
    ensure!(tampered.is_err(), "a flipped bit went unnoticed");
    say!(ctx;
        "    one flipped bit: rejected ({})",
        tampered.err().map(|e| e.to_string()).unwrap_or_default()
    );

    step(ctx, 6, "the governance gate scores a risky release");
    let gate = node.gate()?;
    let effect = Effect::parse("risk=0.9,security=0.7", gate.rules().dimensions())?;
    let decision = gate.decide("release.publish", None, &effect)?;
    let ev = &decision.evaluation;
    say!(ctx;
        "    {} release.publish: magnitude {:.3} > threshold {} (rule {}), recorded at {}",
        ev.decision.name().to_uppercase(),
        ev.magnitude.unwrap_or_default(),
        ev.threshold,
        ev.matched.first().map(|m| m.id.as_str()).unwrap_or("-"),
        decision.seq
    );
    ensure!(
        ev.decision == Decision::Deny,
        "the demo release should have been denied"
    );
    let recheck = weft_kernel::gate::recheck(node.chain(), decision.seq)?;
    say!(ctx;
        "    recheck from the chain alone: {} ({})",
        recheck.rederived.decision,
        if recheck.agrees { "agrees" } else { "DIFFERS" }
    );

    knowledge_graph(ctx, &node)?;

    step(
        ctx,
        8,
        "verify the whole chain (and re-hash the assessment report)",
    );
    let verified = node.verify(&mut |_| {})?;
    ensure!(verified.chain.ok(), "the demo chain does not verify");
    say!(ctx;
        "    ok: {} events, {} signed heads, every hash, link and signature checked",
        verified.chain.events,
        verified.chain.heads
    );
    say!(ctx; "\ndemo complete");
    Ok(())
}
