//! RELEASE: `weft coordinate release` (impact, the gate's decision, `release.publish`
//! and `/releases/VERSION`), `ack` (a peer's `coordinate.ack` with a lineage record
//! derived from the release event) and `status` (releases, affected peers, acks).
//!
//! Each node writes only its own chain. A peer acknowledging a release first witnesses
//! the releasing chain's head, then records the ack; the releasing node witnesses the
//! ack's head when it next reads that peer's chain (status, release, or its daemon).

use super::impact::{self, ImpactReport, PeerState, Severity};
use super::peers;
use super::{CoordinateError, ImpactRequest, IMPACT_EVENT};
use crate::config::PeerConfig;
use crate::query::PeerAsker;
use crate::{Node, NodeError};
use ciborium::value::Value;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use weft_kernel::cbor::{self, read};
use weft_kernel::event::ChainId;
use weft_kernel::event::EventDraft;
use weft_kernel::gate::{Decision, Effect};
use weft_kernel::witness::{self, Derivation, EventRef};
use weft_kernel::{Chain, StoredEvent};

/// Kind of a published release.
pub const RELEASE_EVENT: &str = "release.publish";
/// Kind of a peer's acknowledgement.
pub const ACK_EVENT: &str = "coordinate.ack";
/// The gate action of a release.
pub const RELEASE_ACTION: &str = "release.publish";
/// Tree node of a release waiting on the gate.
const PENDING_DIR: &str = "/coordination/releases";

fn text(s: &str) -> Value {
    Value::Text(s.into())
}

fn input(message: String) -> NodeError {
    NodeError::Input(message)
}

/// A version must be usable as a tree path segment.
pub fn check_version(version: &str) -> Result<(), NodeError> {
    if crate::config::valid_name(version) {
        Ok(())
    } else {
        Err(input(format!(
            "version `{version}`: use 1–64 letters, digits, `.`, `_` or `-` (e.g. 1.4.0 or v1.4.0)"
        )))
    }
}

/// An artifact shipped with a release.
#[derive(Debug, Clone, Serialize)]
pub struct Artifact {
    /// File name.
    pub name: String,
    /// SHAKE-256 (hex).
    pub hash: String,
    /// Size in bytes.
    pub size: u64,
}

/// What `release` is asked.
#[derive(Debug, Clone, Default)]
pub struct ReleaseRequest {
    /// Version.
    pub version: String,
    /// Governance environment.
    pub environment: Option<String>,
    /// Base revision for the impact.
    pub since: Option<String>,
    /// Artifact files to hash into the release.
    pub artifacts: Vec<PathBuf>,
}

/// How a release ended.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "lowercase", tag = "outcome")]
pub enum Outcome {
    /// Published at `seq`.
    Published {
        /// The `release.publish` event.
        seq: u64,
        /// Git commit released.
        commit: String,
    },
    /// Waiting for `weft gate approve` or for acknowledgements.
    Deferred,
    /// Refused.
    Denied,
    /// A human rejected the deferred release.
    Rejected,
}

/// The result of `release`.
#[derive(Debug, Clone, Serialize)]
pub struct ReleaseResult {
    /// Version.
    pub version: String,
    /// Outcome.
    #[serde(flatten)]
    pub outcome: Outcome,
    /// The gate decision's sequence.
    pub decision: u64,
    /// The decision.
    pub decision_name: String,
    /// Effect scored.
    pub effect: BTreeMap<String, f64>,
    /// The gate's reasons.
    pub reasons: Vec<String>,
    /// The `coordinate.impact` event.
    pub impact_seq: u64,
    /// Impact report file.
    pub report: PathBuf,
    /// Affected peers and whether each has acknowledged.
    pub peers: Vec<PeerAck>,
    /// Hashed artifacts.
    pub artifacts: Vec<Artifact>,
}

/// A peer's acknowledgement state for a release.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct PeerAck {
    /// Peer.
    pub name: String,
    /// Its severity (not kept for past releases, whose report file has it).
    #[serde(skip_serializing_if = "unknown")]
    pub severity: Severity,
    /// Whether it acknowledged the version.
    pub acknowledged: bool,
    /// Sequence of its `coordinate.ack`, on its chain.
    pub ack_seq: Option<u64>,
}

fn unknown(severity: &Severity) -> bool {
    *severity == Severity::None
}

