//! Cross-project coordination: which linked peer repositories, files and symbols a
//! release of this project affects (`weft coordinate impact`), and the gated release,
//! announcement and acknowledgements recorded on the chains (`release`, `ack`,
//! `status`).
//!
//! The questions themselves are weft-graph's: `graph::api` diffs this repository's
//! public API between two commits, `graph::usage` is the question a peer answers about
//! its own code, `graph::version` reads each ecosystem's version requirements. Here:
//!
//! - [`outcome`] holds what the report and the build checks share (a peer's severity, a
//!   check's result), below both;
//! - [`impact`] turns the answers into the report and the gate's effect;
//! - [`check`] builds a peer against this head (`--check`, `weft coordinate check`): the
//!   compiler's proof beside the static evidence;
//! - [`peers`] reaches linked peers (local paths read-only; remote ones over the mesh);
//! - [`release`] records releases and acknowledgements;
//! - [`sarif`] renders an impact report for code-scanning tools, [`diagram`] as a
//!   Graphviz or Mermaid graph;
//! - [`recorded`] reads a recorded report back, checked against its event.

pub mod check;
pub mod diagram;
pub mod impact;
pub mod outcome;
pub mod peers;
pub mod recorded;
pub mod release;
pub mod sarif;

pub use crate::graph::{api, usage, version};

use crate::graph::api::ApiError;
use crate::graph::GraphError;
use crate::query::PeerAsker;
use crate::{Node, NodeError};
use git2::{Oid, Repository};
use impact::{Base, ImpactReport};
use std::path::PathBuf;
use weft_kernel::cbor;
use weft_kernel::event::EventDraft;
use weft_kernel::Hash;

/// Kind of the record of an impact report.
pub const IMPACT_EVENT: &str = "coordinate.impact";
/// Default co-change window after a past release.
pub const DEFAULT_WINDOW_DAYS: u32 = 14;

