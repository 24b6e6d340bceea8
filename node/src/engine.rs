//! The node engine: one repository's chain, tree and gate, opened once and shared by
//! every command and the daemon, with the one append path and the knowledge-graph handle.

use crate::config;
use crate::graph::{GraphError, KnowledgeGraph};
use crate::layout::Layout;
use crate::{NodeError, WeaveConfig};
use std::path::Path;
use std::sync::{Arc, Mutex};
use weft_kernel::event::EventDraft;
use weft_kernel::gate::{Gate, RuleSet};
use weft_kernel::keys::{KeyError, NodeKey, NODE_KEY_FILE};
use weft_kernel::tree::Tree;
use weft_kernel::verify::VerifyReport;
use weft_kernel::witness;
use weft_kernel::{Chain, Hash, Store, StoredEvent};

/// How strictly to open the chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpenMode {
    /// Re-verify the tail and latest head; refuse a damaged store (every normal command).
    Checked,
    /// Open as-is (verify and repair check for themselves).
    Unchecked,
    /// Open as-is, creating an empty store if there is none (a restore).
    ForImport,
}

/// An open node.
pub struct Node {
    layout: Layout,
    config: WeaveConfig,
    /// `weave.toml` as last read (its text, and what it parsed to), for the settings
    /// that follow the file while a long-lived node (the daemon's) runs.
    current: Mutex<(Option<String>, Arc<WeaveConfig>)>,
    chain: Chain,
    /// The cluster, when the daemon runs this node as a member: every append goes
    /// through it.
    replicator: std::sync::OnceLock<Arc<dyn Replicator>>,
}

/// Where a cluster member's appends go: the daemon's Raft node, which has them
/// acknowledged by a majority and applied by the leader before answering.
pub trait Replicator: Send + Sync {
    /// Proposes `command` and waits for its reply.
    fn submit(&self, command: weft_consensus::Command) -> Result<weft_consensus::Reply, NodeError>;
    /// Waits until this member has applied everything committed before the call.
    fn read_barrier(&self) -> Result<(), NodeError>;
}

/// How long an acknowledged append may take to be applied on this member too, before
/// the command that made it reports it.
const LOCAL_APPLY_WAIT: std::time::Duration = std::time::Duration::from_secs(30);

impl AsRef<Chain> for Node {
    fn as_ref(&self) -> &Chain {
        &self.chain
    }
}

impl std::fmt::Debug for Node {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Node({})", self.layout.root.display())
    }
}

impl Node {
    /// Opens the node of the repository containing `start`.
    pub fn open(start: &Path, mode: OpenMode) -> Result<Node, NodeError> {
        let layout = Layout::discover(start)
            .ok_or_else(|| NodeError::NotInitialised(start.to_path_buf()))?;
        let text = config::read_text(&layout.config())?;
        let config = WeaveConfig::from_text(text.as_deref(), &layout.config())?;
        let current = Mutex::new((text, Arc::new(config.clone())));
        let key = match NodeKey::load_from(&layout.keys()) {
            Ok(k) => Some(k),
            Err(KeyError::Missing(_)) => None,
            Err(e) => return Err(e.into()),
        };
        let store = match mode {
            OpenMode::ForImport if !layout.chain().join("CURRENT").exists() => {
                Store::create(&layout.chain())?
            }
            _ => Store::open(&layout.chain())?,
        };
        // A member that has not received the cluster's chain yet opens it empty.
        let mode = match crate::membership::load(&layout)? {
            Some(m) if matches!(m.pending, crate::membership::Pending::Join { .. }) => {
                OpenMode::Unchecked
            }
            _ => mode,
        };
        let store = Arc::new(store);
        let chain = match mode {
            OpenMode::Checked => {
                if weft_kernel::segment::import_interrupted(&store) {
                    return Err(NodeError::Input(format!(
                        "an import into {} was interrupted: remove that directory and run `weft chain import` again",
                        layout.chain().display()
                    )));
                }
                Chain::open(store, key)?
            }
            OpenMode::Unchecked | OpenMode::ForImport => Chain::open_unchecked(store, key)?,
        };
        Ok(Node {
            layout,
            config,
            current,
            chain,
            replicator: std::sync::OnceLock::new(),
        })
    }

    /// Paths.
    pub fn layout(&self) -> &Layout {
        &self.layout
    }

