//! Fault injection for the testnet's scenarios (`weft testnet equivocate|flood|
//! crash-mesh`): a node that signs a second history, a node that floods the mesh with
//! garbage, a node whose mesh task dies. They act through the running daemon's own
//! mesh, as a misbehaving or failing node would.

use super::Daemon;
use crate::NodeError;
use std::time::{Duration, Instant};
use weft_kernel::head::SignedHead;
use weft_kernel::Hash;
use weft_net::wire::Topic;

/// What an equivocation sent.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Equivocated {
    /// The sequence both heads name.
    pub seq: u64,
    /// The true head's event hash (hex).
    pub honest: String,
    /// The forged head's event hash (hex).
    pub forged: String,
}

impl Daemon {
    /// Refuses fault injection on a node `weft testnet node` did not create: a real
    /// node's key must never sign a second history, nor its mesh send garbage.
    fn require_testnet(&self) -> Result<(), NodeError> {
        if self.node.layout().testnet_mark().exists() {
            return Ok(());
        }
        Err(NodeError::Input(
            "fault injection works only on nodes `weft testnet node` created: this node's key is its own, and it must never sign a second history or send garbage".into(),
        ))
    }

    fn publish_now(&self, topic: Topic, data: Vec<u8>) -> Result<(), NodeError> {
        let (mesh, runtime) = self
            .mesh
            .get()
            .ok_or_else(|| NodeError::Daemon("the daemon has not joined the mesh yet".into()))?;
        runtime
            .block_on(mesh.publish(topic, data))
            .map_err(|e| NodeError::Daemon(e.to_string()))
    }

    /// Announces the true head, then a second head signed by the same key for the same
    /// sequence and another history: what every honest node must flag.
    pub fn equivocate(&self) -> Result<Equivocated, NodeError> {
        self.require_testnet()?;
        let honest = self
            .node
            .chain()
            .latest_signed_head()
            .ok_or(weft_kernel::ChainError::Empty)?;
        let mut other = honest.head_hash.0;
        other[0] ^= 0xff;
        let forged = SignedHead::sign(
            self.node.key()?,
            honest.chain_id,
            honest.seq,
            Hash(other),
            Hash(weft_kernel::hash::shake256(&other).0),
            weft_kernel::chain::now_ns(),
        );
        self.publish_now(Topic::Heads, honest.encode())?;
        self.publish_now(Topic::Heads, forged.encode())?;
        Ok(Equivocated {
            seq: honest.seq,
            honest: honest.head_hash.to_hex(),
            forged: forged.head_hash.to_hex(),
        })
    }

    /// Publishes distinct undecodable messages on the heads topic, at most `count` and
    /// for at most `limit`; returns how many went out.
    pub fn flood(&self, count: u64, limit: Duration) -> Result<u64, NodeError> {
        self.require_testnet()?;
        let started = Instant::now();
        let mut sent = 0;
        while sent < count && started.elapsed() < limit {
            let mut junk = vec![0xff; 64];
            junk.extend_from_slice(&sent.to_be_bytes());
            if self.publish_now(Topic::Heads, junk).is_ok() {
                sent += 1;
            }
            std::thread::sleep(Duration::from_millis(2));
        }
        Ok(sent)
    }

    /// Makes the mesh's task panic; the daemon must then stop and log why.
    pub fn crash_mesh(&self) -> Result<(), NodeError> {
        self.require_testnet()?;
        let (mesh, _) = self
            .mesh
            .get()
            .ok_or_else(|| NodeError::Daemon("the daemon has not joined the mesh yet".into()))?;
        if !mesh.inject_panic() {
            return Err(NodeError::Daemon("the mesh's queue is full".into()));
        }
        Ok(())
    }
}
