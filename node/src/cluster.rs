//! Becoming a cluster member: forming a cluster of one (`weft cluster init`) and
//! preparing a fresh clone to join one (`weft cluster join`). Both write the membership
//! file ([`crate::membership`]); the daemon reads it when it starts and runs the Raft node.

use crate::engine::Node;
use crate::layout::Layout;
use crate::membership::{
    check_advertise, load, member_id, save, token_chain, Membership, Pending, MEMBERSHIP_FILE,
};
use crate::NodeError;
use serde::Serialize;
use std::path::Path;
use weft_kernel::cluster::{signer_draft, Member, FORMED};
use weft_kernel::Store;

/// What forming a cluster did.
#[derive(Debug, Clone, Serialize)]
pub struct Formed {
    /// This member's id.
    pub id: u64,
    /// Its name.
    pub name: String,
    /// The chain id.
    pub chain_id: String,
    /// The token others join with.
    pub token: String,
    /// Where `cluster.formed` went.
    pub seq: u64,
}

/// `weft cluster init`: records `cluster.formed` listing this node alone (signed by the
/// genesis key while it is still the only signer) and writes the membership file; the
/// daemon forms the Raft cluster of one when it starts.
pub fn form(node: &Node, name: Option<&str>, advertise: Option<&str>) -> Result<Formed, NodeError> {
    advertise.map(check_advertise).transpose()?;
    if load(node.layout())?.is_some() || node.chain().is_clustered() {
        return Err(NodeError::Input(
            "this node is already a cluster member (`weft cluster status`)".into(),
        ));
    }
    let key = node.key()?;
    let genesis = node
        .chain()
        .genesis()
        .ok_or(weft_kernel::ChainError::Empty)?;
    if genesis.public_key != key.public_key() {
        return Err(NodeError::Input(
            "only the chain's own key may form its cluster".into(),
        ));
    }
    let id = member_id(key);
    let name = name
        .map(str::to_string)
        .unwrap_or_else(|| default_name(node.layout()));
    let me = Member {
        id,
        name: name.clone(),
        public_key: key.public_key(),
    };
    let draft = signer_draft(
        &genesis.chain_id,
        &node.chain().signers(),
        FORMED,
        &[me],
        key,
    )
    .map_err(|e| NodeError::Input(e.to_string()))?;
    let mut secret = [0u8; 16];
    getrandom::fill(&mut secret).map_err(|e| NodeError::Daemon(format!("randomness: {e}")))?;
    let chain_id = genesis.chain_id.to_hex();
    let token = format!("{chain_id}:{}", hex::encode(secret));
    // The file first: a crash between the two leaves a member that forms at start, never
    // a clustered chain no daemon knows to run.
    save(
        node.layout(),
        &Membership {
            id,
            name: name.clone(),
            chain_id: chain_id.clone(),
            token: Some(token.clone()),
            advertise: advertise.map(str::to_string),
            pending: Pending::Initialize,
        },
    )?;
    let stored = node.chain().append(draft)?;
    Ok(Formed {
        id,
        name,
        chain_id,
        token,
        seq: stored.event.seq,
    })
}

fn default_name(layout: &Layout) -> String {
    let dir = layout
        .root
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "member".into());
    let host = std::fs::read_to_string("/etc/hostname")
        .map(|h| h.trim().to_string())
        .unwrap_or_default();
    if host.is_empty() {
        dir
    } else {
        format!("{host}-{dir}")
    }
}

/// What preparing to join did.
#[derive(Debug, Clone, Serialize)]
pub struct Prepared {
    /// This member's id.
    pub id: u64,
    /// Its name.
    pub name: String,
    /// The chain it joins.
    pub chain_id: String,
    /// What was created.
    pub created: Vec<String>,
}

/// `weft cluster join`: sets up `.weftos/` with a key of its own and an empty chain store,
/// and a membership file telling the daemon whom to ask. A clone that already holds a
/// chain of its own is refused: a member takes the cluster's chain.
pub fn prepare_join(
    start: &Path,
    addr: &str,
    peer_id: &str,
    token: &str,
    name: Option<&str>,
    advertise: Option<&str>,
) -> Result<Prepared, NodeError> {
    let chain_id = token_chain(token)?;
    advertise.map(check_advertise).transpose()?;
    addr.parse::<weft_net::Multiaddr>()
        .map_err(|e| NodeError::Input(format!("`{addr}` is not a multiaddr: {e}")))?;
    peer_id
        .parse::<weft_net::PeerId>()
        .map_err(|e| NodeError::Input(format!("`{peer_id}` is not a peer id: {e}")))?;
    if let Some(layout) = Layout::discover(start) {
        if let Some(existing) = load(&layout)? {
            return Err(NodeError::Input(format!(
                "this node is already member `{}` of cluster {}",
                existing.name, existing.chain_id
            )));
        }
        if layout.chain().join("CURRENT").exists() {
            return Err(NodeError::Input(format!(
                "{} already holds a chain of its own: a member takes the cluster's chain. Use a fresh clone, or move .weftos/chain away",
                layout.chain().display()
            )));
        }
    }
    let scaffold = crate::init::scaffold(start)?;
    let layout = scaffold.layout;
    let mut created = scaffold.created;
    Store::create(&layout.chain())?;
    created.push(".weftos/chain (empty: the cluster fills it)".into());
    let id = member_id(&scaffold.key);
    let name = name
        .map(str::to_string)
        .unwrap_or_else(|| default_name(&layout));
    save(
        &layout,
        &Membership {
            id,
            name: name.clone(),
            chain_id: hex::encode(chain_id),
            token: None,
            advertise: advertise.map(str::to_string),
            pending: Pending::Join {
                addr: addr.to_string(),
                peer_id: peer_id.to_string(),
                token: token.to_string(),
            },
        },
    )?;
    created.push(format!(".weftos/{MEMBERSHIP_FILE}"));
    Ok(Prepared {
        id,
        name,
        chain_id: hex::encode(chain_id),
        created,
    })
}
