//! Running this node's Raft node inside the daemon, when the membership file says it is a
//! cluster member: starting it over the node's chain and the mesh, taking the pending
//! step (form the cluster, or ask a member to add this one), attaching it as the node's
//! [`Replicator`], and what `weft cluster status` shows of it.

use super::Daemon;
use crate::engine::{Node, Replicator};
use crate::membership::{self, Membership, Pending};
use crate::NodeError;
use serde::Serialize;
use std::sync::{Arc, Weak};
use std::time::Duration;
use weft_consensus::cluster::{ClusterNode, Service};
use weft_consensus::fetch::{Deferred, MeshFetcher};
use weft_consensus::{Command, Member, Reply};
use weft_net::mesh::MeshHandle;
use weft_net::{Multiaddr, PeerId};

/// The Raft node of a member.
pub type Cluster = ClusterNode<Node>;

/// How long the daemon waits for the mesh to report a listen address to advertise.
const LISTEN_WAIT: Duration = Duration::from_secs(10);

/// Proposes through the daemon's Raft node, from the threads commands run on.
struct RaftReplicator {
    // Weak: the Raft node holds the node, which holds this.
    cluster: Weak<Cluster>,
    runtime: tokio::runtime::Handle,
}

impl RaftReplicator {
    fn cluster(&self) -> Result<Arc<Cluster>, NodeError> {
        self.cluster
            .upgrade()
            .ok_or_else(|| NodeError::Daemon("the cluster's Raft node has stopped".into()))
    }
}

impl Replicator for RaftReplicator {
    fn submit(&self, command: Command) -> Result<Reply, NodeError> {
        let cluster = self.cluster()?;
        self.runtime
            .block_on(cluster.propose(command))
            .map_err(|e| NodeError::Daemon(e.to_string()))
    }

    fn read_barrier(&self) -> Result<(), NodeError> {
        let cluster = self.cluster()?;
        self.runtime
            .block_on(cluster.read_barrier())
            .map_err(|e| NodeError::Daemon(e.to_string()))
    }
}

/// A listen address others can dial: an unspecified one (`0.0.0.0`) becomes loopback,
/// which is where local clusters run; a cluster across machines listens on a routable
/// address (docs/cluster.md).
fn advertised(addrs: &[Multiaddr]) -> Option<String> {
    use weft_net::Multiaddr as M;
    let first = addrs.first()?;
    let text = first
        .to_string()
        .replace("/ip4/0.0.0.0/", "/ip4/127.0.0.1/");
    text.parse::<M>().ok().map(|a| a.to_string())
}

/// Starts the Raft node of the member `membership` describes and takes its pending step
/// (a join runs in the background: it lasts as long as the catch-up).
pub(super) async fn start(
    daemon: &Arc<Daemon>,
    mesh: &MeshHandle,
    deferred: &Deferred,
    membership: Membership,
) -> Result<Arc<Cluster>, NodeError> {
    let chain_id: [u8; 16] = hex::decode(&membership.chain_id)
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| NodeError::Input("cluster.json: malformed chain id".into()))?;
    let introducer = match &membership.pending {
        Pending::Join { peer_id, .. } => peer_id.parse::<PeerId>().ok(),
        _ => None,
    };
    let fetcher = Arc::new(MeshFetcher::new(
        mesh.clone(),
        chain_id,
        introducer.into_iter().collect(),
    ));
    let cluster = ClusterNode::start(
        membership.id,
        daemon.node.clone(),
        chain_id,
        mesh.clone(),
        fetcher,
        membership.token.as_deref(),
    )
    .await
    .map_err(|e| NodeError::Daemon(format!("cluster: {e}")))?;
    deferred.bind(Arc::new(Service(cluster.clone())));
    daemon.node.set_replicator(Arc::new(RaftReplicator {
        cluster: Arc::downgrade(&cluster),
        runtime: tokio::runtime::Handle::current(),
    }));
    let me = Member {
        name: membership.name.clone(),
        peer_id: daemon.peer_id.to_base58(),
        addr: match &membership.advertise {
            Some(addr) => addr.clone(),
            None => listen_address(mesh).await?,
        },
        public_key: hex::encode(daemon.own_key),
    };
    match membership.pending.clone() {
        Pending::None => {}
        Pending::Initialize => {
            // Already formed (a restart before the file was updated) is not an error.
            if let Err(e) = cluster.initialize(me).await {
                tracing::info!(error = %e, "forming the cluster");
            }
            done(daemon, membership)?;
        }
        Pending::Join {
            addr,
            peer_id,
            token,
        } => {
            let via = Member {
                name: "the member joined through".into(),
                peer_id,
                addr,
                public_key: String::new(),
            };
            let (daemon, cluster) = (daemon.clone(), cluster.clone());
            tokio::spawn(async move {
                match cluster.join(via, me, &token).await {
                    Ok(()) => {
                        tracing::info!("joined the cluster");
                        if let Err(e) = done(&daemon, membership) {
                            tracing::error!(error = %e, "recording the join");
                        }
                    }
                    Err(e) => {
                        tracing::error!(error = %e, "joining the cluster failed; `weft node start` tries again")
                    }
                }
            });
        }
    }
    Ok(cluster)
}