fn artifact(path: &std::path::Path) -> Result<Artifact, NodeError> {
    let meta = std::fs::metadata(path).map_err(|e| NodeError::io(path, e))?;
    if !meta.is_file() {
        return Err(input(format!("--artifact {}: not a file", path.display())));
    }
    let hash = std::fs::File::open(path)
        .and_then(weft_kernel::hash::shake256_reader)
        .map_err(|e| NodeError::io(path, e))?;
    Ok(Artifact {
        name: path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
        hash: hash.to_hex(),
        size: meta.len(),
    })
}

/// A deferred release of this version: (decision seq, impact seq).
fn pending(node: &Node, version: &str) -> Result<Option<(u64, u64)>, NodeError> {
    let Some(n) = node.tree().get(&format!("{PENDING_DIR}/{version}"))? else {
        return Ok(None);
    };
    let num = |k: &str| n.meta.get(k).and_then(|v| v.parse::<u64>().ok());
    Ok(num("decision").zip(num("impact")))
}

/// How a deferred decision was resolved, if it was: only the gate's own transition
/// counts (`weft gate approve|reject`), never an event that merely looks like one.
fn resolution(chain: &Chain, decision: u64) -> Result<Option<bool>, NodeError> {
    Ok(weft_kernel::gate::resolution(chain, decision)?.map(|(approve, _)| approve))
}

/// Acknowledgements by version, then by peer name: the sequence of the peer's
/// `coordinate.ack` on its own chain.
pub type Acks = BTreeMap<String, BTreeMap<String, u64>>;

/// The version an event acknowledges, when it is a `coordinate.ack` of a release on the
/// chain `own`.
fn acked_version<'e>(e: &'e weft_kernel::Event, own: Option<&ChainId>) -> Option<&'e str> {
    if e.kind != ACK_EVENT {
        return None;
    }
    let release_chain = read::field(&e.payload, "release").and_then(|r| read::bytes(r, "chain_id"));
    if release_chain != own.map(|c| &c.0[..]) {
        return None;
    }
    read::text(&e.payload, "version")
}

/// Witnesses the peer's head covering event `seq` with `note`, unless a witness with
/// that note is already on this chain (`witnessed`, kept up to date). True when appended.
fn witness_once(
    node: &Node,
    chain: &Chain,
    seq: u64,
    note: String,
    witnessed: &mut BTreeSet<String>,
) -> Result<bool, NodeError> {
    if witnessed.contains(&note) {
        return Ok(false);
    }
    let Some(head) = peers::verified_head(chain).filter(|h| h.seq >= seq) else {
        return Ok(false);
    };
    let draft =
        witness::witness_head(&head, None, Some(&note)).map_err(|e| input(e.to_string()))?;
    node.append(draft)?;
    witnessed.insert(note);
    Ok(true)
}

/// Acknowledgements of `versions` of this chain found on the linked peers' chains (one
/// pass over each). Each newly seen ack is witnessed on this chain with the peer's head
/// covering it (note `ack NAME VERSION`).
pub fn acknowledgements(node: &Node, versions: &BTreeSet<&str>) -> Result<Acks, NodeError> {
    let own = node.chain().genesis().map(|g| g.chain_id);
    let mut witnessed = witnessed_notes(node.chain())?;
    let mut out = Acks::new();
    let mut pins = crate::pins::Pins::load(&node.layout().peers())?;
    for spec in &node.current_config()?.coordination.peers {
        // A peer whose chain does not verify under its trusted key acknowledges nothing.
        let Ok(peers::TrustedChain {
            chain,
            verified_to: Some(verified_to),
        }) = peers::trusted_peer_chain(node, spec, &mut pins)
        else {
            continue;
        };
        let mut found: BTreeMap<&str, u64> = BTreeMap::new();
        for stored in chain.events(0) {
            let Ok(stored) = stored else { break };
            let e = &stored.event;
            if e.seq > verified_to {
                break;
            }
            if let Some(version) =
                acked_version(e, own.as_ref()).and_then(|v| versions.get(v).copied())
            {
                found.insert(version, e.seq);
            }
        }
        for (version, seq) in found {
            out.entry(version.to_string())
                .or_default()
                .insert(spec.name.clone(), seq);
            let note = format!("ack {} {version}", spec.name);
            witness_once(node, &chain, seq, note, &mut witnessed)?;
        }
    }
    Ok(out)
}