/// Coordination failed.
#[derive(Debug, thiserror::Error)]
pub enum CoordinateError {
    /// Git failed.
    #[error("git: {0}")]
    Git(String),
    /// A revision did not resolve.
    #[error("{rev:?} is not a revision of this repository: {message}")]
    BadRevision {
        /// What was given.
        rev: String,
        /// libgit2's message.
        message: String,
    },
    /// The knowledge graph.
    #[error(transparent)]
    Graph(#[from] GraphError),
    /// Bad input.
    #[error("{0}")]
    Input(String),
    /// A peer could not be asked.
    #[error("peer `{name}`: {message}")]
    Peer {
        /// Peer name.
        name: String,
        /// What went wrong.
        message: String,
    },
    /// A build check could not be run.
    #[error(transparent)]
    Check(#[from] check::CheckError),
    /// A linked peer's chain or head could not be read or did not check out.
    #[error("{name}: {source}")]
    PeerChain {
        /// Peer name.
        name: String,
        /// Why.
        source: peers::PeerError,
    },
    /// A recorded impact report is not the one its event recorded.
    #[error("{0}")]
    ReportMismatch(String),
}

impl CoordinateError {
    /// A failure reading the linked peer `spec`.
    pub fn from_peer(
        spec: &crate::config::PeerConfig,
        source: peers::PeerError,
    ) -> CoordinateError {
        CoordinateError::PeerChain {
            name: spec.name.clone(),
            source,
        }
    }
}

impl From<ApiError> for CoordinateError {
    fn from(e: ApiError) -> CoordinateError {
        match e {
            ApiError::Git(message) => CoordinateError::Git(message),
            ApiError::Graph(g) => CoordinateError::Graph(g),
            // weave.toml's globs are checked when it is loaded; this names the file anyway.
            ApiError::PublicConfig(e) => CoordinateError::Input(format!("weave.toml {e}")),
        }
    }
}

/// What `impact` is asked.
#[derive(Debug, Clone, Default)]
pub struct ImpactRequest {
    /// Base revision (default: the last release on the chain, else the last tag).
    pub since: Option<String>,
    /// Only these peers (default: every linked peer).
    pub peers: Vec<String>,
    /// The version the impact is for (default: the manifests' version at HEAD).
    pub version: Option<String>,
    /// Co-change window in days.
    pub window_days: u32,
}

/// A `release.publish` on this chain.
#[derive(Debug, Clone)]
pub struct Published {
    /// Version.
    pub version: String,
    /// Git commit released.
    pub commit: String,
    /// Unix time of the event, in seconds.
    pub time: i64,
}

/// Every `release.publish` on the chain, oldest first (one pass over the chain).
pub fn published(node: &Node) -> Result<Vec<Published>, NodeError> {
    let mut out = Vec::new();
    for stored in node.chain().events(0) {
        let e = stored?.event;
        if e.kind == release::RELEASE_EVENT {
            let field = |key| cbor::read::text(&e.payload, key).unwrap_or("").to_string();
            out.push(Published {
                version: field("version"),
                commit: field("commit"),
                time: (e.timestamp_ns / 1_000_000_000) as i64,
            });
        }
    }
    Ok(out)
}

/// Resolves the base: `--since`, else the last release event whose commit the repository
/// has, else the newest version tag reachable from HEAD, else nothing (a first release:
/// every public symbol is new).
fn resolve_base(
    releases: &[Published],
    repo: &Repository,
    since: Option<&str>,
) -> Result<(Base, Option<Oid>), NodeError> {
    if let Some(rev) = since {
        let commit = repo
            .revparse_single(rev)
            .and_then(|o| o.peel_to_commit())
            .map_err(|e| CoordinateError::BadRevision {
                rev: rev.into(),
                message: e.message().to_string(),
            })?;
        return Ok((
            Base {
                origin: "given".into(),
                name: Some(rev.into()),
                commit: Some(commit.id().to_string()),
            },
            Some(commit.id()),
        ));
    }
    if let Some(last) = releases.last() {
        if let Some(oid) = Oid::from_str(&last.commit)
            .ok()
            .filter(|o| repo.find_commit(*o).is_ok())
        {
            return Ok((
                Base {
                    origin: "release".into(),
                    name: Some(last.version.clone()),
                    commit: Some(last.commit.clone()),
                },
                Some(oid),
            ));
        }
    }
    if let Some((tag, oid)) = crate::graph::assess::run::last_release_tag(repo) {
        return Ok((
            Base {
                origin: "tag".into(),
                name: Some(tag),
                commit: Some(oid.to_string()),
            },
            Some(oid),
        ));
    }
    Ok((
        Base {
            origin: "none".into(),
            name: None,
            commit: None,
        },
        None,
    ))
}

/// Unix times of past releases: `release.publish` events and version tags.
fn release_times(releases: &[Published], repo: &Repository) -> Vec<i64> {
    let mut times: Vec<i64> = releases.iter().map(|r| r.time).collect();
    if let Ok(names) = repo.tag_names(None) {
        for name in names.iter().flatten() {
            if !name
                .trim_start_matches('v')
                .starts_with(|c: char| c.is_ascii_digit())
            {
                continue;
            }
            if let Ok(c) = repo
                .revparse_single(&format!("refs/tags/{name}"))
                .and_then(|o| o.peel_to_commit())
            {
                times.push(c.time().seconds());
            }
        }
    }
    times.sort_unstable();
    times.dedup();
    times
}

/// Computes the impact of what changed since the base on the linked peers. Local-path
/// peers are read directly; the others are asked through `remote`.
pub fn impact(
    node: &Node,
    request: &ImpactRequest,
    remote: &dyn PeerAsker,
) -> Result<ImpactReport, NodeError> {
    // As the file is now: `coordinate link` or `peers add` may have changed it since a
    // daemon's node was opened.
    let config = &node.current_config()?;
    for name in &request.peers {
        if !config.coordination.peers.iter().any(|p| &p.name == name) {
            return Err(NodeError::Input(format!(
                "--peer {name}: no such linked peer (see `weft peers`; link one with `weft coordinate link`)"
            )));
        }
    }
    let graph = crate::engine::open_graph(node.layout(), config)?;
    let repo = graph.repository()?;
    let head = repo
        .head()
        .ok()
        .and_then(|h| h.peel_to_commit().ok())
        .ok_or_else(|| {
            NodeError::Input("the repository has no commit yet: commit what you release".into())
        })?;
    let releases = published(node)?;
    let (base, base_oid) = resolve_base(&releases, &repo, request.since.as_deref())?;
    let api = api::diff(&graph, &repo, base_oid, head.id()).map_err(CoordinateError::from)?;
    drop(graph);
    let window = if request.window_days == 0 {
        DEFAULT_WINDOW_DAYS
    } else {
        request.window_days
    };
    let query = impact::query_for(&api, release_times(&releases, &repo), window);
    let version = request.version.clone();
    let mut peers_out = Vec::new();
    for spec in &config.coordination.peers {
        if !request.peers.is_empty() && !request.peers.contains(&spec.name) {
            continue;
        }
        let (via, answer) = peers::ask(node, spec, &query, remote);
        peers_out.push(match answer {
            Ok(answer) => impact::assess_peer(&spec.name, via, &api, version.as_deref(), &answer),
            Err(e) => impact::unreachable(&spec.name, via, e.to_string()),
        });
    }
    let summary = impact::summarise(&api, &mut peers_out);
    Ok(ImpactReport {
        schema: impact::SCHEMA.into(),
        project: config.project.name.clone(),
        chain_id: node
            .chain()
            .genesis()
            .map(|g| g.chain_id.to_hex())
            .unwrap_or_default(),
        version,
        base,
        api,
        peers: peers_out,
        summary,
    })
}

/// A report written under `.weftos/artifacts/`.
#[derive(Debug, Clone)]
pub struct WrittenImpact {
    /// File.
    pub path: PathBuf,
    /// SHAKE-256 of its bytes.
    pub hash: Hash,
    /// Size.
    pub size: u64,
}

/// Writes the report (pretty JSON) and records `coordinate.impact` with its hash.
pub fn record_impact(
    node: &Node,
    report: &ImpactReport,
) -> Result<(WrittenImpact, weft_kernel::StoredEvent), NodeError> {
    let bytes = serde_json::to_vec_pretty(report).expect("a report serialises");
    let hash = weft_kernel::hash::shake256(&bytes);
    let dir = node.layout().artifacts().join("impact");
    let path = dir.join(format!(
        "impact-{}-{}.json",
        &report.api.head_commit[..12.min(report.api.head_commit.len())],
        &hash.to_hex()[..12]
    ));
    weft_kernel::atomic::create_dir_durably(&dir).map_err(|e| NodeError::io(&dir, e))?;
    weft_kernel::atomic::write_atomically(&path, &bytes).map_err(|e| NodeError::io(&path, e))?;
    let rel = path
        .strip_prefix(&node.layout().root)
        .unwrap_or(&path)
        .to_string_lossy()
        .into_owned();
    use ciborium::value::Value;
    let text = |s: &str| Value::Text(s.into());
    let count = |n: u32| Value::Integer(n.into());
    let s = &report.summary;
    let mut fields = vec![
        (text("name"), text("impact")),
        (text("hash"), Value::Bytes(hash.0.to_vec())),
        (text("size"), Value::Integer((bytes.len() as u64).into())),
        (text("path"), text(&rel)),
        (text("commit"), text(&report.api.head_commit)),
        (
            text("summary"),
            Value::Map(vec![
                (text("affected"), count(s.affected)),
                (text("breaking_peers"), count(s.breaking_peers)),
                (text("breaking_uses"), count(s.breaking_uses)),
                (text("pinned"), count(s.pinned)),
                (text("unreachable"), count(s.unreachable)),
                (text("breaking_changes"), count(s.breaking_changes)),
            ]),
        ),
        (
            text("affected"),
            Value::Array(
                report
                    .peers
                    .iter()
                    .filter(|p| p.state == impact::PeerState::Affected)
                    .map(|p| text(&p.name))
                    .collect(),
            ),
        ),
    ];
    let checks: Vec<(Value, Value)> = report
        .peers
        .iter()
        .filter_map(|p| Some((text(&p.name), text(p.check.as_ref()?.outcome.name()))))
        .collect();
    if !checks.is_empty() {
        fields.push((text("checks"), Value::Map(checks)));
    }
    if let Some(c) = &report.base.commit {
        fields.push((text("base"), text(c)));
    }
    if let Some(v) = &report.version {
        fields.push((text("version"), text(v)));
    }
    let draft = EventDraft::new("coordinate", IMPACT_EVENT, Value::Map(fields))
        .map_err(|e| NodeError::Input(e.to_string()))?;
    let stored = node.append(draft)?;
    Ok((
        WrittenImpact {
            path,
            hash,
            size: bytes.len() as u64,
        },
        stored,
    ))
}