/// Records that the pending step is done.
fn done(daemon: &Daemon, mut membership: Membership) -> Result<(), NodeError> {
    membership.pending = Pending::None;
    membership::save(daemon.node.layout(), &membership)
}

async fn listen_address(mesh: &MeshHandle) -> Result<String, NodeError> {
    let deadline = tokio::time::Instant::now() + LISTEN_WAIT;
    loop {
        let addrs = mesh
            .listening()
            .await
            .map_err(|e| NodeError::Daemon(format!("network: {e}")))?;
        if let Some(addr) = advertised(&addrs) {
            return Ok(addr);
        }
        if tokio::time::Instant::now() > deadline {
            return Err(NodeError::Daemon(
                "the mesh reported no listen address to give the cluster".into(),
            ));
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// One member as `weft cluster status` shows it.
#[derive(Debug, Clone, Serialize)]
pub struct MemberStatus {
    /// Raft node id.
    pub id: u64,
    /// Name.
    pub name: String,
    /// Peer id.
    pub peer_id: String,
    /// Address.
    pub addr: String,
    /// `leader`, `voter` or `learner`.
    pub role: &'static str,
    /// The last log index the leader knows it holds (on the leader only).
    pub matched: Option<u64>,
    /// How far it is behind the leader's last log index (on the leader only).
    pub lag: Option<u64>,
}

/// What `weft cluster status` shows.
#[derive(Debug, Clone, Serialize)]
pub struct ClusterStatus {
    /// This member's id.
    pub id: u64,
    /// Its Raft state (`Leader`, `Follower`, `Candidate`, `Learner`).
    pub state: String,
    /// The leader's id, when known.
    pub leader: Option<u64>,
    /// The current term.
    pub term: u64,
    /// Last log index.
    pub last_log_index: Option<u64>,
    /// Committed index.
    pub committed: Option<u64>,
    /// Applied index.
    pub applied: Option<u64>,
    /// Events in this member's chain.
    pub chain_len: u64,
    /// The members.
    pub members: Vec<MemberStatus>,
}

/// The status of `cluster`.
pub fn status(cluster: &Cluster, chain_len: u64) -> ClusterStatus {
    let m = cluster.metrics();
    let (nodes, voters) = cluster.members();
    let members = nodes
        .into_iter()
        .map(|(id, member)| {
            let matched = m
                .replication
                .as_ref()
                .and_then(|r| r.get(&id).cloned().flatten())
                .map(|l| l.index);
            let role = if Some(id) == m.current_leader {
                "leader"
            } else if voters.contains(&id) {
                "voter"
            } else {
                "learner"
            };
            MemberStatus {
                id,
                name: member.name,
                peer_id: member.peer_id,
                addr: member.addr,
                role,
                matched,
                lag: matched.and_then(|x| m.last_log_index.map(|last| last.saturating_sub(x))),
            }
        })
        .collect();
    ClusterStatus {
        id: cluster.id(),
        state: format!("{:?}", m.state),
        leader: m.current_leader,
        term: m.current_term,
        last_log_index: m.last_log_index,
        committed: m.cluster_committed.map(|l| l.index),
        applied: m.last_applied.map(|l| l.index),
        chain_len,
        members,
    }
}

impl Daemon {
    /// The Raft node, when this daemon runs a cluster member.
    pub fn cluster(&self) -> Option<&Arc<Cluster>> {
        self.cluster.get()
    }

    /// What `weft cluster status` shows, when this daemon runs a member.
    pub fn cluster_status(&self) -> Option<ClusterStatus> {
        Some(status(self.cluster.get()?, self.node.chain().len()))
    }

    /// Runs `work` with the Raft node on the daemon's runtime, from a command's thread.
    pub fn with_cluster<T>(
        &self,
        work: impl FnOnce(
            Arc<Cluster>,
        ) -> std::pin::Pin<Box<dyn std::future::Future<Output = T> + Send>>,
    ) -> Result<T, NodeError> {
        let cluster = self.cluster.get().cloned().ok_or_else(|| {
            NodeError::Input(
                "this node is not a cluster member (`weft cluster init` or `join`)".into(),
            )
        })?;
        let (_, runtime) = self
            .mesh
            .get()
            .ok_or_else(|| NodeError::Daemon("the daemon has not joined the mesh yet".into()))?;
        Ok(runtime.block_on(work(cluster)))
    }

    /// Whether `peer` is a member of this node's cluster (served ranges like a trusted
    /// peer: members catch up from each other).
    pub fn is_member(&self, peer: &PeerId) -> bool {
        let peer = peer.to_base58();
        self.cluster
            .get()
            .is_some_and(|c| c.members().0.values().any(|m| m.peer_id == peer))
    }
}