    /// The configuration the node was opened with.
    pub fn config(&self) -> &WeaveConfig {
        &self.config
    }

    /// The configuration as the file says now, read again when it changed: what the
    /// governance gate and coordination follow, so that a daemon's node and a command
    /// run on its own decide by the same rules. A file that no longer parses is an
    /// error, never a silent fall-back to older rules.
    pub fn current_config(&self) -> Result<Arc<WeaveConfig>, NodeError> {
        let path = self.layout.config();
        let text = config::read_text(&path)?;
        let mut current = self
            .current
            .lock()
            .map_err(|_| NodeError::Daemon("the configuration cache is unavailable".into()))?;
        if current.0 != text {
            let parsed = WeaveConfig::from_text(text.as_deref(), &path)?;
            *current = (text, Arc::new(parsed));
        }
        Ok(current.1.clone())
    }

    /// The chain.
    pub fn chain(&self) -> &Chain {
        &self.chain
    }

    /// The node key, required for anything that appends or signs.
    pub fn key(&self) -> Result<&NodeKey, NodeError> {
        self.chain
            .key()
            .ok_or_else(|| NodeError::KeyLost(self.layout.keys().join(NODE_KEY_FILE)))
    }

    /// The resource tree.
    pub fn tree(&self) -> Tree<'_> {
        Tree::new(&self.chain)
    }

    /// The configured rule set (of the file as it is now).
    pub fn rule_set(&self) -> Result<RuleSet, NodeError> {
        self.current_config()?
            .rule_set()
            .map_err(|e| NodeError::Input(format!("weave.toml [governance]: {e}")))
    }

    /// The gate with the configured rules.
    pub fn gate(&self) -> Result<Gate<'_>, NodeError> {
        Ok(Gate::new(&self.chain, self.rule_set()?))
    }

    /// Full verification, plus re-hashing of witnessed artifacts still present in the
    /// repository, and references to other chains checked against the replicas and
    /// local-path peers this node can read (a mismatch is a failure; what cannot be
    /// checked is only counted).
    pub fn verify(&self, progress: &mut dyn FnMut(u64)) -> Result<NodeVerify, NodeError> {
        let mut report = weft_kernel::verify::verify(&self.chain, progress)?;
        let mut artifacts = ArtifactCheck::default();
        for artifact in std::mem::take(&mut report.artifacts) {
            let Some(rel) = artifact.path else {
                artifacts.unchecked += 1;
                continue;
            };
            let file = self.layout.root.join(&rel);
            match std::fs::File::open(&file).and_then(weft_kernel::hash::shake256_reader) {
                Ok(actual) if actual == artifact.hash => artifacts.matched += 1,
                Ok(actual) => {
                    artifacts.mismatched += 1;
                    reference_failure(
                        &mut report,
                        artifact.seq,
                        format!(
                            "artifact `{}` at {rel} now hashes to {actual}, the witness names {}",
                            artifact.name, artifact.hash
                        ),
                    );
                }
                Err(_) => artifacts.unchecked += 1,
            }
        }
        let foreign = std::mem::take(&mut report.foreign_refs);
        // Opening every replica costs a store each: only when something refers to one.
        let chains = if foreign.is_empty() {
            Default::default()
        } else {
            crate::replicas::readable_chains(&self.layout, &self.config)
        };
        let (references, mismatches) = crate::replicas::check_references(&foreign, &chains);
        for m in mismatches {
            reference_failure(
                &mut report,
                m.seq,
                format!(
                    "names hash {} for event {} of chain {}, which holds {} there",
                    m.target.hash, m.target.seq, m.target.chain_id, m.held
                ),
            );
        }
        report.failures.sort_by_key(|f| (f.seq, f.kind));
        Ok(NodeVerify {
            chain: report,
            artifacts,
            references,
        })
    }

    /// Repairs the chain and rebuilds the tree from what remains; dropping signed heads
    /// (which peers may hold) needs `force`.
    pub fn repair(&self, force: bool) -> Result<weft_kernel::repair::RepairReport, NodeError> {
        self.key()?;
        let report = weft_kernel::repair::repair(&self.chain, &self.layout.quarantine(), force)?;
        self.tree().rebuild()?;
        // Decisions a quarantined stretch held, or resolved, are pending as the kept
        // events say.
        weft_kernel::gate::rebuild(&self.chain)?;
        Ok(report)
    }

    /// Restores the chain from an export file into this empty store.
    pub fn import(
        &self,
        file: &Path,
        progress: &mut dyn FnMut(u64),
    ) -> Result<weft_kernel::segment::FileSummary, NodeError> {
        let open = || {
            std::fs::File::open(file)
                .map(std::io::BufReader::new)
                .map_err(|e| NodeError::io(file, e))
        };
        let summary = weft_kernel::segment::import(&self.chain, open()?, open()?, progress)?;
        // The file carries events only: the tree and the gate's pending decisions and
        // rule index are derived from them again.
        self.tree().rebuild()?;
        weft_kernel::gate::rebuild(&self.chain)?;
        Ok(summary)
    }

    /// Witnesses an artifact file: hashes it and records name, hash, size and path.
    pub fn witness_artifact(
        &self,
        file: &Path,
        name: Option<&str>,
    ) -> Result<weft_kernel::StoredEvent, NodeError> {
        let meta = std::fs::metadata(file).map_err(|e| NodeError::io(file, e))?;
        if !meta.is_file() {
            return Err(NodeError::Input(format!(
                "{} is not a file",
                file.display()
            )));
        }
        let hash: Hash = std::fs::File::open(file)
            .and_then(weft_kernel::hash::shake256_reader)
            .map_err(|e| NodeError::io(file, e))?;
        let rel = file.canonicalize().ok().and_then(|abs| {
            abs.strip_prefix(&self.layout.root)
                .ok()
                .map(|p| p.to_string_lossy().into_owned())
        });
        let name = name.map(str::to_string).unwrap_or_else(|| {
            file.file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default()
        });
        let draft = witness::witness_artifact(&name, &hash, Some(meta.len()), rel.as_deref(), None)
            .map_err(|e| NodeError::Input(e.to_string()))?;
        self.append(draft)
    }

    /// Appends one event to the chain: the path every subsystem's record takes (the
    /// tree and the gate append through the kernel's own types). On a cluster member it
    /// goes through the cluster.
    pub fn append(&self, draft: EventDraft) -> Result<StoredEvent, NodeError> {
        if let Some(replicated) = self.replicated(|| append_command(vec![draft.clone()])) {
            return replicated?.pop().ok_or_else(no_event);
        }
        Ok(self.chain.append(draft)?)
    }

    /// Makes this node a cluster member whose appends go through `replicator` (the
    /// daemon does, once its Raft node runs). Once only.
    pub fn set_replicator(&self, replicator: Arc<dyn Replicator>) {
        let _ = self.replicator.set(replicator);
    }

    /// The cluster this node's appends go through, if it is a member and its daemon runs.
    pub fn replicator(&self) -> Option<&Arc<dyn Replicator>> {
        self.replicator.get()
    }

    /// Runs `command` through the cluster when this node is a member (None when it is
    /// not); the events it added, once applied here too.
    fn replicated(
        &self,
        command: impl FnOnce() -> Result<weft_consensus::Command, NodeError>,
    ) -> Option<Result<Vec<StoredEvent>, NodeError>> {
        let Some(replicator) = self.replicator.get() else {
            return self.chain.is_clustered().then(|| {
                Err(NodeError::Input(
                    "this node is a cluster member: its appends go through the cluster, which its daemon runs; start it with `weft node start`".into(),
                ))
            });
        };
        Some((|| match replicator.submit(command()?)? {
            weft_consensus::Reply::Applied(events) => self.applied_here(&events),
            weft_consensus::Reply::Refused(why) => Err(NodeError::Input(why)),
        })())
    }

    /// Waits until this member has applied `events` (the leader acknowledged them) and
    /// reads them back.
    fn applied_here(
        &self,
        events: &[weft_consensus::types::Appended],
    ) -> Result<Vec<StoredEvent>, NodeError> {
        let Some(last) = events.iter().map(|e| e.seq).max() else {
            return Ok(Vec::new());
        };
        let deadline = std::time::Instant::now() + LOCAL_APPLY_WAIT;
        while self.chain.len() <= last {
            if std::time::Instant::now() > deadline {
                return Err(NodeError::Daemon(format!(
                    "the cluster acknowledged event {last}, but this member has not applied it within {}s",
                    LOCAL_APPLY_WAIT.as_secs()
                )));
            }
            std::thread::sleep(std::time::Duration::from_millis(2));
        }
        events
            .iter()
            .map(|e| Ok(self.chain.event(e.seq)?))
            .collect()
    }

    /// Creates or updates a tree node (through the cluster on a member).
    pub fn tree_set(
        &self,
        path: &str,
        kind: &str,
        meta: std::collections::BTreeMap<String, String>,
    ) -> Result<StoredEvent, NodeError> {
        let command = || {
            Ok(weft_consensus::Command::TreeSet {
                path: path.to_string(),
                kind: kind.to_string(),
                meta: meta.clone(),
            })
        };
        if let Some(replicated) = self.replicated(command) {
            return replicated?.pop().ok_or_else(no_event);
        }
        Ok(self.tree().set(path, kind, meta)?)
    }

    /// Removes a tree node (through the cluster on a member).
    pub fn tree_remove(&self, path: &str, recursive: bool) -> Result<StoredEvent, NodeError> {
        let command = || {
            Ok(weft_consensus::Command::TreeRemove {
                path: path.to_string(),
                recursive,
            })
        };
        if let Some(replicated) = self.replicated(command) {
            return replicated?.pop().ok_or_else(no_event);
        }
        Ok(self.tree().remove(path, recursive)?)
    }

    /// Evaluates and records a governance gate decision (through the cluster on a
    /// member, where the state machine evaluates it under the rules read here).
    pub fn gate_decide(
        &self,
        action: &str,
        env: Option<&str>,
        effect: &weft_kernel::gate::Effect,
    ) -> Result<weft_kernel::gate::Recorded, NodeError> {
        let gate = self.gate()?;
        let rules = gate.rules();
        let command = || {
            Ok(weft_consensus::Command::GateDecide {
                rules: weft_kernel::cbor::encode_canonical(rules.to_value())
                    .map_err(|e| NodeError::Input(format!("gate rules: {e}")))?,
                action: action.to_string(),
                environment: env.map(str::to_string),
                effect: effect.0.iter().map(|(k, v)| (k.clone(), *v)).collect(),
            })
        };
        if let Some(replicated) = self.replicated(command) {
            let seq = replicated?.last().ok_or_else(no_event)?.event.seq;
            let evaluation = rules.evaluate(action, env, effect);
            return Ok(weft_kernel::gate::Recorded::new(
                rules, seq, evaluation, action, env,
            ));
        }
        Ok(gate.decide(action, env, effect)?)
    }

    /// Approves or rejects a deferred gate decision (through the cluster on a member).
    pub fn gate_resolve(
        &self,
        seq: u64,
        approve: bool,
        note: Option<&str>,
        by: Option<&str>,
    ) -> Result<StoredEvent, NodeError> {
        let command = || {
            Ok(weft_consensus::Command::GateResolve {
                seq,
                approve,
                note: note.map(str::to_string),
                by: by.map(str::to_string),
            })
        };
        if let Some(replicated) = self.replicated(command) {
            return replicated?.pop().ok_or_else(no_event);
        }
        Ok(self.gate()?.resolve(seq, approve, note, by)?)
    }

    /// Appends an event a user asked for (`weft chain append`): refused, before anything
    /// is written, when its source is one of weft's own subsystems'.
    pub fn append_user(&self, draft: EventDraft) -> Result<StoredEvent, NodeError> {
        check_user_source(&draft.source)?;
        self.append(draft)
    }

    /// Appends events that belong together in one commit: all are stored or none.
    pub fn append_batch(&self, drafts: Vec<EventDraft>) -> Result<Vec<StoredEvent>, NodeError> {
        if let Some(replicated) = self.replicated(|| append_command(drafts.clone())) {
            return replicated;
        }
        Ok(self.chain.append_batch(drafts)?)
    }

    /// The knowledge graph of this repository, opened for writing (its cache is locked
    /// while the handle lives).
    pub fn graph(&self) -> Result<KnowledgeGraph, NodeError> {
        Ok(open_graph(&self.layout, &self.config)?)
    }
}

