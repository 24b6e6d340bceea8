//! `weft search --peers` and `weft symbols --peer`: the linked peers' knowledge graphs,
//! read directly for local-path peers (read-only) or asked over `/weft/query/1` through
//! the running daemon.

use crate::args::{SearchArgs, SymbolsArgs};
use crate::ctx::{input, Ctx};
use crate::{exit, out};
use anyhow::Result;
use serde::Serialize;
use std::path::PathBuf;
use std::sync::mpsc;
use std::time::{Duration, Instant};
use weft_node::config::PeerConfig;
use weft_node::coordinate::peers;
use weft_node::coordinate::CoordinateError;
use weft_node::graph::index::{Hit, SyncStats};
use weft_node::provenance::{self, IndexProvenance, Vouched};
use weft_node::query::{
    self, Access, MeshAsker, QueryError, SearchAnswer, SearchQuery, SymbolsAnswer, SymbolsQuery,
};
use weft_node::{replicas, Layout};
use weft_node::{NodeError, WeaveConfig};

/// This node's configuration, root and mesh asker (inside a daemon).
struct Here {
    root: PathBuf,
    config: WeaveConfig,
    mesh: Option<MeshAsker>,
}

fn here(ctx: &Ctx, timeout: Duration) -> Result<Here> {
    let layout = ctx.layout()?;
    let config = WeaveConfig::load(&layout.root).map_err(NodeError::from)?;
    let mesh = ctx
        .daemon
        .as_ref()
        .and_then(|d| d.asker(&config.coordination.peers, timeout));
    Ok(Here {
        root: layout.root,
        config,
        mesh,
    })
}

/// How one peer was reached and what came of it.
#[derive(Debug, Serialize)]
struct PeerOutcome {
    name: String,
    /// `path` or `mesh`.
    via: &'static str,
    /// `answered`, `no-index`, `timeout`, `unreachable`, `unvouched` (its saved index is
    /// not the one its chain recorded), `contradicted` (its answer names an index this
    /// node's replica of its chain does not record) or `skipped` (past --max-peers).
    state: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<String>,
    hits: usize,
    /// Whether the peer brought its index up to date for the answer.
    #[serde(skip_serializing_if = "Option::is_none")]
    fresh: Option<bool>,
    /// The `graph.index` event of the peer's chain the answer names, and what this
    /// node's copy of that chain says of it.
    #[serde(skip_serializing_if = "Option::is_none")]
    index: Option<CheckedIndex>,
}

/// An answer's index provenance, checked here.
#[derive(Debug, Serialize)]
struct CheckedIndex {
    #[serde(flatten)]
    provenance: IndexProvenance,
    #[serde(flatten)]
    vouched: Vouched,
}

/// A hit marked with its project.
#[derive(Debug, Serialize)]
struct ProjectHit {
    project: String,
    #[serde(flatten)]
    hit: Hit,
}

/// Asks one peer the search: read directly, or over the mesh when its advert says it
/// holds an index.
fn ask_search(
    spec: &PeerConfig,
    local: Option<PathBuf>,
    mesh: Option<&MeshAsker>,
    question: &SearchQuery,
) -> (&'static str, Result<SearchAnswer, (&'static str, String)>) {
    let classify = |e: QueryError| {
        let state = if e.is_no_index() {
            "no-index"
        } else if e.is_unvouched() {
            "unvouched"
        } else if matches!(e, QueryError::Timeout(_)) {
            "timeout"
        } else {
            "unreachable"
        };
        (state, e.to_string())
    };
    if let Some(root) = local {
        return (
            "path",
            query::search_at(&root, question, Access::ReadOnly).map_err(classify),
        );
    }
    let Some(mesh) = mesh else {
        return ("mesh", Err(classify(QueryError::NoDaemon)));
    };
    if mesh
        .routes
        .get(&spec.name)
        .is_some_and(|r| r.indexed == Some(false))
    {
        let why = "its capability advert says it holds no search index".to_string();
        return ("mesh", Err(("no-index", why)));
    }
    let answer = mesh.ask(&spec.name, query::SEARCH, question);
    ("mesh", answer.map_err(classify))
}

