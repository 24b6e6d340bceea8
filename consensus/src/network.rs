//! Raft's network: every RPC a call over the mesh's `/weft/raft/1`, tagged with the chain
//! id, with the deadline openraft gives it; a member that cannot be reached is reported
//! unreachable (openraft backs off), a busy one as a network error (it retries).

use crate::rpc::{self, Answer, Call};
use crate::state_machine::Manifest;
use crate::types::{Member, NodeId, TypeConfig};
use openraft::alias::{SnapshotOf, VoteOf};
use openraft::error::{NetworkError, RPCError, ReplicationClosed, StreamingError, Unreachable};
use openraft::network::{RPCOption, RaftNetworkFactory};
use openraft::raft::{
    AppendEntriesRequest, AppendEntriesResponse, SnapshotResponse, VoteRequest, VoteResponse,
};
use openraft::RaftNetworkV2;
use std::future::Future;
use std::time::Duration;
use weft_net::cluster::{ClusterRequest, ClusterResponse};
use weft_net::mesh::MeshHandle;
use weft_net::{Multiaddr, PeerId};

/// Makes a client per member.
#[derive(Clone, Debug)]
pub struct Network {
    mesh: MeshHandle,
    chain_id: Vec<u8>,
}

impl Network {
    /// Raft's network over `mesh`, for the cluster of chain `chain_id`.
    pub fn new(mesh: MeshHandle, chain_id: Vec<u8>) -> Network {
        Network { mesh, chain_id }
    }

    /// Calls `member` with `call`, waiting at most `deadline`.
    pub async fn call(
        &self,
        member: &Member,
        call: &Call,
        deadline: Duration,
    ) -> Result<Answer, CallError> {
        let peer: PeerId = member.peer_id.parse().map_err(|e| {
            CallError::Unreachable(format!("member `{}` has a bad peer id: {e}", member.name))
        })?;
        let addr: Option<Multiaddr> = member.addr.parse().ok();
        let body = rpc::encode(call).map_err(CallError::Unreachable)?;
        let request = ClusterRequest {
            chain_id: self.chain_id.clone(),
            body,
        };
        match self.mesh.cluster(peer, addr, request, deadline).await {
            Ok(ClusterResponse::Answer { body }) => {
                rpc::decode(&body, "cluster answer").map_err(CallError::Unreachable)
            }
            Ok(ClusterResponse::Refused { reason }) if reason.starts_with("busy") => {
                Err(CallError::Busy(reason))
            }
            Ok(ClusterResponse::Refused { reason }) => Err(CallError::Unreachable(format!(
                "member `{}` refused: {reason}",
                member.name
            ))),
            Err(e) => Err(CallError::Unreachable(e.to_string())),
        }
    }
}

/// Why a call got no answer.
#[derive(Debug, Clone, thiserror::Error)]
pub enum CallError {
    /// Not reached, timed out, refused, or answered with what does not decode.
    #[error("{0}")]
    Unreachable(String),
    /// Reached but too busy to take it: try again.
    #[error("{0}")]
    Busy(String),
}

impl CallError {
    fn into_rpc<E: std::error::Error>(self) -> RPCError<TypeConfig, E> {
        match self {
            CallError::Unreachable(why) => RPCError::Unreachable(Unreachable::from_string(why)),
            CallError::Busy(why) => RPCError::Network(NetworkError::from_string(why)),
        }
    }
}

/// The client for one member.
pub struct MemberClient {
    network: Network,
    member: Member,
}

impl RaftNetworkFactory<TypeConfig> for Network {
    type Network = MemberClient;

    async fn new_client(&mut self, _target: NodeId, node: &Member) -> MemberClient {
        MemberClient {
            network: self.clone(),
            member: node.clone(),
        }
    }
}

fn unexpected<E: std::error::Error>(answer: Answer) -> RPCError<TypeConfig, E> {
    RPCError::Unreachable(Unreachable::from_string(format!(
        "unexpected answer: {answer:?}"
    )))
}

impl MemberClient {
    async fn call<E: std::error::Error>(
        &self,
        call: Call,
        option: &RPCOption,
    ) -> Result<Answer, RPCError<TypeConfig, E>> {
        self.network
            .call(&self.member, &call, option.soft_ttl())
            .await
            .map_err(CallError::into_rpc)
    }
}

impl RaftNetworkV2<TypeConfig> for MemberClient {
    type SnapshotData = Manifest;

    async fn append_entries(
        &mut self,
        rpc: AppendEntriesRequest<TypeConfig>,
        option: RPCOption,
    ) -> Result<AppendEntriesResponse<TypeConfig>, RPCError<TypeConfig>> {
        match self.call(Call::AppendEntries(rpc), &option).await? {
            Answer::AppendEntries(response) => Ok(response),
            other => Err(unexpected(other)),
        }
    }

    async fn vote(
        &mut self,
        rpc: VoteRequest<TypeConfig>,
        option: RPCOption,
    ) -> Result<VoteResponse<TypeConfig>, RPCError<TypeConfig>> {
        match self.call(Call::Vote(rpc), &option).await? {
            Answer::Vote(response) => Ok(response),
            other => Err(unexpected(other)),
        }
    }

    async fn pre_vote(
        &mut self,
        rpc: VoteRequest<TypeConfig>,
        option: RPCOption,
    ) -> Result<VoteResponse<TypeConfig>, RPCError<TypeConfig>> {
        match self.call(Call::PreVote(rpc), &option).await? {
            Answer::Vote(response) => Ok(response),
            other => Err(unexpected(other)),
        }
    }

    async fn full_snapshot(
        &mut self,
        vote: VoteOf<TypeConfig>,
        snapshot: SnapshotOf<TypeConfig, Manifest>,
        cancel: impl Future<Output = ReplicationClosed> + Send + 'static,
        option: RPCOption,
    ) -> Result<SnapshotResponse<TypeConfig>, StreamingError<TypeConfig>> {
        let call = Call::Snapshot(Box::new(crate::rpc::SnapshotCall {
            vote,
            meta: snapshot.meta,
            manifest: snapshot.snapshot,
        }));
        // Installing fetches the events by range sync: give it the whole hard limit.
        let answer = tokio::select! {
            answer = self.network.call(&self.member, &call, option.hard_ttl()) => answer,
            closed = cancel => return Err(StreamingError::Closed(closed)),
        };
        match answer {
            Ok(Answer::Snapshot(response)) => Ok(response),
            Ok(other) => Err(StreamingError::Unreachable(Unreachable::from_string(
                format!("unexpected answer: {other:?}"),
            ))),
            Err(CallError::Unreachable(why)) => {
                Err(StreamingError::Unreachable(Unreachable::from_string(why)))
            }
            Err(CallError::Busy(why)) => {
                Err(StreamingError::Network(NetworkError::from_string(why)))
            }
        }
    }
}
