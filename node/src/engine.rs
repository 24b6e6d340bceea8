//! The node engine: one repository's chain, tree and gate, opened once and shared by
//! every command (and, later, the daemon).

use crate::layout::Layout;
use crate::{NodeError, WeaveConfig};
use std::path::Path;
use std::sync::Arc;
use weft_kernel::gate::{Gate, RuleSet};
use weft_kernel::keys::{KeyError, NodeKey, NODE_KEY_FILE};
use weft_kernel::tree::Tree;
use weft_kernel::verify::VerifyReport;
use weft_kernel::witness;
use weft_kernel::{Chain, Hash, Store};

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
    chain: Chain,
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
        let config = WeaveConfig::load(&layout.root)?;
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
            chain,
        })
    }

    /// Paths.
    pub fn layout(&self) -> &Layout {
        &self.layout
    }

    /// Configuration.
    pub fn config(&self) -> &WeaveConfig {
        &self.config
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

    /// The configured rule set.
    pub fn rule_set(&self) -> Result<RuleSet, NodeError> {
        self.config
            .rule_set()
            .map_err(|e| NodeError::Input(format!("weave.toml [governance]: {e}")))
    }

    /// The gate with the configured rules.
    pub fn gate(&self) -> Result<Gate<'_>, NodeError> {
        Ok(Gate::new(&self.chain, self.rule_set()?))
    }

    /// Full verification, plus re-hashing of witnessed artifacts still present in the
    /// repository (a mismatch is a failure; an absent file is only counted).
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
                    report.failure_count += 1;
                    report.failures.push(weft_kernel::verify::Failure {
                        seq: artifact.seq,
                        kind: weft_kernel::verify::FailureKind::Reference,
                        detail: format!(
                            "artifact `{}` at {rel} now hashes to {actual}, the witness names {}",
                            artifact.name, artifact.hash
                        ),
                    });
                }
                Err(_) => artifacts.unchecked += 1,
            }
        }
        Ok(NodeVerify {
            chain: report,
            artifacts,
        })
    }

    /// Repairs the chain and rebuilds the tree from what remains.
    pub fn repair(&self) -> Result<weft_kernel::repair::RepairReport, NodeError> {
        self.key()?;
        let report = weft_kernel::repair::repair(&self.chain, &self.layout.quarantine())?;
        self.tree().rebuild()?;
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
        self.tree().rebuild()?;
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
        Ok(self.chain.append(draft)?)
    }
}

impl Node {
    /// COMMIT: records a written assessment report on the chain (`assess.complete`).
    pub fn record_assessment(
        &self,
        written: &crate::assess::run::WrittenReport,
        report: &crate::assess::report::Report,
    ) -> Result<weft_kernel::StoredEvent, NodeError> {
        use ciborium::value::Value;
        let rel = written
            .path
            .strip_prefix(&self.layout.root)
            .unwrap_or(&written.path)
            .to_string_lossy()
            .into_owned();
        let text = |s: &str| Value::Text(s.into());
        let count = |n: u32| Value::Integer(n.into());
        let mut details = vec![
            (text("scope"), text(&report.scope.kind)),
            (text("files"), count(report.scope.files.len() as u32)),
            (
                text("summary"),
                Value::Map(vec![
                    (text("error"), count(report.summary.error)),
                    (text("warning"), count(report.summary.warning)),
                    (text("note"), count(report.summary.note)),
                ]),
            ),
        ];
        if let Some(commit) = &report.commit {
            details.push((text("commit"), text(commit)));
        }
        let draft = witness::assessment(&written.hash, written.size, &rel, details)
            .map_err(|e| NodeError::Input(e.to_string()))?;
        Ok(self.chain.append(draft)?)
    }
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
}
