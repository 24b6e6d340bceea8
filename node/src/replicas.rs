//! Other chains a node can read, by chain id: the replicas its daemon keeps in
//! `.weftos/peers/`, and the chains of peers with a local path. `chain verify` checks the
//! references its witness and lineage events make to other chains against them.
//!
//! Every store is opened as a view (a RocksDB secondary instance), so a running daemon
//! here or there is no obstacle, and nothing is written.

use crate::config::WeaveConfig;
use crate::layout::{root_of, Layout};
use crate::NodeError;
use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use weft_kernel::event::ChainId;
use weft_kernel::store::cf;
use weft_kernel::witness::EventRef;
use weft_kernel::{Chain, Store};

/// What checking references to other chains found.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct ReferenceCheck {
    /// References whose event a readable chain holds with the hash named.
    pub matched: u64,
    /// References naming another hash than the chain holds at that sequence.
    pub mismatched: u64,
    /// References to a chain this node cannot read, or past what it holds.
    pub unchecked: u64,
}

/// One reference that does not hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mismatch {
    /// The referring event on this chain.
    pub seq: u64,
    /// What it names.
    pub target: EventRef,
    /// What the other chain holds there.
    pub held: weft_kernel::Hash,
}

/// The chain whose store is `dir`, as a view beside whatever process owns it.
pub fn view_chain(dir: &Path) -> Result<Chain, NodeError> {
    let store = Store::open_view(dir, &cf::CHAIN)?;
    Ok(Chain::open_unchecked(Arc::new(store), None)?)
}

/// The readable chains other than the node's own, by chain id.
pub fn readable_chains(layout: &Layout, config: &WeaveConfig) -> HashMap<ChainId, Chain> {
    let mut dirs = Vec::new();
    if let Ok(entries) = std::fs::read_dir(layout.peers()) {
        dirs.extend(entries.flatten().map(|e| e.path()));
    }
    for peer in &config.coordination.peers {
        if let Some(path) = &peer.path {
            dirs.push(Layout::new(root_of(&layout.root.join(path))).chain());
        }
    }
    let mut chains = HashMap::new();
    for dir in dirs {
        // A store that does not open is not readable: its references stay unchecked.
        let Ok(chain) = view_chain(&dir) else {
            continue;
        };
        if let Some(genesis) = chain.genesis() {
            chains.entry(genesis.chain_id).or_insert(chain);
        }
    }
    chains
}

/// Checks references `(referring seq, target)` against `chains`.
pub fn check_references(
    refs: &[(u64, EventRef)],
    chains: &HashMap<ChainId, Chain>,
) -> (ReferenceCheck, Vec<Mismatch>) {
    let mut check = ReferenceCheck::default();
    let mut mismatches = Vec::new();
    for (seq, target) in refs {
        let held = chains
            .get(&target.chain_id)
            .and_then(|chain| chain.stored_hash(target.seq).ok().flatten());
        match held {
            Some(hash) if hash == target.hash => check.matched += 1,
            Some(hash) => {
                check.mismatched += 1;
                mismatches.push(Mismatch {
                    seq: *seq,
                    target: target.clone(),
                    held: hash,
                });
            }
            None => check.unchecked += 1,
        }
    }
    (check, mismatches)
}
