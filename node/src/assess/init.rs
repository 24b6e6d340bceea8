//! `weft assess init` (SOP 2): the whole knowledge graph built in one go: static analysis
//! (symbols, imports, configuration keys, dependency manifests), git mining, embeddings
//! and their index.
//! Every phase works from the graph's cache, so a second run only does what changed,
//! and the run is recorded on the chain (`assess.init`) with what the graph now holds
//! and how long each phase took.

use crate::graph::assess::run::Stages;
use crate::graph::facts::FileFacts;
use crate::graph::{deps, KnowledgeGraph};
use crate::provenance::IndexProvenance;
use crate::{Node, NodeError};
use ciborium::value::Value;
use serde::Serialize;
use std::time::{Duration, Instant};
use weft_kernel::EventDraft;

/// The chain event recording a build of the knowledge graph.
pub const ASSESS_INIT_EVENT: &str = "assess.init";

/// One phase of the build: what it did and how long it took.
#[derive(Debug, Clone, Serialize)]
pub struct Phase {
    /// `scan`, `deps`, `history` or `embed`.
    pub name: &'static str,
    /// Wall time of the phase.
    #[serde(serialize_with = "as_millis")]
    pub duration: Duration,
    /// What the phase built, as counts (`files`, `parsed`, `symbols`, …), in order.
    #[serde(serialize_with = "as_map")]
    pub counts: Vec<(&'static str, u64)>,
}

/// What [`build_and_record`] built.
#[derive(Debug, Serialize)]
pub struct Built {
    /// The phases, in the order they ran.
    pub phases: Vec<Phase>,
    /// The `graph.index` event recording the search index built (or already recorded).
    pub index: IndexProvenance,
    /// The chain event recording the build (its sequence).
    pub event: u64,
}

/// Builds every part of `node`'s knowledge graph and records the build on its chain.
pub fn build_and_record(node: &Node, stages: &(dyn Stages + Sync)) -> Result<Built, NodeError> {
    let graph = node.graph()?;
    let (phases, index) = build(node, &graph, stages)?;
    let event = node.append(draft(&phases, index.seq)?)?;
    Ok(Built {
        phases,
        index,
        event: event.event.seq,
    })
}

/// The four phases on `node`'s `graph`, each reusing what the graph's cache already
/// holds; an index built or rebuilt is recorded on the chain (`graph.index`).
fn build(
    node: &Node,
    graph: &KnowledgeGraph,
    stages: &(dyn Stages + Sync),
) -> Result<(Vec<Phase>, IndexProvenance), NodeError> {
    let bar = |name: &'static str| {
        stages.stage(name, 0);
        move |done: u64, total: u64| {
            stages.stage(name, total);
            stages.advance(done);
        }
    };
    let mut phases = Vec::with_capacity(4);
    let mut timed = |name, started: Instant, counts| {
        phases.push(Phase {
            name,
            duration: started.elapsed(),
            counts,
        })
    };

    let started = Instant::now();
    let scan = graph.scan(&bar("scan"))?;
    let count = |of: fn(&FileFacts) -> usize| scan.files.iter().map(|f| of(&f.facts) as u64).sum();
    let counts = vec![
        ("files", scan.files.len() as u64),
        ("parsed", scan.parsed as u64),
        ("symbols", count(|f| f.symbols.len())),
        ("imports", count(|f| f.imports.len())),
    ];
    let config = graph.scan_config(&|_, _| {})?;
    let counts = [
        counts,
        vec![
            ("config_files", config.files.len() as u64),
            ("config_keys", config.key_count() as u64),
        ],
    ]
    .concat();
    timed("scan", started, counts);

    let started = Instant::now();
    stages.stage("deps", 0);
    let manifests = deps::manifests(graph.root());
    let dependencies = manifests.iter().map(|m| m.dependencies.len() as u64).sum();
    let counts = vec![
        ("manifests", manifests.len() as u64),
        ("dependencies", dependencies),
    ];
    timed("deps", started, counts);

    let started = Instant::now();
    let progress = bar("history");
    let (history, outcome) = graph.history(&graph.mining_config(None), &mut |done, total| {
        progress(done, total)
    })?;
    let counts = vec![
        ("commits", history.commit_count() as u64),
        ("new_commits", outcome.new_commits as u64),
    ];
    timed("history", started, counts);

    let started = Instant::now();
    let mut embedder = graph.embedder()?;
    let (index, _, provenance) =
        crate::provenance::sync_recorded(node, graph, &scan, &mut embedder, &bar("embed"))?;
    let counts = vec![
        ("indexed", index.symbols as u64),
        ("embedded", index.embedded as u64),
    ];
    timed("embed", started, counts);
    Ok((phases, provenance))
}

/// The `assess.init` event: per phase its counts and milliseconds.
fn draft(phases: &[Phase], index_event: u64) -> Result<EventDraft, NodeError> {
    let text = |s: &str| Value::Text(s.into());
    let mut entries: Vec<(Value, Value)> = phases
        .iter()
        .map(|p| {
            let mut fields: Vec<(Value, Value)> = p
                .counts
                .iter()
                .map(|(k, n)| (text(k), Value::Integer((*n).into())))
                .collect();
            fields.push((text("ms"), Value::Integer(millis(p.duration).into())));
            (text(p.name), Value::Map(fields))
        })
        .collect();
    entries.push((text("index_event"), Value::Integer(index_event.into())));
    EventDraft::new("assess", ASSESS_INIT_EVENT, Value::Map(entries))
        .map_err(|e| NodeError::Input(e.to_string()))
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

fn as_millis<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_u64(millis(*d))
}

fn as_map<S: serde::Serializer>(counts: &[(&'static str, u64)], s: S) -> Result<S::Ok, S::Error> {
    s.collect_map(counts.iter().copied())
}
