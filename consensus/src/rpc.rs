//! The calls members make of each other over `/weft/raft/1`, and their answers: Raft's own
//! messages, and the cluster's (a proposal forwarded to the leader, a read-index check, a
//! request to join).

use crate::state_machine::Manifest;
use crate::types::{Member, NodeId, Replies, Request, TypeConfig};
use openraft::alias::{SnapshotMetaOf, VoteOf};
use openraft::raft::{
    AppendEntriesRequest, AppendEntriesResponse, SnapshotResponse, VoteRequest, VoteResponse,
};
use serde::{Deserialize, Serialize};

/// A call.
#[derive(Debug, Serialize, Deserialize)]
pub enum Call {
    /// Raft: replicate entries (or a heartbeat).
    AppendEntries(AppendEntriesRequest<TypeConfig>),
    /// Raft: a vote.
    Vote(VoteRequest<TypeConfig>),
    /// Raft: a pre-vote (would the callee vote, without disturbing its term).
    PreVote(VoteRequest<TypeConfig>),
    /// Raft: install this snapshot (its manifest; the events come by range sync).
    Snapshot(Box<SnapshotCall>),
    /// Clients' requests forwarded to the leader.
    Propose(Vec<Request>),
    /// The log id a linearizable read must wait for (the leader's read index).
    ReadIndex,
    /// A node asks to join: added as a learner, then promoted to voter.
    Join {
        /// The id it takes.
        id: NodeId,
        /// How to reach it and its key.
        member: Member,
        /// The join token the cluster's founder handed out.
        token: String,
    },
    /// Remove a member (itself, or another by name).
    Remove {
        /// The member's id.
        id: NodeId,
    },
}

/// A snapshot to install.
#[derive(Debug, Serialize, Deserialize)]
pub struct SnapshotCall {
    /// The leader's vote.
    pub vote: VoteOf<TypeConfig>,
    /// The snapshot's metadata.
    pub meta: SnapshotMetaOf<TypeConfig>,
    /// The manifest.
    pub manifest: Manifest,
}

/// An answer.
#[derive(Debug, Serialize, Deserialize)]
pub enum Answer {
    /// To [`Call::AppendEntries`].
    AppendEntries(AppendEntriesResponse<TypeConfig>),
    /// To [`Call::Vote`] and [`Call::PreVote`].
    Vote(VoteResponse<TypeConfig>),
    /// To [`Call::Snapshot`].
    Snapshot(SnapshotResponse<TypeConfig>),
    /// To [`Call::Propose`]: one reply per request.
    Proposed(Replies),
    /// To [`Call::ReadIndex`]: the log index to have applied.
    ReadIndex(Option<u64>),
    /// To [`Call::Join`] and [`Call::Remove`]: done.
    Done,
    /// The callee is not the leader; this is the one it knows of.
    NotLeader {
        /// The leader, when known.
        leader: Option<(NodeId, Member)>,
    },
    /// The call failed, and why.
    Failed(String),
}

/// Encodes a call or an answer.
pub fn encode<T: Serialize>(value: &T) -> Result<Vec<u8>, String> {
    crate::codec::encode(value).map_err(|e| e.to_string())
}

/// Decodes a call or an answer; `what` names it in the error.
pub fn decode<T: serde::de::DeserializeOwned>(bytes: &[u8], what: &str) -> Result<T, String> {
    crate::codec::decode(bytes, what).map_err(|e| e.to_string())
}
