//! PEERS: reaching a linked peer for coordination. A peer with a local path is read
//! directly — its repository, and its `.weftos` stores through read-only views that need
//! no lock, so a running daemon there is no obstacle. Any other peer is asked over the
//! mesh through a [`PeerAsker`] that the daemon provides.

use super::usage::{self, UsageAnswer, UsageQuery};
use crate::config::{PeerConfig, WeaveConfig};
use crate::graph::scan::ScanOptions;
use crate::graph::store::GraphStore;
use crate::graph::GRAPH_DIR;
use crate::layout::Layout;
use crate::Node;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use weft_kernel::head::SignedHead;
use weft_kernel::store::cf;
use weft_kernel::{Chain, Store};

/// Asks a peer without a local path over the mesh.
pub trait PeerAsker {
    /// Answers `query` for `peer`, or says why it could not.
    fn ask(&self, peer: &PeerConfig, query: &UsageQuery) -> Result<UsageAnswer, String>;
}

/// The asker outside a daemon: there is no mesh to ask through.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoMesh;

impl PeerAsker for NoMesh {
    fn ask(&self, _peer: &PeerConfig, _query: &UsageQuery) -> Result<UsageAnswer, String> {
        Err("it has no local path, and no daemon runs here to ask it over the mesh: start one with `weft node start`".into())
    }
}

/// The repository root of a peer with a local path (given as the repository or its
/// `.weftos/`; relative paths are relative to this repository).
pub fn local_root(node: &Node, spec: &PeerConfig) -> Option<PathBuf> {
    let path = Path::new(spec.path.as_deref()?);
    let path = node.layout().root.join(path);
    Some(if path.file_name().is_some_and(|n| n == ".weftos") {
        path.parent().map_or(path.clone(), Path::to_path_buf)
    } else {
        path
    })
}

/// Scan options from a peer's `[analysis]`.
pub fn scan_options(config: &WeaveConfig) -> ScanOptions {
    ScanOptions {
        languages: config.analysis.languages.clone(),
        ignore: config.analysis.ignore.clone(),
    }
}

/// Answers a usage query on a local repository, reading its graph cache read-only.
pub fn answer_local(root: &Path, query: &UsageQuery) -> Result<UsageAnswer, String> {
    if !root.join(".weftos").is_dir() {
        return Err(format!(
            "{} is not a weft node: run `weft init` there",
            root.display()
        ));
    }
    let config = WeaveConfig::load(root).map_err(|e| e.to_string())?;
    let view = GraphStore::view(&Layout::new(root).weftos().join(GRAPH_DIR));
    usage::answer(root, &view, &scan_options(&config), query).map_err(|e| e.to_string())
}

/// Asks one peer: directly when it has a local path, else through `remote`. Returns how
/// it was reached (`path` or `mesh`) and the answer.
pub fn ask(
    node: &Node,
    spec: &PeerConfig,
    query: &UsageQuery,
    remote: &dyn PeerAsker,
) -> (&'static str, Result<UsageAnswer, String>) {
    match local_root(node, spec) {
        Some(root) => ("path", answer_local(&root, query)),
        None => ("mesh", remote.ask(spec, query)),
    }
}

/// Opens the chain of the node at `root` read-only (its daemon may be running).
pub fn open_chain(root: &Path) -> Result<Chain, String> {
    let layout = Layout::new(root);
    let store = Store::open_read_only(&layout.chain(), &cf::ALL).map_err(|e| e.to_string())?;
    Chain::open_unchecked(Arc::new(store), None).map_err(|e| e.to_string())
}

/// The verified latest signed head of the chain at `root`, checked against the peer's
/// expected key when the configuration names one.
pub fn local_head(root: &Path, spec: &PeerConfig) -> Result<SignedHead, String> {
    let chain = open_chain(root)?;
    let head = chain
        .latest_signed_head()
        .ok_or_else(|| format!("{}: the chain has no signed head", root.display()))?;
    head.verify_signature()
        .map_err(|e| format!("{}: latest head does not verify: {e}", root.display()))?;
    if let Some(expected) = &spec.peer_id {
        let actual = weft_net::identity::peer_id(&head.signer).map(|p| p.to_base58());
        if actual.as_deref() != Some(expected.as_str()) {
            return Err(format!(
                "{}: its chain is signed by {} but the configuration expects {expected}",
                root.display(),
                actual.unwrap_or_else(|| "an unreadable key".into())
            ));
        }
    }
    Ok(head)
}

/// A peer's chain as this node can read it: the repository's own chain for a local-path
/// peer, else the verified replica the daemon keeps in `.weftos/peers/<name>/` (both
/// opened read-only).
pub fn peer_chain(node: &Node, spec: &PeerConfig) -> Result<Chain, String> {
    if let Some(root) = local_root(node, spec) {
        return open_chain(&root);
    }
    let dir = node
        .layout()
        .weftos()
        .join(crate::daemon::peers::PEERS_DIR)
        .join(&spec.name);
    let store = Store::open_read_only(&dir, &cf::ALL).map_err(|_| {
        format!(
            "no replica of `{}` yet: a running daemon (`weft node start`) replicates it once connected",
            spec.name
        )
    })?;
    Chain::open_unchecked(Arc::new(store), None).map_err(|e| e.to_string())
}

/// The linked peer called `name`.
pub fn linked<'c>(config: &'c WeaveConfig, name: &str) -> Result<&'c PeerConfig, String> {
    config
        .coordination
        .peers
        .iter()
        .find(|p| p.name == name)
        .ok_or_else(|| {
            format!("no linked peer named `{name}`: `weft peers` lists them; `weft coordinate link` adds one")
        })
}