/// The peers a search asks, at most `max`, and those it leaves out: local-path peers
/// first, then by advertised search latency (see [`query::fan_out`]).
fn fan_out(here: &Here, max: usize) -> (Vec<PeerConfig>, Vec<PeerConfig>) {
    let routes = here.mesh.as_ref().map(|m| &m.routes);
    let peers = here.config.coordination.peers.iter().map(|spec| {
        let local = peers::local_root_from(&here.root, spec).is_some();
        let reach = query::Reach::of(local, routes.and_then(|r| r.get(&spec.name)));
        (spec.name.clone(), reach, spec.clone())
    });
    query::fan_out(peers.collect(), max)
}

/// A peer the fan-out left out.
fn skipped_outcome(spec: &PeerConfig, max: u16) -> PeerOutcome {
    PeerOutcome {
        name: spec.name.clone(),
        via: if spec.path.is_some() { "path" } else { "mesh" },
        state: "skipped",
        reason: Some(format!(
            "not asked: at most --max-peers {max} are, local and fastest first"
        )),
        hits: 0,
        fresh: None,
        index: None,
    }
}

/// `weft search --peers`: the local hits, merged with the peers' by score.
pub fn search(
    ctx: &Ctx,
    args: &SearchArgs,
    stats: &SyncStats,
    own_index: &IndexProvenance,
    local: Vec<Hit>,
) -> Result<u8> {
    let timeout = Duration::from_secs(args.timeout);
    let here = here(ctx, timeout)?;
    let chains = replicas::readable_chains(&Layout::new(&here.root), &here.config);
    let question = SearchQuery {
        text: args.query.clone(),
        k: args.k.min(query::MAX_SEARCH_HITS),
    };
    let own = if here.config.project.name.is_empty() {
        here.root
            .file_name()
            .map_or_else(|| ".".into(), |n| n.to_string_lossy().into_owned())
    } else {
        here.config.project.name.clone()
    };
    let mut hits: Vec<ProjectHit> = local
        .into_iter()
        .map(|hit| ProjectHit {
            project: own.clone(),
            hit,
        })
        .collect();
    // Each peer on its own thread: a slow one is reported at the deadline and left to
    // finish on its own (its query is bounded by the mesh's timeout).
    let (specs, skipped) = fan_out(&here, usize::from(args.max_peers));
    // Room for every answer: a thread finishing after the deadline never blocks.
    let (tx, rx) = mpsc::sync_channel(specs.len());
    for spec in specs.iter().cloned() {
        let tx = tx.clone();
        let local = peers::local_root_from(&here.root, &spec);
        let mesh = here.mesh.clone();
        let question = question.clone();
        std::thread::spawn(move || {
            let (via, result) = ask_search(&spec, local, mesh.as_ref(), &question);
            let _ = tx.send((spec.name, via, result));
        });
    }
    drop(tx);
    let deadline = Instant::now() + timeout;
    let mut outcomes: Vec<PeerOutcome> = Vec::new();
    while outcomes.len() < specs.len() {
        let left = deadline.saturating_duration_since(Instant::now());
        let Ok((name, via, result)) = rx.recv_timeout(left) else {
            break;
        };
        let mut outcome = PeerOutcome {
            name: name.clone(),
            via,
            state: "answered",
            reason: None,
            hits: 0,
            fresh: None,
            index: None,
        };
        match result {
            Ok(answer) => {
                let vouched = answer
                    .index
                    .as_ref()
                    .map(|p| provenance::check_answer(&chains, p));
                outcome.fresh = Some(answer.fresh);
                outcome.index = answer
                    .index
                    .zip(vouched.clone())
                    .map(|(provenance, vouched)| CheckedIndex {
                        provenance,
                        vouched,
                    });
                // Hits from an index the peer's own chain contradicts are not its.
                if let Some(Vouched::Contradicted(why)) = vouched {
                    outcome.state = "contradicted";
                    outcome.reason = Some(why);
                } else {
                    outcome.hits = answer.hits.len();
                    hits.extend(answer.hits.into_iter().map(|hit| ProjectHit {
                        project: name.clone(),
                        hit,
                    }));
                }
            }
            Err((state, reason)) => {
                outcome.state = state;
                outcome.reason = Some(reason);
            }
        }
        outcomes.push(outcome);
    }
    for spec in &specs {
        if !outcomes.iter().any(|o| o.name == spec.name) {
            outcomes.push(PeerOutcome {
                name: spec.name.clone(),
                via: if spec.path.is_some() { "path" } else { "mesh" },
                state: "timeout",
                reason: Some(format!("{} within {} s", query::NO_ANSWER, args.timeout)),
                hits: 0,
                fresh: None,
                index: None,
            });
        }
    }
    outcomes.extend(
        skipped
            .iter()
            .map(|spec| skipped_outcome(spec, args.max_peers)),
    );
    outcomes.sort_by(|a, b| a.name.cmp(&b.name));
    hits.sort_by(|a, b| b.hit.score.total_cmp(&a.hit.score));
    hits.truncate(args.k as usize);
    if ctx.json {
        ctx.print_json(&serde_json::json!({
            "query": args.query,
            "index": stats,
            "provenance": own_index,
            "hits": hits,
            "peers": outcomes,
        }));
        return Ok(exit::OK);
    }
    for h in &hits {
        say!(ctx;
            "{:.3}  [{}] {}:{}  {} {}",
            h.hit.score,
            h.project,
            h.hit.entry.path,
            h.hit.entry.line,
            h.hit.entry.kind.as_str(),
            h.hit.entry.qualified
        );
    }
    for o in outcomes.iter().filter(|o| o.state != "answered") {
        complain!(ctx;
            "peer {} ({}): {}: {}",
            o.name,
            o.via,
            o.state,
            o.reason.as_deref().unwrap_or("")
        );
    }
    Ok(exit::OK)
}

