//! The membership file `.weftos/cluster.json`: whether this node is (or is becoming) a
//! member of its project's Raft cluster, its id and name, and what its daemon still has
//! to do when it starts (form the cluster, or ask a member to add it).
//!
//! A join token is `CHAIN_ID:SECRET` (hex): the chain id tells the newcomer which chain it
//! is joining before it holds any of it, and the secret, which only the founder keeps,
//! is what the founder checks before adding anyone.

use crate::layout::Layout;
use crate::NodeError;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use weft_kernel::keys::NodeKey;

/// The membership file, in `.weftos/`.
pub const MEMBERSHIP_FILE: &str = "cluster.json";

/// What the membership file says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Membership {
    /// This member's Raft node id.
    pub id: u64,
    /// Its name.
    pub name: String,
    /// The cluster's chain (hex).
    pub chain_id: String,
    /// The join token, on the member that formed the cluster.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    /// The address other members dial this one at, when its listen address is not
    /// one they can reach (a container's `0.0.0.0`, a NAT): `--advertise`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub advertise: Option<String>,
    /// What the daemon still has to do when it starts.
    pub pending: Pending,
}

/// Checks an `--advertise` address: a multiaddr, not an unspecified one.
pub fn check_advertise(addr: &str) -> Result<(), NodeError> {
    let parsed = addr
        .parse::<weft_net::Multiaddr>()
        .map_err(|e| NodeError::Input(format!("--advertise `{addr}` is not a multiaddr: {e}")))?;
    if addr.contains("/0.0.0.0/") || addr.contains("/::/") || parsed.is_empty() {
        return Err(NodeError::Input(format!(
            "--advertise `{addr}`: give an address the other members can dial, not an unspecified one"
        )));
    }
    Ok(())
}

/// A step the daemon takes when it starts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Pending {
    /// Nothing: the member is in its cluster.
    None,
    /// Form the cluster of one.
    Initialize,
    /// Ask `peer_id` at `addr` to add this member.
    Join {
        /// The member to ask.
        addr: String,
        /// Its peer id.
        peer_id: String,
        /// The join token.
        token: String,
    },
}

fn file(layout: &Layout) -> PathBuf {
    layout.weftos().join(MEMBERSHIP_FILE)
}

/// The membership file, if this node is (or is becoming) a member.
pub fn load(layout: &Layout) -> Result<Option<Membership>, NodeError> {
    let path = file(layout);
    let text = match std::fs::read(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(NodeError::io(&path, e)),
    };
    serde_json::from_slice(&text).map(Some).map_err(|e| {
        NodeError::Input(format!(
            "{}: not a membership file ({e}); it was written by `weft cluster init` or `join`",
            path.display()
        ))
    })
}

/// Writes the membership file (atomically).
pub fn save(layout: &Layout, membership: &Membership) -> Result<(), NodeError> {
    crate::identity::write_json_atomically(&file(layout), membership)
}

/// The Raft node id of the member with `key`: from its key, so ids never collide by
/// accident and a member keeps its id across restarts.
pub fn member_id(key: &NodeKey) -> u64 {
    let hash = weft_kernel::hash::domain_hash("weft/cluster/node-id/v1", &[&key.public_key()]);
    let mut id = [0u8; 8];
    id.copy_from_slice(&hash.0[..8]);
    u64::from_be_bytes(id)
}

/// The chain id a join token names.
pub fn token_chain(token: &str) -> Result<[u8; 16], NodeError> {
    let bad = || {
        NodeError::Input(
            "a join token is CHAIN_ID:SECRET, as `weft cluster init` printed it".into(),
        )
    };
    let (chain, secret) = token.split_once(':').ok_or_else(bad)?;
    if secret.len() < 32 {
        return Err(bad());
    }
    hex::decode(chain)
        .ok()
        .and_then(|b| <[u8; 16]>::try_from(b).ok())
        .ok_or_else(bad)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_name_their_chain_and_carry_a_secret() {
        let token = format!("{}:{}", "ab".repeat(16), "cd".repeat(16));
        assert_eq!(token_chain(&token).expect("token"), [0xab; 16]);
        for bad in [
            "",
            "abc",
            &format!("{}:short", "ab".repeat(16)),
            &format!("zz:{}", "cd".repeat(16)),
        ] {
            assert!(token_chain(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn member_ids_come_from_keys() {
        let a = NodeKey::from_seed(&[1; 32]);
        let b = NodeKey::from_seed(&[2; 32]);
        assert_eq!(member_id(&a), member_id(&a));
        assert_ne!(member_id(&a), member_id(&b));
    }
}