/// What a peer's newly replicated events (from `from` on) say to coordination: each
/// release it published is witnessed here at once (note `release NAME VERSION`: the
/// announcement recorded), and each acknowledgement of a release of this chain too
/// (note `ack NAME VERSION`). Returns the notes witnessed.
pub fn witness_replicated(
    node: &Node,
    name: &str,
    chain: &Chain,
    from: u64,
) -> Result<Vec<String>, NodeError> {
    let own = node.chain().genesis().map(|g| g.chain_id);
    let mut found = Vec::new();
    for stored in chain.events(from) {
        let Ok(stored) = stored else { break };
        let e = &stored.event;
        let note = if e.kind == RELEASE_EVENT {
            read::text(&e.payload, "version").map(|v| format!("release {name} {v}"))
        } else {
            acked_version(e, own.as_ref()).map(|v| format!("ack {name} {v}"))
        };
        if let Some(note) = note {
            found.push((e.seq, note));
        }
    }
    if found.is_empty() {
        return Ok(Vec::new());
    }
    let mut witnessed = witnessed_notes(node.chain())?;
    let mut appended = Vec::new();
    for (seq, note) in found {
        if witness_once(node, chain, seq, note.clone(), &mut witnessed)? {
            appended.push(note);
        }
    }
    Ok(appended)
}

/// Notes of this chain's `witness.head` events.
fn witnessed_notes(chain: &Chain) -> Result<BTreeSet<String>, NodeError> {
    let mut notes = BTreeSet::new();
    for stored in chain.events(0) {
        let e = stored?.event;
        if e.kind == witness::WITNESS_HEAD {
            if let Some(n) = read::text(&e.payload, "note") {
                notes.insert(n.to_string());
            }
        }
    }
    Ok(notes)
}

fn peer_acks(report: &ImpactReport, acks: &BTreeMap<String, u64>) -> Vec<PeerAck> {
    report
        .peers
        .iter()
        .filter(|p| p.state == PeerState::Affected)
        .map(|p| PeerAck {
            name: p.name.clone(),
            severity: p.severity,
            acknowledged: acks.contains_key(&p.name),
            ack_seq: acks.get(&p.name).copied(),
        })
        .collect()
}

/// Runs a gated release: impact, decision, and on permit the `release.publish` event and
/// `/releases/VERSION`. A deferred release is re-decided when run again (acks may have
/// arrived) and published once `weft gate approve` approved it.
pub fn release(
    node: &Node,
    request: &ReleaseRequest,
    remote: &dyn PeerAsker,
) -> Result<ReleaseResult, NodeError> {
    let version = request.version.as_str();
    check_version(version)?;
    if let Some(existing) = node.tree().get(&format!("/releases/{version}"))? {
        return Err(input(format!(
            "{version} is already released (event {}): pick a new version",
            existing.seq
        )));
    }
    let gate = node.gate()?;
    if let Some(env) = &request.environment {
        if gate.rules().threshold_for(Some(env)).is_none() {
            return Err(input(format!(
                "--env {env}: not configured under [governance.environments] in weave.toml"
            )));
        }
    }
    let artifacts = request
        .artifacts
        .iter()
        .map(|p| artifact(p))
        .collect::<Result<Vec<_>, _>>()?;
    let report = super::impact(
        node,
        &ImpactRequest {
            since: request.since.clone(),
            version: Some(version.to_string()),
            ..ImpactRequest::default()
        },
        remote,
    )?;
    let acks = acknowledgements(node, &BTreeSet::from([version]))?
        .remove(version)
        .unwrap_or_default();
    let (written, impact_event) = super::record_impact(node, &report)?;
    let acked: Vec<String> = acks.keys().cloned().collect();
    let effect = impact::effect(&report, &acked, gate.rules().dimensions());
    let earlier = pending(node, version)?;
    let approved = match earlier {
        Some((decision, _)) => resolution(node.chain(), decision)?,
        None => None,
    };
    let mut result = ReleaseResult {
        version: version.into(),
        outcome: Outcome::Deferred,
        decision: 0,
        decision_name: String::new(),
        effect: effect.clone(),
        reasons: Vec::new(),
        impact_seq: impact_event.event.seq,
        report: written.path.clone(),
        peers: peer_acks(&report, &acks),
        artifacts,
    };
    if approved == Some(false) {
        result.outcome = Outcome::Rejected;
        result.decision = earlier.map_or(0, |e| e.0);
        result.decision_name = "rejected".into();
        node.tree()
            .remove(&format!("{PENDING_DIR}/{version}"), false)?;
        return Ok(result);
    }
    let decision = if approved == Some(true) {
        let seq = earlier.map_or(0, |e| e.0);
        result.decision = seq;
        result.decision_name = "approved".into();
        Decision::Permit
    } else {
        let scored = if effect.is_empty() {
            // A rule set without `risk` or `novelty` still gets a decision on record.
            Effect(
                gate.rules()
                    .dimensions()
                    .iter()
                    .take(1)
                    .map(|d| (d.clone(), 0.0))
                    .collect(),
            )
        } else {
            Effect(effect.clone())
        };
        let recorded = node.gate_decide(RELEASE_ACTION, request.environment.as_deref(), &scored)?;
        result.decision = recorded.seq;
        result.decision_name = recorded.evaluation.decision.name().into();
        result.reasons = recorded.evaluation.reasons.clone();
        if let Some((old, _)) = earlier {
            if recorded.evaluation.decision != Decision::Defer {
                // The deferred request is superseded by this decision.
                node.gate_resolve(
                    old,
                    false,
                    Some(&format!("superseded by decision {}", recorded.seq)),
                    Some("weft coordinate release"),
                )?;
            }
        }
        recorded.evaluation.decision
    };
    match decision {
        Decision::Permit | Decision::Warn => {
            let stored = publish(node, &report, &result, &written, impact_event.event.seq)?;
            if earlier.is_some() {
                node.tree()
                    .remove(&format!("{PENDING_DIR}/{version}"), false)?;
            }
            result.outcome = Outcome::Published {
                seq: stored.event.seq,
                commit: report.api.head_commit.clone(),
            };
        }
        Decision::Defer => {
            if earlier.is_none() {
                let meta = BTreeMap::from([
                    ("decision".to_string(), result.decision.to_string()),
                    ("impact".to_string(), impact_event.event.seq.to_string()),
                    ("version".to_string(), version.to_string()),
                ]);
                ensure_namespace(node, "/coordination")?;
                ensure_namespace(node, PENDING_DIR)?;
                node.tree()
                    .set(&format!("{PENDING_DIR}/{version}"), "release-pending", meta)?;
            }
            result.outcome = Outcome::Deferred;
        }
        Decision::Deny => result.outcome = Outcome::Denied,
    }
    Ok(result)
}

