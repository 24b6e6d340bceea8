//! Files another node (or `weft peers add --path`) reads from this node's `.weftos/`:
//! `identity.json`, the public identity (written by `weft init` and at daemon start), and
//! `node.json`, the running daemon's pid and addresses (removed when it stops).

use crate::layout::{weftos_of, Layout, IDENTITY_FILE, RUNTIME_FILE};
use crate::NodeError;
use serde::{Deserialize, Serialize};
use std::path::Path;
use weft_kernel::chain::Genesis;
use weft_net::Multiaddr;

/// A node's public identity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Identity {
    /// Project name.
    pub project: String,
    /// Chain id (hex).
    pub chain_id: String,
    /// Ed25519 public key (hex).
    #[serde(with = "hex::serde")]
    pub public_key: [u8; 32],
    /// libp2p peer id (base58).
    pub peer_id: String,
}

/// What a running daemon publishes about itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Runtime {
    /// Its process id.
    pub pid: u32,
    /// Its peer id.
    pub peer_id: String,
    /// Addresses it listens on, each ending in `/p2p/<peer id>`.
    pub listen: Vec<String>,
    /// When it started, ns since the epoch.
    #[serde(with = "weft_kernel::json::time")]
    pub started_ns: u64,
}

impl Runtime {
    /// An address worth dialling: a non-wildcard one, loopback last.
    pub fn dial_addr(&self) -> Option<Multiaddr> {
        let parsed: Vec<Multiaddr> = self.listen.iter().filter_map(|a| a.parse().ok()).collect();
        parsed.into_iter().min_by_key(|a| {
            let text = a.to_string();
            (text.contains("/0.0.0.0/"), text.contains("/127.0.0.1/"))
        })
    }
}

/// Reads the identity of the node at `path`; the error says what to do.
pub fn read_identity(path: &Path) -> Result<Identity, String> {
    let file = weftos_of(path).join(IDENTITY_FILE);
    let text = std::fs::read_to_string(&file).map_err(|e| {
        format!(
            "{}: {e} (is {} a weft repository? run `weft init` there, or `weft node start` once on an older node)",
            file.display(),
            path.display()
        )
    })?;
    serde_json::from_str(&text)
        .map_err(|e| format!("{}: not an identity file: {e}", file.display()))
}

/// Reads the runtime file of the node at `path`, if its daemon is running.
pub fn read_runtime(path: &Path) -> Option<Runtime> {
    let text = std::fs::read_to_string(weftos_of(path).join(RUNTIME_FILE)).ok()?;
    serde_json::from_str(&text).ok()
}

/// Writes `value` as JSON to `file`, atomically.
pub fn write_json_atomically(file: &Path, value: &impl Serialize) -> Result<(), NodeError> {
    let text = serde_json::to_vec_pretty(value).map_err(|e| NodeError::Input(e.to_string()))?;
    weft_kernel::atomic::write_atomically(file, &text).map_err(|e| NodeError::io(file, e))
}

/// Writes the node's `identity.json` unless it already says the same; true when written.
pub fn write_identity(
    layout: &Layout,
    project: &str,
    genesis: &Genesis,
) -> Result<(Identity, bool), NodeError> {
    let peer_id = weft_net::identity::peer_id(&genesis.public_key)
        .ok_or_else(|| NodeError::Daemon("the chain key is not a valid Ed25519 key".into()))?;
    let identity = Identity {
        project: project.to_string(),
        chain_id: genesis.chain_id.to_hex(),
        public_key: genesis.public_key,
        peer_id: peer_id.to_base58(),
    };
    let file = layout.identity();
    let current = std::fs::read_to_string(&file)
        .ok()
        .and_then(|t| serde_json::from_str::<Identity>(&t).ok());
    let changed = current.as_ref() != Some(&identity);
    if changed {
        write_json_atomically(&file, &identity)?;
    }
    Ok((identity, changed))
}