/// `weft symbols --peer NAME`.
pub fn symbols(ctx: &Ctx, args: &SymbolsArgs, name: &str) -> Result<u8> {
    let here = here(ctx, Duration::from_secs(args.timeout))?;
    let spec = peers::linked(&here.config, name).map_err(|e| input(e.to_string()))?;
    let question = SymbolsQuery {
        path: args.under.clone(),
        name: args.name.clone(),
        limit: args.limit,
    };
    let (via, answer): (&str, Result<SymbolsAnswer, QueryError>) =
        match peers::local_root_from(&here.root, spec) {
            Some(root) => ("path", query::symbols_at(&root, &question)),
            None => match &here.mesh {
                Some(mesh) => ("mesh", mesh.ask(name, query::SYMBOLS, &question)),
                None => ("mesh", Err(QueryError::NoDaemon)),
            },
        };
    let answer = answer.map_err(|message| {
        NodeError::from(CoordinateError::Peer {
            name: name.into(),
            message: format!("({via}) {message}"),
        })
    })?;
    if ctx.json {
        ctx.print_json(&serde_json::json!({
            "project": name,
            "via": via,
            "files_scanned": answer.files_scanned,
            "symbols": answer.symbols,
            "omitted": answer.omitted,
        }));
        return Ok(exit::OK);
    }
    for e in &answer.symbols {
        say!(ctx; "{}", out::symbol_line(&e.path, &e.symbol));
    }
    complain!(ctx;
        "{} symbols of {name} ({via}, {} files analysed){}",
        answer.symbols.len(),
        answer.files_scanned,
        if answer.omitted > 0 {
            format!("; {} more not listed (--limit)", answer.omitted)
        } else {
            String::new()
        }
    );
    Ok(exit::OK)
}
