//! One member's Raft node: starting it over the chain's store and the mesh, forming a
//! cluster of one, joining and leaving, proposing (forwarded to the leader when this
//! member is not it), linearizable reads, and answering other members' calls.
//!
//! Membership changes keep the chain's signer set in step ([`weft_kernel::cluster`]): a
//! joining member's key is endorsed onto the chain before it is added, and a removed
//! member's key leaves the set after it is removed.

use crate::network::{CallError, Network};
use crate::rpc::{self, Answer, Call};
use crate::state_machine::{ChainFetcher, StateMachine};
use crate::types::{Command, Member, NodeId, Proposal, Reply, Request, TypeConfig};
use crate::LogStore;
use futures::future::BoxFuture;
use openraft::async_runtime::watch::WatchReceiver;
use openraft::error::RaftError;
use openraft::{Config, Raft, ReadPolicy, ServerState, SnapshotPolicy};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use weft_kernel::cluster::{signer_draft, Member as SignerMember, MEMBERSHIP};
use weft_kernel::Chain;
use weft_net::cluster::{ClusterRequest, ClusterResponse, ClusterService};
use weft_net::mesh::MeshHandle;
use weft_net::PeerId;

/// How long a proposal keeps being retried (leader changes, unreachable leader) before it
/// fails: far beyond an election, short of a user's patience.
pub const PROPOSE_DEADLINE: Duration = Duration::from_secs(20);
/// Deadline of one forwarded call.
const CALL_DEADLINE: Duration = Duration::from_secs(5);
/// How long a joining member waits to be made a voter.
const JOIN_DEADLINE: Duration = Duration::from_secs(3600);
/// Pause between attempts while there is no leader.
const RETRY_PAUSE: Duration = Duration::from_millis(50);

/// Election and replication settings (milliseconds): a heartbeat every 50 ms, an
/// election after 200 to 400 ms without one, so a dead leader is replaced within a second
/// (measured: 0.73 s p50, docs/performance.md). Tuned for a LAN: over round trips near
/// 100 ms these would cause needless elections.
pub fn raft_config(cluster_name: &str) -> Result<Arc<Config>, ClusterError> {
    let config = Config {
        cluster_name: cluster_name.to_string(),
        heartbeat_interval: 50,
        election_timeout_min: 200,
        election_timeout_max: 400,
        install_snapshot_timeout: 120_000,
        max_payload_entries: 256,
        snapshot_policy: SnapshotPolicy::LogsSinceLast(10_000),
        max_in_snapshot_log_to_keep: 1_000,
        ..Default::default()
    };
    Ok(Arc::new(
        config
            .validate()
            .map_err(|e| ClusterError::Config(e.to_string()))?,
    ))
}

/// Why a cluster operation failed.
#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    /// The Raft settings were refused.
    #[error("Raft settings: {0}")]
    Config(String),
    /// Raft itself failed (storage, shut down).
    #[error("Raft: {0}")]
    Raft(String),
    /// No leader answered in time.
    #[error(
        "no leader took the request within {0:?}: is a majority of the members up and reachable?"
    )]
    NoLeader(Duration),
    /// The leader took the request but no majority acknowledged it in time.
    #[error("no majority acknowledged the request within {0:?} (is a majority of the members up and reachable?); it is not acknowledged, but it may still be applied if the leader keeps it")]
    Uncommitted(Duration),
    /// A membership change was refused.
    #[error("membership change refused: {0}")]
    Membership(String),
    /// Calling another member failed.
    #[error("calling member: {0}")]
    Call(String),
}

/// What one attempt of an operation at the leader came to.
enum Attempt<T> {
    /// Finished, well or not: no retry.
    Done(Result<T, ClusterError>),
    /// Try again (with the error to report if time runs out).
    Retry(Option<ClusterError>),
}

