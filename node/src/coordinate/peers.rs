//! PEERS: reaching a linked peer for coordination. A peer with a local path is read
//! directly — its repository, and its `.weftos` stores through read-only views that need
//! no lock, so a running daemon there is no obstacle. Any other peer is asked over the
//! mesh through a [`PeerAsker`] (the daemon's is `query::MeshAsker`).

use crate::config::{PeerConfig, WeaveConfig};
use crate::graph::usage::{UsageAnswer, UsageQuery};
use crate::layout::Layout;
use crate::pins::Pins;
use crate::query::{PeerAsker, QueryError};
use crate::{Node, NodeError};
use std::path::{Path, PathBuf};
use weft_kernel::head::SignedHead;
use weft_kernel::Chain;

/// Why a linked peer's chain or head could not be read.
#[derive(Debug, thiserror::Error)]
pub enum PeerError {
    /// No linked peer of that name.
    #[error(
        "no linked peer named `{0}`: `weft peers` lists them; `weft coordinate link` adds one"
    )]
    NotLinked(String),
    /// Its chain store could not be opened.
    #[error("{}: {message}", path.display())]
    Store {
        /// The store's directory.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
    /// A peer without a local path whose chain the daemon has not replicated yet.
    #[error("no replica of `{0}` yet: a running daemon (`weft node start`) replicates it once connected")]
    NoReplica(String),
    /// Its replica holds no head whose signature verifies.
    #[error("no verified head of it is replicated yet")]
    NoVerifiedHead,
    /// Its chain has no signed head.
    #[error("{}: the chain has no signed head", .0.display())]
    NoHead(PathBuf),
    /// Its latest head's signature does not verify.
    #[error("{}: latest head does not verify: {message}", path.display())]
    BadHead {
        /// The peer repository.
        path: PathBuf,
        /// Why.
        message: String,
    },
    /// No key is trusted for it yet (an unconfirmed peer, or one whose key is unknown).
    #[error("no key is trusted for `{0}` yet: `weft peers` shows why (`weft peers trust {0}` accepts the key weave.toml gives)")]
    Untrusted(String),
    /// Its chain is signed by another key than the configured one.
    #[error("{}: its chain is signed by {actual} but the configuration expects {expected}", path.display())]
    WrongKey {
        /// The peer repository.
        path: PathBuf,
        /// The signer's peer id.
        actual: String,
        /// The configured peer id.
        expected: String,
    },
}

impl PeerError {
    /// How it ends a command: a head that fails its checks is a verification failure,
    /// an unknown name bad input, anything else the environment.
    pub fn class(&self) -> crate::ErrorClass {
        use crate::ErrorClass::*;
        match self {
            PeerError::NotLinked(_) => Input,
            PeerError::BadHead { .. } | PeerError::WrongKey { .. } | PeerError::Untrusted(_) => {
                Verification
            }
            PeerError::Store { .. }
            | PeerError::NoReplica(_)
            | PeerError::NoVerifiedHead
            | PeerError::NoHead(_) => Operational,
        }
    }
}

/// The repository root of a peer with a local path (given as the repository or its
/// `.weftos/`; relative paths are relative to this repository).
pub fn local_root(node: &Node, spec: &PeerConfig) -> Option<PathBuf> {
    local_root_from(&node.layout().root, spec)
}

/// [`local_root`] for the repository at `repo`.
pub fn local_root_from(repo: &Path, spec: &PeerConfig) -> Option<PathBuf> {
    Some(crate::layout::root_of(&repo.join(spec.path.as_deref()?)))
}

/// Asks one peer: directly when it has a local path, else through `remote`. Returns how
/// it was reached (`path` or `mesh`) and the answer.
pub fn ask(
    node: &Node,
    spec: &PeerConfig,
    query: &UsageQuery,
    remote: &dyn PeerAsker,
) -> (&'static str, Result<UsageAnswer, QueryError>) {
    match local_root(node, spec) {
        Some(root) => ("path", crate::query::usage_at(&root, query)),
        None => ("mesh", remote.ask(spec, query)),
    }
}

/// Opens the chain of the node at `root` read-only (its daemon may be running).
pub fn open_chain(root: &Path) -> Result<Chain, PeerError> {
    let dir = Layout::new(root).chain();
    crate::replicas::view_chain(&dir).map_err(|e| PeerError::Store {
        path: dir,
        message: e.to_string(),
    })
}

/// The chain's latest signed head, if its signature verifies.
pub fn verified_head(chain: &Chain) -> Option<SignedHead> {
    chain
        .latest_signed_head()
        .filter(|h| h.verify_signature().is_ok())
}