/// The cluster command appending `drafts` as they are.
fn append_command(drafts: Vec<EventDraft>) -> Result<weft_consensus::Command, NodeError> {
    Ok(weft_consensus::Command::Append(
        drafts
            .into_iter()
            .map(|d| weft_consensus::Draft {
                payload: weft_kernel::cbor::encode(&d.payload),
                source: d.source,
                kind: d.kind,
            })
            .collect(),
    ))
}

fn no_event() -> NodeError {
    NodeError::Daemon("the cluster applied the request but reported no event".into())
}

/// Refuses a source that belongs to one of weft's subsystems for a user's event.
pub fn check_user_source(source: &str) -> Result<(), NodeError> {
    if weft_kernel::event::is_reserved(source) {
        return Err(NodeError::Input(format!(
            "source `{source}` is reserved: weft's own subsystem writes those events (through `weft {source} …` or the command that owns them); use a source of your own, e.g. `ci` or `deploy`"
        )));
    }
    Ok(())
}

/// The knowledge graph of the repository at `layout`, opened for writing.
pub fn open_graph(layout: &Layout, config: &WeaveConfig) -> Result<KnowledgeGraph, GraphError> {
    let graph_config = config.graph_config();
    KnowledgeGraph::open(&layout.root, &layout.graph(), &graph_config)
}