/// A member's Raft node.
pub struct ClusterNode<H: AsRef<Chain> + Send + Sync + 'static> {
    id: NodeId,
    raft: Raft<TypeConfig, StateMachine<H>>,
    network: Network,
    host: Arc<H>,
    chain_id: Vec<u8>,
    /// This process's client id and next serial, for the requests it proposes.
    client: [u8; 16],
    serial: AtomicU64,
    /// The hash of the join token members may present; None: nobody may join here.
    join_token: Option<[u8; 32]>,
    /// Peers accepted as callers before this member has a membership of its own (the
    /// member it joined through).
    introducers: Mutex<BTreeSet<PeerId>>,
    /// Told who sends a snapshot, to fetch its events from there first.
    fetcher: Arc<dyn ChainFetcher>,
    /// This node itself, for the work it hands to a task of its own (a join's catch-up).
    self_ref: std::sync::OnceLock<std::sync::Weak<ClusterNode<H>>>,
    /// Held through each membership change on the leader: two joins at once would each
    /// compute the signer set and the voters from the membership before the other's
    /// change, and the later one would leave the earlier newcomer out.
    membership_changes: tokio::sync::Mutex<()>,
}

fn token_hash(token: &str) -> [u8; 32] {
    weft_kernel::hash::domain_hash("weft/cluster/join-token/v1", &[token.as_bytes()]).0
}

fn raft_error<E: std::fmt::Display>(e: E) -> ClusterError {
    ClusterError::Raft(e.to_string())
}