/// The verified latest signed head of the chain at `root`, checked against the peer's
/// expected key when the configuration names one.
pub fn local_head(root: &Path, spec: &PeerConfig) -> Result<SignedHead, PeerError> {
    let chain = open_chain(root)?;
    let head = chain
        .latest_signed_head()
        .ok_or_else(|| PeerError::NoHead(root.to_path_buf()))?;
    head.verify_signature().map_err(|e| PeerError::BadHead {
        path: root.to_path_buf(),
        message: e.to_string(),
    })?;
    if let Some(expected) = spec.peer_id {
        let actual = weft_net::identity::peer_id(&head.signer);
        if actual != Some(expected.peer_id()) {
            return Err(PeerError::WrongKey {
                path: root.to_path_buf(),
                actual: actual.map_or_else(|| "an unreadable key".into(), |p| p.to_base58()),
                expected: expected.to_string(),
            });
        }
    }
    Ok(head)
}

/// A peer's chain as this node can read it: the repository's own chain for a local-path
/// peer, else the verified replica the daemon keeps in `.weftos/peers/<name>/` (both
/// opened read-only).
pub fn peer_chain(node: &Node, spec: &PeerConfig) -> Result<Chain, PeerError> {
    if let Some(root) = local_root(node, spec) {
        return open_chain(&root);
    }
    let dir = node.layout().peer(&spec.name);
    crate::replicas::view_chain(&dir).map_err(|_| PeerError::NoReplica(spec.name.clone()))
}

/// The key this node trusts for a linked peer: the pinned one, or on first use the one
/// the configuration gives — see [`crate::pins`]. Judged, not saved: only the peer book
/// and `weft peers trust` write the pins.
pub fn trusted_key(node: &Node, spec: &PeerConfig, pins: &mut Pins) -> Option<[u8; 32]> {
    let proposed = crate::pins::propose(spec.peer_id, local_root(node, spec).as_deref()).key;
    pins.judge(&spec.name, proposed).key()
}

/// A peer's chain and how far it verified under the key this node trusts for it:
/// nothing after `verified_to` is believed.
pub struct TrustedChain {
    /// The chain, as [`peer_chain`] opens it.
    pub chain: Chain,
    /// The last signed head up to which every hash, link and signature verified.
    pub verified_to: Option<u64>,
}

/// [`peer_chain`], verified in full, whose genesis must carry the key `pins` trust for
/// it: what may unblock a release is read only from here.
pub fn trusted_peer_chain(
    node: &Node,
    spec: &PeerConfig,
    pins: &mut Pins,
) -> Result<TrustedChain, PeerError> {
    let key =
        trusted_key(node, spec, pins).ok_or_else(|| PeerError::Untrusted(spec.name.clone()))?;
    let chain = peer_chain(node, spec)?;
    if let Some(genesis) = chain.genesis() {
        if genesis.public_key != key {
            let id = |k: &[u8; 32]| {
                weft_net::identity::peer_id(k).map_or_else(|| hex::encode(k), |p| p.to_base58())
            };
            return Err(PeerError::WrongKey {
                path: local_root(node, spec).unwrap_or_else(|| node.layout().peer(&spec.name)),
                actual: id(&genesis.public_key),
                expected: id(&key),
            });
        }
    }
    let report =
        weft_kernel::verify::verify(&chain, &mut |_| {}).map_err(|e| PeerError::Store {
            path: chain.store().path().to_path_buf(),
            message: e.to_string(),
        })?;
    Ok(TrustedChain {
        chain,
        verified_to: report.last_good_head,
    })
}

/// The verified head `coordinate link` witnesses: a local peer's own (checked against
/// its configured key), else its replica's.
pub fn link_head(node: &Node, spec: &PeerConfig) -> Result<SignedHead, PeerError> {
    match local_root(node, spec) {
        Some(root) => local_head(&root, spec),
        None => verified_head(&peer_chain(node, spec)?).ok_or(PeerError::NoVerifiedHead),
    }
}

/// Witnesses a newly linked peer's head on this chain (note `link NAME`); returns the
/// witness event's sequence and the head's.
pub fn witness_link(node: &Node, spec: &PeerConfig) -> Result<(u64, u64), NodeError> {
    let head = link_head(node, spec).map_err(|e| super::CoordinateError::from_peer(spec, e))?;
    let note = format!("link {}", spec.name);
    let draft = weft_kernel::witness::witness_head(&head, None, Some(&note))
        .map_err(|e| NodeError::Input(e.to_string()))?;
    let stored = node.append(draft)?;
    Ok((stored.event.seq, head.seq))
}

/// The linked peer called `name`.
pub fn linked<'c>(config: &'c WeaveConfig, name: &str) -> Result<&'c PeerConfig, PeerError> {
    config
        .coordination
        .peers
        .iter()
        .find(|p| p.name == name)
        .ok_or_else(|| PeerError::NotLinked(name.to_string()))
}