/// A read-only view of the knowledge graph of the repository at `layout` (another
/// node's, whose daemon may hold it).
pub fn view_graph(layout: &Layout, config: &WeaveConfig) -> KnowledgeGraph {
    let graph_config = config.graph_config();
    KnowledgeGraph::view(&layout.root, &layout.graph(), &graph_config)
}

/// Adds a reference finding the node made (what the chain names no longer holds).
fn reference_failure(report: &mut VerifyReport, seq: u64, detail: String) {
    report.failure_count += 1;
    report.failures.push(weft_kernel::verify::Failure {
        seq,
        kind: weft_kernel::verify::FailureKind::Reference,
        detail,
    });
}

/// Artifact re-hash results.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct ArtifactCheck {
    /// Files present and matching.
    pub matched: u64,
    /// Files present and different.
    pub mismatched: u64,
    /// Witnesses whose file is absent or has no recorded path.
    pub unchecked: u64,
}

/// Chain verification plus artifact checks.
#[derive(Debug, Clone, serde::Serialize)]
pub struct NodeVerify {
    /// The chain's own verification.
    pub chain: VerifyReport,
    /// Artifacts.
    pub artifacts: ArtifactCheck,
    /// References to other chains, checked against the chains this node can read.
    pub references: crate::replicas::ReferenceCheck,
}