/// Creates an empty namespace node unless it exists.
fn ensure_namespace(node: &Node, path: &str) -> Result<(), NodeError> {
    if node.tree().get(path)?.is_none() {
        node.tree_set(path, "namespace", BTreeMap::new())?;
    }
    Ok(())
}

fn publish(
    node: &Node,
    report: &ImpactReport,
    result: &ReleaseResult,
    written: &super::WrittenImpact,
    impact_seq: u64,
) -> Result<StoredEvent, NodeError> {
    let affected: Vec<Value> = result.peers.iter().map(|p| text(&p.name)).collect();
    let artifacts: Vec<Value> = result
        .artifacts
        .iter()
        .map(|a| {
            cbor::map([
                ("name", text(&a.name)),
                (
                    "hash",
                    Value::Bytes(hex::decode(&a.hash).unwrap_or_default()),
                ),
                ("size", Value::Integer(a.size.into())),
            ])
        })
        .collect();
    let payload = cbor::map([
        ("version", text(&result.version)),
        ("commit", text(&report.api.head_commit)),
        ("artifacts", Value::Array(artifacts)),
        (
            "impact",
            cbor::map([
                ("seq", Value::Integer(impact_seq.into())),
                ("hash", Value::Bytes(written.hash.0.to_vec())),
            ]),
        ),
        ("decision", Value::Integer(result.decision.into())),
        ("affected", Value::Array(affected)),
    ]);
    let draft =
        EventDraft::new("release", RELEASE_EVENT, payload).map_err(|e| input(e.to_string()))?;
    let stored = node.append(draft)?;
    let meta = BTreeMap::from([
        ("version".to_string(), result.version.clone()),
        ("commit".to_string(), report.api.head_commit.clone()),
        ("impact".to_string(), written.hash.to_hex()),
        ("release_seq".to_string(), stored.event.seq.to_string()),
    ]);
    node.tree()
        .set(&format!("/releases/{}", result.version), "release", meta)?;
    Ok(stored)
}

