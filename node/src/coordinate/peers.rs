//! PEERS: reaching a linked peer for coordination. A peer with a local path is read
//! directly — its repository, and its `.weftos` stores through read-only views that need
//! no lock, so a running daemon there is no obstacle. Any other peer is asked over the
//! mesh through a [`PeerAsker`] (the daemon's is `query::MeshAsker`).

use super::usage::{UsageAnswer, UsageQuery};
use crate::config::{PeerConfig, WeaveConfig};
use crate::layout::Layout;
use crate::{Node, NodeError};
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

/// Why a peer without a local path cannot be asked outside a daemon.
pub const NO_DAEMON: &str = "it has no local path, and no daemon runs here to ask it over the mesh: start one with `weft node start`";

/// The asker outside a daemon: there is no mesh to ask through.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoMesh;

impl PeerAsker for NoMesh {
    fn ask(&self, _peer: &PeerConfig, _query: &UsageQuery) -> Result<UsageAnswer, String> {
        Err(NO_DAEMON.into())
    }
}

/// The repository root of a peer with a local path (given as the repository or its
/// `.weftos/`; relative paths are relative to this repository).
pub fn local_root(node: &Node, spec: &PeerConfig) -> Option<PathBuf> {
    local_root_from(&node.layout().root, spec)
}

/// [`local_root`] for the repository at `repo`.
pub fn local_root_from(repo: &Path, spec: &PeerConfig) -> Option<PathBuf> {
    let path = Path::new(spec.path.as_deref()?);
    let path = repo.join(path);
    Some(if path.file_name().is_some_and(|n| n == ".weftos") {
        path.parent().map_or(path.clone(), Path::to_path_buf)
    } else {
        path
    })
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
        Some(root) => ("path", crate::query::usage_at(&root, query)),
        None => ("mesh", remote.ask(spec, query)),
    }
}

/// Opens the chain of the node at `root` read-only (its daemon may be running).
pub fn open_chain(root: &Path) -> Result<Chain, String> {
    open_chain_store(&Layout::new(root).chain()).map_err(|e| e.to_string())
}

/// Opens the chain store in `dir` read-only.
fn open_chain_store(dir: &Path) -> Result<Chain, NodeError> {
    let store = Store::open_read_only(dir, &cf::ALL)?;
    Ok(Chain::open_unchecked(Arc::new(store), None)?)
}

/// The chain's latest signed head, if its signature verifies.
pub fn verified_head(chain: &Chain) -> Option<SignedHead> {
    chain
        .latest_signed_head()
        .filter(|h| h.verify_signature().is_ok())
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
    open_chain_store(&dir).map_err(|_| {
        format!(
            "no replica of `{}` yet: a running daemon (`weft node start`) replicates it once connected",
            spec.name
        )
    })
}

/// The verified head `coordinate link` witnesses: a local peer's own (checked against
/// its configured key), else its replica's.
pub fn link_head(node: &Node, spec: &PeerConfig) -> Result<SignedHead, String> {
    match local_root(node, spec) {
        Some(root) => local_head(&root, spec),
        None => verified_head(&peer_chain(node, spec)?)
            .ok_or_else(|| "no verified head of it is replicated yet".into()),
    }
}

/// Witnesses a newly linked peer's head on this chain (note `link NAME`); returns the
/// witness event's sequence and the head's.
pub fn witness_link(node: &Node, spec: &PeerConfig) -> Result<(u64, u64), String> {
    let head = link_head(node, spec)?;
    let note = format!("link {}", spec.name);
    let draft =
        weft_kernel::witness::witness_head(&head, None, Some(&note)).map_err(|e| e.to_string())?;
    let stored = node.chain().append(draft).map_err(|e| e.to_string())?;
    Ok((stored.event.seq, head.seq))
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