#[cfg(test)]
mod tests {
    use super::*;
    use weft_kernel::gate::{Decision, Effect};

    /// The decision an open node's gate takes on a release with risk 0.5.
    fn release_decision(node: &Node) -> Decision {
        let gate = node.gate().expect("gate");
        let effect = Effect::parse("risk=0.5", gate.rules().dimensions()).expect("effect");
        gate.rules()
            .evaluate("release.publish", None, &effect)
            .decision
    }

    #[test]
    fn the_gate_follows_weave_toml_while_the_node_stays_open() {
        let dir = tempfile::tempdir().expect("tmp");
        git2::Repository::init(dir.path()).expect("git init");
        crate::init::init(dir.path()).expect("weft init");
        // Opened once, as the daemon opens it: later checks must see the file as it is.
        let node = Node::open(dir.path(), OpenMode::Checked).expect("open");
        assert_eq!(release_decision(&node), Decision::Warn);
        let file = node.layout().config();
        let original = std::fs::read_to_string(&file).expect("read");
        let stricter = original.replace("threshold = 0.8", "threshold = 0.4");
        assert_ne!(stricter, original, "the initial file names the threshold");
        std::fs::write(&file, &stricter).expect("write");
        assert_eq!(release_decision(&node), Decision::Deny);
        assert_eq!(
            node.current_config().expect("config").governance.threshold,
            0.4
        );
        // What the node was opened with is unchanged; the rules are the file's.
        assert_eq!(node.config().governance.threshold, 0.8);
        // A file that no longer parses stops the gate instead of keeping older rules.
        std::fs::write(&file, "[governance]\nthreshhold = 0.9\n").expect("write");
        assert!(matches!(node.gate(), Err(NodeError::Config(_))));
        std::fs::write(&file, &original).expect("write");
        assert_eq!(release_decision(&node), Decision::Warn);
    }
}