/// The release (or the impact of a release waiting on the gate) of `version` on
/// `chain`: the newest `release.publish`, else the newest `coordinate.impact` for it.
fn find_release(chain: &Chain, version: &str) -> Result<Option<(StoredEvent, bool)>, NodeError> {
    let mut published = None;
    let mut proposed = None;
    for stored in chain.events(0) {
        let stored = stored?;
        let e = &stored.event;
        if read::text(&e.payload, "version") != Some(version) {
            continue;
        }
        if e.kind == RELEASE_EVENT {
            published = Some(stored);
        } else if e.kind == IMPACT_EVENT {
            proposed = Some(stored);
        }
    }
    Ok(published
        .map(|p| (p, true))
        .or(proposed.map(|p| (p, false))))
}

/// The result of `ack`.
#[derive(Debug, Clone, Serialize)]
pub struct AckResult {
    /// Upstream peer.
    pub project: String,
    /// Version.
    pub version: String,
    /// Whether the release was published (else its impact, waiting on the gate).
    pub published: bool,
    /// The release (or impact) event acknowledged, on the upstream's chain.
    pub release_seq: u64,
    /// Our `witness.head` of the upstream's head.
    pub witness_seq: u64,
    /// Our `lineage.record`.
    pub lineage_seq: u64,
    /// Our `coordinate.ack`.
    pub ack_seq: u64,
}

/// Acknowledges `version` of the linked peer `project`: witnesses its head, then records
/// a lineage record derived from the release event and the `coordinate.ack`.
pub fn ack(
    node: &Node,
    project: &str,
    version: &str,
    note: Option<&str>,
) -> Result<AckResult, NodeError> {
    check_version(version)?;
    let config = node.current_config()?;
    let spec: &PeerConfig = peers::linked(&config, project).map_err(|e| input(e.to_string()))?;
    let chain = peers::peer_chain(node, spec).map_err(|e| CoordinateError::from_peer(spec, e))?;
    let (release, published) = find_release(&chain, version)?.ok_or_else(|| {
        input(format!(
            "{project} has no release {version} on its chain (as far as this node has it): check the version with `weft coordinate status`"
        ))
    })?;
    let head = peers::verified_head(&chain)
        .filter(|h| h.seq >= release.event.seq)
        .ok_or_else(|| {
            input(format!(
                "{project}: no verified signed head covers its release event"
            ))
        })?;
    let reference = EventRef {
        chain_id: release.event.chain_id,
        seq: release.event.seq,
        hash: release.hash,
    };
    let note_text = format!("release {project} {version}");
    let witness =
        witness::witness_head(&head, None, Some(&note_text)).map_err(|e| input(e.to_string()))?;
    let child = format!("ack:{project}@{version}");
    let lineage = witness::lineage(
        &child,
        std::slice::from_ref(&reference),
        Derivation::Derive,
        note,
    )
    .map_err(|e| input(e.to_string()))?;
    let mut fields = vec![
        ("project", text(project)),
        ("version", text(version)),
        (
            "release",
            cbor::map([
                ("chain_id", Value::Bytes(reference.chain_id.0.to_vec())),
                ("seq", Value::Integer(reference.seq.into())),
                ("hash", Value::Bytes(reference.hash.0.to_vec())),
            ]),
        ),
        ("published", Value::Bool(published)),
    ];
    if let Some(n) = note {
        fields.push(("note", text(n)));
    }
    let payload = Value::Map(fields.into_iter().map(|(k, v)| (text(k), v)).collect());
    let ack =
        EventDraft::new("coordinate", ACK_EVENT, payload).map_err(|e| input(e.to_string()))?;
    let stored = node.append_batch(vec![witness, lineage, ack])?;
    Ok(AckResult {
        project: project.into(),
        version: version.into(),
        published,
        release_seq: release.event.seq,
        witness_seq: stored[0].event.seq,
        lineage_seq: stored[1].event.seq,
        ack_seq: stored[2].event.seq,
    })
}

/// One release in `status`.
#[derive(Debug, Clone, Serialize)]
pub struct ReleaseStatus {
    /// Version.
    pub version: String,
    /// `published` or `deferred`.
    pub state: String,
    /// The `release.publish` event, or the pending decision.
    pub seq: u64,
    /// Commit.
    pub commit: Option<String>,
    /// Affected peers with their acknowledgement.
    pub peers: Vec<PeerAck>,
}

/// A release of a linked peer that this node has or has not acknowledged.
#[derive(Debug, Clone, Serialize)]
pub struct UpstreamRelease {
    /// The peer.
    pub project: String,
    /// Version.
    pub version: String,
    /// Published (else waiting on its gate).
    pub published: bool,
    /// Event on its chain.
    pub seq: u64,
    /// Whether this node acknowledged it.
    pub acknowledged: bool,
}