impl<H: AsRef<Chain> + Send + Sync + 'static> ClusterNode<H> {
    /// Starts member `id`'s Raft node over the chain in `host` (its store holds the log),
    /// calling other members through `mesh`.
    /// A member joining with an empty chain gets `chain_id` from its join token.
    pub async fn start(
        id: NodeId,
        host: Arc<H>,
        chain_id: [u8; 16],
        mesh: MeshHandle,
        fetcher: Arc<dyn ChainFetcher>,
        join_token: Option<&str>,
    ) -> Result<Arc<ClusterNode<H>>, ClusterError> {
        let chain: &Chain = (*host).as_ref();
        if let Some(genesis) = chain.genesis() {
            if genesis.chain_id.0 != chain_id {
                return Err(ClusterError::Raft(format!(
                    "this node's chain is {}, not the cluster's {}",
                    genesis.chain_id,
                    hex::encode(chain_id)
                )));
            }
        }
        let chain_id = chain_id.to_vec();
        let network = Network::new(mesh, chain_id.clone());
        let log = LogStore::new(chain.store().clone());
        let sm = StateMachine::new(host.clone(), fetcher.clone());
        let config = raft_config(&hex::encode(&chain_id))?;
        let raft = Raft::new(id, config, network.clone(), log, sm)
            .await
            .map_err(raft_error)?;
        let mut client = [0u8; 16];
        getrandom::fill(&mut client).map_err(raft_error)?;
        let node = Arc::new(ClusterNode {
            id,
            raft,
            network,
            host,
            chain_id,
            client,
            serial: AtomicU64::new(0),
            join_token: join_token.map(token_hash),
            introducers: Mutex::new(BTreeSet::new()),
            fetcher,
            self_ref: std::sync::OnceLock::new(),
            membership_changes: tokio::sync::Mutex::new(()),
        });
        let _ = node.self_ref.set(Arc::downgrade(&node));
        Ok(node)
    }

    fn chain(&self) -> &Chain {
        (*self.host).as_ref()
    }

    /// This member's id.
    pub fn id(&self) -> NodeId {
        self.id
    }

    /// Raft's metrics now: state, term, indexes, membership, replication progress.
    pub fn metrics(&self) -> openraft::RaftMetrics<TypeConfig> {
        self.raft.metrics().borrow_watched().clone()
    }

    /// The Raft handle (metrics, tests).
    pub fn raft(&self) -> &Raft<TypeConfig, StateMachine<H>> {
        &self.raft
    }

    /// Forms a cluster of this member alone (`weft cluster init`): the chain must already
    /// record `cluster.formed` listing this member.
    pub async fn initialize(&self, me: Member) -> Result<(), ClusterError> {
        let members = BTreeMap::from([(self.id, me)]);
        match self.raft.initialize(members).await {
            Ok(()) => Ok(()),
            Err(RaftError::APIError(e)) => Err(ClusterError::Membership(e.to_string())),
            Err(e) => Err(raft_error(e)),
        }
    }

    /// The current membership: id → member, and which are voters.
    pub fn members(&self) -> (BTreeMap<NodeId, Member>, BTreeSet<NodeId>) {
        let stored = self.membership();
        let membership = stored.membership();
        let nodes = membership.nodes().map(|(id, m)| (*id, m.clone())).collect();
        (nodes, membership.voter_ids().collect())
    }

    /// The membership as Raft last reported it (shared, not copied: it is read on every
    /// call a member receives).
    fn membership(&self) -> Arc<openraft::alias::StoredMembershipOf<TypeConfig>> {
        self.raft
            .metrics()
            .borrow_watched()
            .membership_config
            .clone()
    }

    /// The leader as this member knows it.
    pub fn leader(&self) -> Option<(NodeId, Member)> {
        let (leader, stored) = {
            let metrics = self.raft.metrics();
            let metrics = metrics.borrow_watched();
            (metrics.current_leader?, metrics.membership_config.clone())
        };
        let member = stored.membership().get_node(&leader)?.clone();
        Some((leader, member))
    }

    fn next_request(&self, command: Command) -> Request {
        Request {
            client: self.client,
            serial: self.serial.fetch_add(1, Ordering::Relaxed),
            command,
        }
    }

    /// Proposes `command`, answered once a majority holds it durably and the leader has
    /// applied it. A follower forwards it to the leader; leader changes and unreachable
    /// leaders are retried (the request's key makes a retry apply once) until
    /// [`PROPOSE_DEADLINE`].
    pub async fn propose(&self, command: Command) -> Result<Reply, ClusterError> {
        let request = self.next_request(command);
        let mut replies = self.propose_all(vec![request]).await?;
        replies
            .pop()
            .ok_or_else(|| ClusterError::Raft("the leader answered no request".into()))
    }

    /// Proposes several requests as one entry; one reply each.
    pub async fn propose_all(&self, requests: Vec<Request>) -> Result<Vec<Reply>, ClusterError> {
        let call = Call::Propose(requests.clone());
        let local = |left| {
            let requests = requests.clone();
            async move {
                match self.write_within(requests, left).await {
                    Ok(replies) => Attempt::Done(Ok(replies)),
                    Err(e @ ClusterError::Uncommitted(_)) => Attempt::Done(Err(e)),
                    Err(e) => Attempt::Retry(Some(e)),
                }
            }
        };
        let remote = |answer: Result<Answer, CallError>| match answer {
            Ok(Answer::Proposed(replies)) => Attempt::Done(Ok(replies.0)),
            Ok(Answer::Failed(why)) => Attempt::Retry(Some(ClusterError::Raft(why))),
            Ok(_) => Attempt::Retry(None),
            Err(e) => Attempt::Retry(Some(ClusterError::Call(e.to_string()))),
        };
        self.at_leader(&call, CALL_DEADLINE, local, remote).await
    }

    /// Runs an operation at the leader: `local` when this member leads (given the time
    /// left), else `call` sent to the leader with its answer read by `remote`; retried
    /// while there is no leader, it changes or cannot be reached, until
    /// [`PROPOSE_DEADLINE`]. Fails with the last error an attempt gave, else
    /// [`ClusterError::NoLeader`].
    async fn at_leader<T, F>(
        &self,
        call: &Call,
        call_deadline: Duration,
        mut local: impl FnMut(Duration) -> F,
        mut remote: impl FnMut(Result<Answer, CallError>) -> Attempt<T>,
    ) -> Result<T, ClusterError>
    where
        F: std::future::Future<Output = Attempt<T>>,
    {
        let started = Instant::now();
        let mut last_error = None;
        while started.elapsed() < PROPOSE_DEADLINE {
            let left = PROPOSE_DEADLINE.saturating_sub(started.elapsed());
            let attempt = match self.leader() {
                Some((leader, _)) if leader == self.id => local(left).await,
                // A dead leader's call would only end at its deadline; once this member
                // sees another leader, the request goes there instead (the dedupe key
                // applies it once if the old leader did take it).
                Some((leader, member)) => {
                    let wait = self.raft.wait(Some(call_deadline));
                    let succeeded = wait.metrics(
                        |m| m.current_leader.is_some_and(|l| l != leader),
                        "another leader",
                    );
                    tokio::select! {
                        answer = self.network.call(&member, call, call_deadline) => remote(answer),
                        Ok(_) = succeeded => Attempt::Retry(None),
                    }
                }
                None => Attempt::Retry(None),
            };
            match attempt {
                Attempt::Done(result) => return result,
                Attempt::Retry(Some(e)) => last_error = Some(e),
                Attempt::Retry(None) => {}
            }
            tokio::time::sleep(RETRY_PAUSE).await;
        }
        Err(last_error.unwrap_or(ClusterError::NoLeader(PROPOSE_DEADLINE)))
    }

    /// [`ClusterNode::write`], given up after `limit`: a leader cut off from the
    /// majority never commits, and neither its client nor a forwarding member may wait
    /// for ever.
    async fn write_within(
        &self,
        requests: Vec<Request>,
        limit: Duration,
    ) -> Result<Vec<Reply>, ClusterError> {
        match tokio::time::timeout(limit, self.write(requests)).await {
            Ok(result) => result,
            Err(_) => Err(ClusterError::Uncommitted(limit)),
        }
    }

    /// On the leader: writes the requests as one entry stamped with this clock.
    async fn write(&self, requests: Vec<Request>) -> Result<Vec<Reply>, ClusterError> {
        let proposal = Proposal {
            time_ns: weft_kernel::chain::now_ns(),
            requests,
        };
        match self.raft.client_write(proposal).await {
            Ok(response) => Ok(response.data.0),
            Err(e) => Err(raft_error(e)),
        }
    }

    /// Waits until this member has applied everything committed before the call, as the
    /// leader's read index says (`--linearizable` reads): a read after it sees every
    /// append acknowledged before it began.
    pub async fn read_barrier(&self) -> Result<(), ClusterError> {
        let local = |_| async {
            match self.read_index().await {
                Ok(index) => Attempt::Done(Ok(index)),
                Err(_) => Attempt::Retry(None),
            }
        };
        let remote = |answer| match answer {
            Ok(Answer::ReadIndex(index)) => Attempt::Done(Ok(index)),
            _ => Attempt::Retry(None),
        };
        let index = self
            .at_leader(&Call::ReadIndex, CALL_DEADLINE, local, remote)
            .await?;
        self.raft
            .wait(Some(PROPOSE_DEADLINE))
            .applied_index_at_least(index, "read barrier")
            .await
            .map_err(raft_error)?;
        Ok(())
    }

    async fn read_index(&self) -> Result<Option<u64>, ClusterError> {
        let read = self
            .raft
            .ensure_linearizable(ReadPolicy::ReadIndex)
            .await
            .map_err(raft_error)?;
        Ok(Some(read.index()))
    }

    /// The signer-set event listing `members` (endorsed by this member's key).
    fn signer_command(&self, members: &BTreeMap<NodeId, Member>) -> Result<Command, ClusterError> {
        let chain = self.chain();
        let key = chain
            .key()
            .ok_or_else(|| ClusterError::Membership("this member has no node key".into()))?;
        let genesis = chain
            .genesis()
            .ok_or_else(|| ClusterError::Membership("the chain has no genesis".into()))?;
        let listed = members
            .iter()
            .map(|(id, m)| {
                let public_key = hex::decode(&m.public_key)
                    .ok()
                    .and_then(|b| <[u8; 32]>::try_from(b).ok())
                    .ok_or_else(|| {
                        ClusterError::Membership(format!("member `{}` has no valid key", m.name))
                    })?;
                Ok(SignerMember {
                    id: *id,
                    name: m.name.clone(),
                    public_key,
                })
            })
            .collect::<Result<Vec<_>, ClusterError>>()?;
        let draft = signer_draft(
            &genesis.chain_id,
            &chain.signers(),
            MEMBERSHIP,
            &listed,
            key,
        )
        .map_err(|e| ClusterError::Membership(e.to_string()))?;
        Ok(Command::Append(vec![crate::types::Draft {
            source: draft.source,
            kind: draft.kind,
            payload: weft_kernel::cbor::encode(&draft.payload),
        }]))
    }

    async fn propose_signers(
        &self,
        members: &BTreeMap<NodeId, Member>,
    ) -> Result<(), ClusterError> {
        match self.propose(self.signer_command(members)?).await? {
            Reply::Applied(_) => Ok(()),
            Reply::Refused(why) => Err(ClusterError::Membership(why)),
        }
    }

    /// On the leader: adds `member` as `id`. Its key joins the signer set first; the leader
    /// then snapshots and purges its log (so the newcomer starts from a snapshot and
    /// range-syncs the chain), adds it as a learner, waits for it to catch up, and makes it
    /// a voter.
    pub async fn add_member(&self, id: NodeId, member: Member) -> Result<(), ClusterError> {
        let _one_change_at_a_time = self.membership_changes.lock().await;
        let (mut nodes, _) = self.members();
        nodes.insert(id, member.clone());
        self.propose_signers(&nodes).await?;
        self.raft.trigger().snapshot().await.map_err(raft_error)?;
        let applied = self
            .raft
            .metrics()
            .borrow_watched()
            .last_applied
            .map(|l| l.index);
        let snapshot = self
            .raft
            .wait(Some(PROPOSE_DEADLINE))
            .metrics(
                |m| m.snapshot.map(|s| s.index) >= applied,
                "snapshot before adding a member",
            )
            .await
            .map_err(raft_error)?
            .snapshot;
        if let Some(upto) = snapshot {
            self.raft
                .trigger()
                .purge_log(upto.index)
                .await
                .map_err(raft_error)?;
        }
        self.raft
            .add_learner(id, member, true)
            .await
            .map_err(|e| ClusterError::Membership(e.to_string()))?;
        let (_, voters) = self.members();
        let mut voters: BTreeSet<NodeId> = voters;
        voters.insert(id);
        self.raft
            .change_membership(voters, false)
            .await
            .map_err(|e| ClusterError::Membership(e.to_string()))?;
        Ok(())
    }

    /// On the leader: removes member `id` (a voter or a learner), then drops its key from
    /// the signer set.
    pub async fn remove_member(&self, id: NodeId) -> Result<(), ClusterError> {
        let _one_change_at_a_time = self.membership_changes.lock().await;
        let (mut nodes, voters) = self.members();
        if !nodes.contains_key(&id) {
            return Err(ClusterError::Membership(format!("no member {id}")));
        }
        let voters: BTreeSet<NodeId> = voters.into_iter().filter(|v| *v != id).collect();
        if voters.is_empty() {
            return Err(ClusterError::Membership(
                "the last voter cannot be removed".into(),
            ));
        }
        self.raft
            .change_membership(voters, false)
            .await
            .map_err(|e| ClusterError::Membership(e.to_string()))?;
        self.raft
            .change_membership(
                openraft::ChangeMembers::RemoveNodes(BTreeSet::from([id])),
                false,
            )
            .await
            .map_err(|e| ClusterError::Membership(e.to_string()))?;
        nodes.remove(&id);
        self.propose_signers(&nodes).await
    }

    /// Removes member `id`, through the leader wherever this member is.
    pub async fn request_removal(&self, id: NodeId) -> Result<(), ClusterError> {
        let local = |_| async { Attempt::Done(self.remove_member(id).await) };
        let remote = |answer| match answer {
            Ok(Answer::Done) => Attempt::Done(Ok(())),
            Ok(Answer::Failed(why)) => Attempt::Done(Err(ClusterError::Membership(why))),
            _ => Attempt::Retry(None),
        };
        self.at_leader(&Call::Remove { id }, PROPOSE_DEADLINE, local, remote)
            .await
    }

    /// On a new member: asks `via` (any member, usually the founder) to add this one.
    pub async fn join(&self, via: Member, me: Member, token: &str) -> Result<(), ClusterError> {
        let peer: PeerId = via
            .peer_id
            .parse()
            .map_err(|e| ClusterError::Call(format!("peer id `{}`: {e}", via.peer_id)))?;
        self.introducers.lock().map_err(raft_error)?.insert(peer);
        let call = Call::Join {
            id: self.id,
            member: me,
            token: token.to_string(),
        };
        match self.network.call(&via, &call, CALL_DEADLINE).await {
            Ok(Answer::Done) => self.wait_until_voter().await,
            Ok(Answer::Failed(why)) => Err(ClusterError::Membership(why)),
            Ok(Answer::NotLeader { leader }) => Err(ClusterError::Membership(format!(
                "{} is not the leader; the leader is {}",
                via.name,
                leader.map_or("unknown".to_string(), |(_, m)| format!(
                    "{} at {}",
                    m.name, m.addr
                ))
            ))),
            Ok(other) => Err(ClusterError::Call(format!("unexpected answer {other:?}"))),
            Err(e) => Err(ClusterError::Call(e.to_string())),
        }
    }

    /// After the leader accepted this member's join: waits until this member sees itself
    /// a voter (snapshot installed, caught up, promoted), for as long as a large chain's
    /// catch-up may take.
    async fn wait_until_voter(&self) -> Result<(), ClusterError> {
        let started = Instant::now();
        while started.elapsed() < JOIN_DEADLINE {
            if self.members().1.contains(&self.id) {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Err(ClusterError::Membership(format!(
            "not made a voter within {JOIN_DEADLINE:?}: see the leader's log"
        )))
    }

    /// Stops the Raft node.
    pub async fn shutdown(&self) -> Result<(), ClusterError> {
        self.raft.shutdown().await.map_err(raft_error)
    }

    /// Whether `peer` may call this member: a current member, or the one it joined via.
    fn admits(&self, peer: &PeerId) -> bool {
        let name = peer.to_base58();
        let stored = self.membership();
        stored.membership().nodes().any(|(_, m)| m.peer_id == name)
            || self.introducers.lock().is_ok_and(|set| set.contains(peer))
    }

    fn not_leader(&self) -> Answer {
        Answer::NotLeader {
            leader: self.leader(),
        }
    }

    fn is_leader(&self) -> bool {
        self.raft.metrics().borrow_watched().state == ServerState::Leader
    }

    /// Handles one call from `peer`.
    pub async fn handle(&self, peer: PeerId, call: Call) -> Answer {
        let failed = |e: &dyn std::fmt::Display| Answer::Failed(e.to_string());
        if let Call::Join { id, member, token } = call {
            let allowed = self
                .join_token
                .is_some_and(|want| constant_time_eq(&want, &token_hash(&token)));
            if !allowed {
                return Answer::Failed("the join token is not this cluster's".into());
            }
            if member.peer_id != peer.to_base58() {
                return Answer::Failed("a node may only ask to join as itself".into());
            }
            if !self.is_leader() {
                return self.not_leader();
            }
            // Catching up may take longer than any call may: the change runs on, and the
            // newcomer watches its own membership.
            let this = self.self_ref.get().and_then(std::sync::Weak::upgrade);
            let Some(this) = this else {
                return Answer::Failed("this member's Raft node is stopping".into());
            };
            tokio::spawn(async move {
                if let Err(e) = this.add_member(id, member).await {
                    tracing::warn!(error = %e, member = id, "adding a member failed");
                }
            });
            return Answer::Done;
        }
        if !self.admits(&peer) {
            return Answer::Failed(format!("{peer} is not a member of this cluster"));
        }
        match call {
            Call::AppendEntries(rpc) => match self.raft.append_entries(rpc).await {
                Ok(r) => Answer::AppendEntries(r),
                Err(e) => failed(&e),
            },
            Call::Vote(rpc) => match self.raft.vote(rpc).await {
                Ok(r) => Answer::Vote(r),
                Err(e) => failed(&e),
            },
            Call::PreVote(rpc) => match self.raft.pre_vote(rpc).await {
                Ok(r) => Answer::Vote(r),
                Err(e) => failed(&e),
            },
            Call::Snapshot(call) => {
                self.fetcher.prefer(peer);
                let crate::rpc::SnapshotCall {
                    vote,
                    meta,
                    manifest,
                } = *call;
                let snapshot = openraft::alias::SnapshotOf::<TypeConfig, crate::Manifest> {
                    meta,
                    snapshot: manifest,
                };
                match self.raft.install_full_snapshot(vote, snapshot).await {
                    Ok(r) => Answer::Snapshot(r),
                    Err(e) => failed(&e),
                }
            }
            Call::Propose(requests) if self.is_leader() => {
                match self.write_within(requests, CALL_DEADLINE).await {
                    Ok(replies) => Answer::Proposed(crate::types::Replies(replies)),
                    Err(e) => failed(&e),
                }
            }
            Call::ReadIndex if self.is_leader() => match self.read_index().await {
                Ok(index) => Answer::ReadIndex(index),
                Err(e) => failed(&e),
            },
            Call::Remove { id } if self.is_leader() => match self.remove_member(id).await {
                Ok(()) => Answer::Done,
                Err(e) => failed(&e),
            },
            Call::Propose(_) | Call::ReadIndex | Call::Remove { .. } => self.not_leader(),
            Call::Join { .. } => Answer::Failed("handled above".into()),
        }
    }
}

/// Largest call body decoded for a caller that is not a member (a join needs a few
/// hundred bytes).
const STRANGER_BODY_LIMIT: usize = 16 * 1024;

fn constant_time_eq(a: &[u8; 32], b: &[u8; 32]) -> bool {
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The mesh's side of a member: decodes calls for this cluster's chain and hands them to
/// the node.
pub struct Service<H: AsRef<Chain> + Send + Sync + 'static>(pub Arc<ClusterNode<H>>);

impl<H: AsRef<Chain> + Send + Sync + 'static> ClusterService for Service<H> {
    fn handle(&self, peer: PeerId, request: ClusterRequest) -> BoxFuture<'static, ClusterResponse> {
        let node = self.0.clone();
        Box::pin(async move {
            if request.chain_id != node.chain_id {
                return ClusterResponse::Refused {
                    reason: "this member is in another chain's cluster".into(),
                };
            }
            // A stranger may only ask to join, and a join is small: a larger body from one
            // is refused before anything decodes it.
            if request.body.len() > STRANGER_BODY_LIMIT && !node.admits(&peer) {
                return ClusterResponse::Refused {
                    reason: format!("{peer} is not a member of this cluster"),
                };
            }
            let call: Call = match rpc::decode(&request.body, "cluster call") {
                Ok(call) => call,
                Err(reason) => return ClusterResponse::Refused { reason },
            };
            match rpc::encode(&node.handle(peer, call).await) {
                Ok(body) => ClusterResponse::Answer { body },
                Err(reason) => ClusterResponse::Refused { reason },
            }
        })
    }
}

impl From<CallError> for ClusterError {
    fn from(e: CallError) -> ClusterError {
        ClusterError::Call(e.to_string())
    }
}
