//! `/weft/raft/1`: a Raft cluster's members calling each other (append entries, votes,
//! snapshots, proposals forwarded to the leader, read-index checks). The mesh carries
//! opaque CBOR bodies tagged with the cluster's chain id; what they mean, and whether the
//! caller is a member, is the consensus crate's business. Here are the envelope, its
//! limits and the service trait.
//!
//! Admission is its own: the sync protocol's small per-peer cap would refuse heartbeats
//! queued behind a snapshot transfer, so cluster calls have a larger one, and a refusal
//! for being busy is an answer (the Raft layer retries), never a strike.

use futures::future::BoxFuture;
use libp2p::PeerId;
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// The protocol's name.
pub const CLUSTER_PROTOCOL: &str = "/weft/raft/1";
/// Largest request accepted on the wire: a batch of log entries (the consensus crate
/// bounds how many entries, and how large a proposal, it sends at once).
pub const CLUSTER_REQUEST_LIMIT: u64 = 32 * 1024 * 1024;
/// Largest response accepted on the wire.
pub const CLUSTER_RESPONSE_LIMIT: u64 = 8 * 1024 * 1024;
/// Longest any call may take on the wire; each call also carries its own, shorter,
/// deadline from the caller.
pub const CLUSTER_TIMEOUT: Duration = Duration::from_secs(30);
/// Calls of one peer handled at once; more are refused as busy.
pub const MAX_CLUSTER_PER_PEER: usize = 64;
/// Calls handled at once for all peers together.
pub const MAX_CLUSTER_TOTAL: usize = 256;

/// A call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClusterRequest {
    /// The chain whose cluster this is for: a member of two clusters never confuses
    /// their calls, and a stray caller is refused before anything decodes its body.
    #[serde(with = "serde_bytes")]
    pub chain_id: Vec<u8>,
    /// The call (CBOR of the consensus crate's type).
    #[serde(with = "serde_bytes")]
    pub body: Vec<u8>,
}

/// The answer to a [`ClusterRequest`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ClusterResponse {
    /// The answer (CBOR of the consensus crate's type).
    Answer {
        /// The body.
        #[serde(with = "serde_bytes")]
        body: Vec<u8>,
    },
    /// Not handled, and why (not a member, another chain, no cluster here, busy).
    Refused {
        /// Why.
        reason: String,
    },
}

impl ClusterRequest {
    /// Encodes for the known-answer vectors and for tests (the mesh's codec does the
    /// same on the wire).
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        ciborium::into_writer(self, &mut out).expect("CBOR encoding into a Vec cannot fail");
        out
    }
}

/// Handles calls from other members (the daemon's Raft node implements it).
pub trait ClusterService: Send + Sync + 'static {
    /// The answer to `request` from `peer`. Runs as its own task: it may wait on the
    /// Raft core (a vote, an append to the log).
    fn handle(&self, peer: PeerId, request: ClusterRequest) -> BoxFuture<'static, ClusterResponse>;
}

/// A service that is in no cluster: for nodes that are not members.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoCluster;

impl ClusterService for NoCluster {
    fn handle(
        &self,
        _peer: PeerId,
        _request: ClusterRequest,
    ) -> BoxFuture<'static, ClusterResponse> {
        Box::pin(async {
            ClusterResponse::Refused {
                reason: "this node is in no cluster".into(),
            }
        })
    }
}