/// `status`: this node's releases and acks, and its upstreams' releases.
#[derive(Debug, Clone, Serialize)]
pub struct Status {
    /// Releases of this project, oldest first.
    pub releases: Vec<ReleaseStatus>,
    /// Releases of linked peers naming this node among the affected.
    pub upstream: Vec<UpstreamRelease>,
    /// Peers whose chains could not be read.
    pub unreadable: Vec<(String, String)>,
}

/// Collects [`Status`].
pub fn status(node: &Node) -> Result<Status, NodeError> {
    // Each release with its affected peers' names; acks are looked up below.
    let mut versions: Vec<(ReleaseStatus, Vec<String>)> = Vec::new();
    let listed = |version: String, state: &str, seq: u64, commit: Option<String>| ReleaseStatus {
        version,
        state: state.into(),
        seq,
        commit,
        peers: Vec::new(),
    };
    let mut impacts: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut own_acks: BTreeSet<(String, String)> = BTreeSet::new();
    for stored in node.chain().events(0) {
        let e = stored?.event;
        let version = read::text(&e.payload, "version").map(str::to_string);
        let names = |key: &str| -> Vec<String> {
            match read::field(&e.payload, key) {
                Some(Value::Array(items)) => items
                    .iter()
                    .filter_map(|v| v.as_text().map(str::to_string))
                    .collect(),
                _ => Vec::new(),
            }
        };
        match (e.kind.as_str(), version) {
            (RELEASE_EVENT, Some(v)) => {
                let commit = read::text(&e.payload, "commit").map(str::to_string);
                versions.push((listed(v, "published", e.seq, commit), names("affected")));
            }
            (IMPACT_EVENT, Some(v)) => {
                impacts.insert(v, names("affected"));
            }
            (ACK_EVENT, Some(v)) => {
                if let Some(p) = read::text(&e.payload, "project") {
                    own_acks.insert((p.to_string(), v));
                }
            }
            _ => {}
        }
    }
    for n in node.tree().walk(PENDING_DIR).unwrap_or_default() {
        let Some(v) = n.meta.get("version") else {
            continue;
        };
        let decision = n
            .meta
            .get("decision")
            .and_then(|d| d.parse().ok())
            .unwrap_or(0);
        let affected = impacts.get(v).cloned().unwrap_or_default();
        versions.push((listed(v.clone(), "deferred", decision, None), affected));
    }
    let mut releases = Vec::new();
    let all_acks = acknowledgements(
        node,
        &versions.iter().map(|(r, _)| r.version.as_str()).collect(),
    )?;
    let none = BTreeMap::new();
    for (mut release, affected) in versions {
        let acks = all_acks.get(&release.version).unwrap_or(&none);
        release.peers = affected
            .into_iter()
            .map(|name| PeerAck {
                acknowledged: acks.contains_key(&name),
                ack_seq: acks.get(&name).copied(),
                severity: Severity::None,
                name,
            })
            .collect();
        releases.push(release);
    }
    let mut upstream = Vec::new();
    let mut unreadable = Vec::new();
    for spec in &node.current_config()?.coordination.peers {
        let chain = match peers::peer_chain(node, spec) {
            Ok(c) => c,
            Err(e) => {
                unreadable.push((spec.name.clone(), e.to_string()));
                continue;
            }
        };
        let mut seen: BTreeMap<String, (bool, u64)> = BTreeMap::new();
        for stored in chain.events(0) {
            let Ok(stored) = stored else { break };
            let e = &stored.event;
            if e.kind != RELEASE_EVENT && e.kind != IMPACT_EVENT {
                continue;
            }
            let Some(v) = read::text(&e.payload, "version") else {
                continue;
            };
            let published = e.kind == RELEASE_EVENT;
            let entry = seen.entry(v.to_string()).or_insert((published, e.seq));
            if published || !entry.0 {
                *entry = (published, e.seq);
            }
        }
        for (version, (published, seq)) in seen {
            upstream.push(UpstreamRelease {
                acknowledged: own_acks.contains(&(spec.name.clone(), version.clone())),
                project: spec.name.clone(),
                version,
                published,
                seq,
            });
        }
    }
    Ok(Status {
        releases,
        upstream,
        unreadable,
    })
}
