//! The swarm and its one event loop. Behaviours are composed (identify, ping, gossipsub,
//! the `/weft/sync/1`, `/weft/query/1` and `/weft/raft/1` request-responses, mDNS and Kademlia when
//! configured, a block list) and driven by a single task; the node talks to it through a
//! [`MeshHandle`] (commands) and a stream of [`MeshEvent`]s, serves chain ranges through
//! the [`SyncSource`] trait and questions through the [`QueryService`] trait, so the mesh
//! never touches a store itself.
//!
//! Gossip message ids are a hash of the payload ([`message_id`]), so the node's head is
//! announced through [`MeshHandle::announce`], which re-signs every re-announcement at a
//! later time: the same bytes again would be dropped as a duplicate and never reach a
//! peer that joined late.
//!
//! Hostile peers: gossip is forwarded only after the [`Gatekeeper`] accepted it, sync
//! and query messages are size-limited by the codec, inbound requests are capped per peer
//! and protocol, and a
//! peer that keeps sending what fails the checks is disconnected and blocked for a while.

use crate::cluster::{
    ClusterRequest, ClusterResponse, ClusterService, CLUSTER_PROTOCOL, CLUSTER_REQUEST_LIMIT,
    CLUSTER_RESPONSE_LIMIT, CLUSTER_TIMEOUT, MAX_CLUSTER_PER_PEER, MAX_CLUSTER_TOTAL,
};
use crate::codec::Codec;
use crate::gatekeeper::{Accepted, Gatekeeper, Trust, Verdict};
use crate::query::{
    QueryRequest, QueryResponse, QueryService, MAX_QUERIES_PER_PEER, QUERY_PROTOCOL,
    QUERY_REQUEST_LIMIT, QUERY_RESPONSE_LIMIT, QUERY_TIMEOUT,
};
use crate::wire::{
    reannounced, Evidence, SyncRequest, SyncResponse, Topic, GOSSIP_FRAME_ALLOWANCE,
    MAX_GOSSIP_BYTES, SYNC_PROTOCOL, SYNC_REQUEST_LIMIT, SYNC_RESPONSE_LIMIT,
};
use futures::{FutureExt, StreamExt};
use libp2p::swarm::behaviour::toggle::Toggle;
use libp2p::swarm::{NetworkBehaviour, SwarmEvent};
use libp2p::{
    allow_block_list, connection_limits, gossipsub, identify, kad, mdns, noise, ping,
    request_response, tcp, yamux, Multiaddr, PeerId, StreamProtocol, Swarm,
};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, oneshot};
use weft_kernel::head::SignedHead;
use weft_kernel::keys::NodeKey;

/// How long a sync request may take before it fails.
pub const SYNC_TIMEOUT: Duration = Duration::from_secs(30);
/// Inbound sync requests served at once for one peer; more are refused as busy.
pub const MAX_INBOUND_PER_PEER: usize = 4;
/// Inbound sync requests served at once for all peers together: each holds a blocking
/// thread reading the store, so many peers cannot together take every thread.
pub const MAX_INBOUND_TOTAL: usize = 16;
/// Questions answered at once for all peers together.
pub const MAX_QUERIES_TOTAL: usize = 8;
/// Established connections at most, in and out (a node follows tens of peers).
pub const MAX_CONNECTIONS: u32 = 256;
/// Established incoming connections at most, and connections still handshaking.
pub const MAX_INCOMING: u32 = 128;
/// Connections handshaking at once (noise costs a Diffie-Hellman each).
pub const MAX_PENDING_INCOMING: u32 = 32;
/// Connections to one peer at most.
pub const MAX_CONNECTIONS_PER_PEER: u32 = 2;
/// Failed checks after which a peer is disconnected and blocked.
pub const STRIKES_TO_BLOCK: u32 = 16;
/// One strike is forgiven per this much time without a new one: a peer that once sent
/// something bad is not blocked for a second slip weeks later.
pub const STRIKE_DECAY: Duration = Duration::from_secs(60);
/// Gossip a peer may send per second that passes its signature check but is of no use
/// (untrusted keys, stale heads) before each further second of it counts as a strike:
/// even well-formed spam is dropped after a while, and its message ids stop filling the
/// duplicate cache.
pub const IGNORED_PER_SECOND: u32 = 100;
/// How long a blocked peer stays blocked.
pub const BLOCK_FOR: Duration = Duration::from_secs(600);
/// How often each connection is pinged.
const PING_EVERY: Duration = Duration::from_secs(3);
/// A connection whose ping is not answered within this is closed (and its configured
/// address redialled): a cut link otherwise lingers until TCP gives up, minutes later.
const PING_TIMEOUT: Duration = Duration::from_secs(5);
/// Shortest gap between two Kademlia bootstraps.
const BOOTSTRAP_GAP: Duration = Duration::from_secs(10);
/// How often configured addresses that are not connected are dialled again.
const REDIAL_EVERY: Duration = Duration::from_secs(3);
/// The identify protocol's `protocolVersion` (the protocol itself is libp2p's
/// `/ipfs/id/1.0.0`).
pub const IDENTIFY_PROTOCOL_VERSION: &str = "/weft/id/1";
/// Gossipsub's heartbeat.
pub const GOSSIP_HEARTBEAT: Duration = Duration::from_millis(500);

/// Serves ranges of the chains this node holds (its own, and replicas it may pass on).
pub trait SyncSource: Send + Sync + 'static {
    /// The answer to one (already capped) request from `peer` (whose trust the source
    /// judges: a node need not serve its history to strangers).
    fn serve(&self, peer: &PeerId, request: &SyncRequest) -> SyncResponse;
}

/// What the mesh is started with.
#[derive(Debug, Clone)]
pub struct MeshConfig {
    /// Organisation name: the gossip topics are per organisation.
    pub organisation: String,
    /// Addresses to listen on.
    pub listen: Vec<Multiaddr>,
    /// Addresses to keep connected (configured peers, a bootstrap node).
    pub dial: Vec<Multiaddr>,
    /// Discover peers on the local network.
    pub mdns: bool,
    /// Run Kademlia (peer discovery beyond the configured addresses).
    pub kademlia: bool,
}

impl MeshConfig {
    /// A node of `organisation` on a free loopback port that dials `dial`: tests,
    /// benchmarks and local testnets.
    pub fn loopback(organisation: &str, dial: Vec<Multiaddr>) -> MeshConfig {
        MeshConfig {
            organisation: organisation.into(),
            listen: vec![Multiaddr::from(std::net::Ipv4Addr::LOCALHOST)
                .with(libp2p::multiaddr::Protocol::Tcp(0))],
            dial,
            mdns: false,
            kademlia: false,
        }
    }
}

/// Why a mesh operation failed.
#[derive(Debug, thiserror::Error)]
pub enum MeshError {
    /// The transport could not be built.
    #[error("cannot build the transport: {0}")]
    Transport(String),
    /// A listen address was refused.
    #[error("cannot listen on {addr}: {reason}")]
    Listen {
        /// The address.
        addr: Multiaddr,
        /// Why.
        reason: String,
    },
    /// A sync request failed (timeout, disconnect, an undecodable answer).
    #[error("sync request to {peer} failed: {reason}")]
    Sync {
        /// The peer asked.
        peer: PeerId,
        /// Why.
        reason: String,
    },
    /// A query failed (timeout, disconnect, an undecodable answer).
    #[error("query to {peer} failed: {reason}")]
    Query {
        /// The peer asked.
        peer: PeerId,
        /// Why.
        reason: String,
    },
    /// A cluster call failed (unreachable, timeout, an undecodable answer).
    #[error("cluster call to {peer} failed: {reason}")]
    Cluster {
        /// The member called.
        peer: PeerId,
        /// Why.
        reason: String,
    },
    /// The event loop has stopped.
    #[error("the mesh has stopped")]
    Stopped,
}

/// What the mesh tells the node.
#[derive(Debug)]
pub enum MeshEvent {
    /// Listening on an address.
    Listening(Multiaddr),
    /// A connection to a peer is up (the first one to it).
    Connected {
        /// The peer.
        peer: PeerId,
        /// Its address on that connection.
        addr: Multiaddr,
    },
    /// A peer subscribed to the organisation's topics: gossip now reaches it.
    Subscribed {
        /// The peer.
        peer: PeerId,
    },
    /// The last connection to a peer closed.
    Disconnected {
        /// The peer.
        peer: PeerId,
    },
    /// Gossip that passed the gatekeeper, and who relayed it.
    Gossip {
        /// The relaying peer.
        from: PeerId,
        /// The message.
        accepted: Accepted,
    },
    /// A validly signed head contradicting one already accepted.
    Conflict(Box<Evidence>),
    /// A peer was blocked for failing checks too often.
    Blocked {
        /// The peer.
        peer: PeerId,
        /// The last failure.
        reason: String,
    },
}

/// One connected peer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerLink {
    /// The peer.
    pub peer: PeerId,
    /// The address of its first connection.
    pub addr: Multiaddr,
}

enum Command {
    Publish(Topic, Vec<u8>, oneshot::Sender<Result<(), String>>),
    Announce(Box<SignedHead>),
    Sync(
        PeerId,
        SyncRequest,
        oneshot::Sender<Result<SyncResponse, MeshError>>,
    ),
    Query(
        PeerId,
        Option<Multiaddr>,
        QueryRequest,
        oneshot::Sender<Result<QueryResponse, MeshError>>,
    ),
    Cluster(
        PeerId,
        Option<Multiaddr>,
        ClusterRequest,
        oneshot::Sender<Result<ClusterResponse, MeshError>>,
    ),
    Strike(PeerId, String),
    Peers(oneshot::Sender<Vec<PeerLink>>),
    Listening(oneshot::Sender<Vec<Multiaddr>>),
    Dial(Multiaddr),
    SetTrust(Trust),
    Observe(Box<SignedHead>),
    Dropped(oneshot::Sender<BTreeMap<&'static str, u64>>),
    Newest([u8; 32], oneshot::Sender<Option<SignedHead>>),
    Panic,
}

/// The node's side of the mesh.
#[derive(Debug, Clone)]
pub struct MeshHandle {
    commands: mpsc::Sender<Command>,
    local: PeerId,
}

impl MeshHandle {
    /// This node's peer id.
    pub fn local_peer_id(&self) -> PeerId {
        self.local
    }

    async fn ask<T>(
        &self,
        make: impl FnOnce(oneshot::Sender<T>) -> Command,
    ) -> Result<T, MeshError> {
        let (tx, rx) = oneshot::channel();
        self.commands
            .send(make(tx))
            .await
            .map_err(|_| MeshError::Stopped)?;
        rx.await.map_err(|_| MeshError::Stopped)
    }

    /// Publishes on a topic. A message identical to one published recently is not sent
    /// again (content-addressed ids); that, and having no peers yet, is not an error. A
    /// payload over [`MAX_GOSSIP_BYTES`] is refused (peers would drop it).
    pub async fn publish(&self, topic: Topic, data: Vec<u8>) -> Result<(), MeshError> {
        self.ask(|tx| Command::Publish(topic, data, tx))
            .await?
            .map_err(|reason| MeshError::Transport(format!("publish: {reason}")))
    }

    /// Queues a publication without waiting for it: for the node's own event loop, which
    /// must never wait on the mesh while the mesh may be waiting for it to take an event.
    /// False when the queue is full or the mesh has stopped (the message is dropped;
    /// heads and adverts are re-announced periodically).
    pub fn publish_nowait(&self, topic: Topic, data: Vec<u8>) -> bool {
        let (reply, _) = oneshot::channel();
        self.commands
            .try_send(Command::Publish(topic, data, reply))
            .is_ok()
    }

    /// Announces this node's own head on the heads topic without waiting (for the node's
    /// event loop, like [`MeshHandle::publish_nowait`]). The first announcement of a head
    /// is the head itself; announcing it again re-signs it at a later time (same chain,
    /// sequence, hash and root), because gossipsub drops a byte-identical message as a
    /// duplicate and a peer that missed the first would never get it. A head signed by
    /// another key is not announced. False when the queue is full or the mesh stopped.
    pub fn announce(&self, head: SignedHead) -> bool {
        self.commands
            .try_send(Command::Announce(Box::new(head)))
            .is_ok()
    }

    /// Asks `peer` for a range.
    pub async fn sync(
        &self,
        peer: PeerId,
        request: SyncRequest,
    ) -> Result<SyncResponse, MeshError> {
        self.ask(|tx| Command::Sync(peer, request, tx)).await?
    }

    /// Asks `peer` for a range and reads it from the response, or says why there is none
    /// (the peer unreachable, a refusal, a response that is not a range).
    pub async fn fetch_range(
        &self,
        peer: PeerId,
        request: SyncRequest,
    ) -> Result<weft_kernel::replica::Range, String> {
        let from = request.from;
        let response = self.sync(peer, request).await.map_err(|e| e.to_string())?;
        response.into_range(from).map_err(|e| e.to_string())
    }

    /// Asks `peer` a question; `addr`, when given, is where to dial it if it is not
    /// connected. Fails after [`QUERY_TIMEOUT`] at the latest.
    pub async fn query(
        &self,
        peer: PeerId,
        addr: Option<Multiaddr>,
        request: QueryRequest,
    ) -> Result<QueryResponse, MeshError> {
        self.ask(|tx| Command::Query(peer, addr, request, tx))
            .await?
    }

    /// Calls cluster member `peer`; `addr`, when given, is where to dial it if it is not
    /// connected. Fails after `deadline` (at most [`CLUSTER_TIMEOUT`]) with
    /// [`MeshError::Cluster`], which is also what an unreachable member gives.
    pub async fn cluster(
        &self,
        peer: PeerId,
        addr: Option<Multiaddr>,
        request: ClusterRequest,
        deadline: Duration,
    ) -> Result<ClusterResponse, MeshError> {
        let call = self.ask(|tx| Command::Cluster(peer, addr, request, tx));
        match tokio::time::timeout(deadline.min(CLUSTER_TIMEOUT), call).await {
            Ok(result) => result?,
            Err(_) => Err(MeshError::Cluster {
                peer,
                reason: format!("no answer within {deadline:?}"),
            }),
        }
    }

    /// Makes the mesh's task panic: fault injection for the testnet's scenario of a
    /// node whose mesh dies (the daemon must stop and say why, not go on as if joined).
    /// False when the queue is full.
    pub fn inject_panic(&self) -> bool {
        self.commands.try_send(Command::Panic).is_ok()
    }

    /// Counts a failed check against `peer` (an invalid range, say); enough of them
    /// block it.
    pub async fn strike(&self, peer: PeerId, reason: String) {
        let _ = self.commands.send(Command::Strike(peer, reason)).await;
    }

    /// Connected peers.
    pub async fn peers(&self) -> Result<Vec<PeerLink>, MeshError> {
        self.ask(Command::Peers).await
    }

    /// Addresses listened on.
    pub async fn listening(&self) -> Result<Vec<Multiaddr>, MeshError> {
        self.ask(Command::Listening).await
    }

    /// Dials an address once (configured addresses are redialled by the mesh itself);
    /// dropped when the command queue is full (the caller retries on its own schedule).
    pub fn dial(&self, addr: Multiaddr) {
        let _ = self.commands.try_send(Command::Dial(addr));
    }

    /// Replaces the gatekeeper's trust set without waiting (the node's loop must never
    /// wait on the mesh); false when the queue is full, and the caller's next round sends
    /// it again.
    pub fn set_trust(&self, trust: Trust) -> bool {
        self.commands.try_send(Command::SetTrust(trust)).is_ok()
    }

    /// Tells the gatekeeper of a head verified outside gossip, without waiting; a head
    /// it contradicts comes back as [`MeshEvent::Conflict`]. False when the queue is full.
    pub fn observe(&self, head: SignedHead) -> bool {
        self.commands
            .try_send(Command::Observe(Box::new(head)))
            .is_ok()
    }

    /// The newest head the gatekeeper accepted or was told of from `signer`.
    pub async fn newest(&self, signer: [u8; 32]) -> Result<Option<SignedHead>, MeshError> {
        self.ask(|tx| Command::Newest(signer, tx)).await
    }

    /// Gossip the gatekeeper dropped so far, by reason.
    pub async fn dropped(&self) -> Result<BTreeMap<&'static str, u64>, MeshError> {
        self.ask(Command::Dropped).await
    }
}

/// A request-response behaviour speaking weft's codec.
type Exchange<Req, Resp> = request_response::Behaviour<Codec<Req, Resp>>;

#[derive(NetworkBehaviour)]
struct Behaviour {
    blocked: allow_block_list::Behaviour<allow_block_list::BlockedPeers>,
    limits: connection_limits::Behaviour,
    identify: identify::Behaviour,
    ping: ping::Behaviour,
    gossipsub: gossipsub::Behaviour,
    sync: Exchange<SyncRequest, SyncResponse>,
    query: Exchange<QueryRequest, QueryResponse>,
    cluster: Exchange<ClusterRequest, ClusterResponse>,
    mdns: Toggle<mdns::tokio::Behaviour>,
    kademlia: Toggle<kad::Behaviour<kad::store::MemoryStore>>,
}

/// What the mesh serves to peers.
#[derive(Clone)]
pub struct Services {
    /// Chain ranges (`/weft/sync/1`).
    pub sync: Arc<dyn SyncSource>,
    /// Answers to questions (`/weft/query/1`).
    pub queries: Arc<dyn QueryService>,
    /// Calls of cluster members (`/weft/raft/1`).
    pub cluster: Arc<dyn ClusterService>,
}

impl Services {
    /// Serves chain ranges and refuses every question: for nodes (tests, benchmarks)
    /// that only replicate.
    pub fn sync_only(sync: Arc<dyn SyncSource>) -> Services {
        Services {
            sync,
            queries: Arc::new(crate::query::NoQueries),
            cluster: Arc::new(crate::cluster::NoCluster),
        }
    }
}

/// Starts the mesh on the current tokio runtime: listens, dials the configured
/// addresses, subscribes to the organisation's topics.
pub fn start(
    key: &NodeKey,
    config: MeshConfig,
    gatekeeper: Gatekeeper,
    services: Services,
) -> Result<(MeshHandle, mpsc::Receiver<MeshEvent>), MeshError> {
    let mut swarm = build_swarm(key, &config)?;
    for addr in &config.listen {
        swarm
            .listen_on(addr.clone())
            .map_err(|e| MeshError::Listen {
                addr: addr.clone(),
                reason: e.to_string(),
            })?;
    }
    let mut topics = HashMap::new();
    for topic in [Topic::Heads, Topic::Capabilities, Topic::Evidence] {
        let ident = gossipsub::IdentTopic::new(topic.name(&config.organisation));
        swarm
            .behaviour_mut()
            .gossipsub
            .subscribe(&ident)
            .map_err(|e| MeshError::Transport(format!("subscribe: {e}")))?;
        topics.insert(ident.hash(), topic);
    }
    let local = *swarm.local_peer_id();
    let (command_tx, commands) = mpsc::channel(256);
    let (event_tx, events) = mpsc::channel(1024);
    let (served_tx, served) = mpsc::channel(64);
    let (answered_tx, answered) = mpsc::channel(64);
    let (handled_tx, handled) = mpsc::channel(256);
    let event_loop = EventLoop {
        swarm,
        key: key.clone(),
        announced_ns: 0,
        topics,
        gatekeeper,
        services,
        commands,
        events: event_tx,
        served_tx,
        served,
        answered_tx,
        answered,
        handled_tx,
        handled,
        called: HashMap::new(),
        calls: InFlight::default(),
        asked: HashMap::new(),
        questions: InFlight::default(),
        dial: config.dial.into_iter().map(|a| (a, None)).collect(),
        pending: HashMap::new(),
        inbound: InFlight::default(),
        strikes: HashMap::new(),
        ignored: HashMap::new(),
        blocked_until: HashMap::new(),
        connected: HashMap::new(),
        listening: Vec::new(),
        bootstrapped: None,
    };
    tokio::spawn(event_loop.run());
    Ok((
        MeshHandle {
            commands: command_tx,
            local,
        },
        events,
    ))
}

/// The gossipsub message id of `data` on `topic` (the topic string, as
/// [`Topic::name`] writes it): SHAKE-256 of `topic ‖ 0x00 ‖ data`, 32 bytes.
/// Content-addressed: the same bytes are the same message whoever publishes them, so
/// relays and replayers cannot multiply one statement (a re-announcement is re-signed to
/// differ, [`MeshHandle::announce`]).
pub fn message_id(topic: &str, data: &[u8]) -> [u8; 32] {
    // The topic is the domain of weft's domain-separated hash: `topic ‖ 0x00 ‖ data`.
    weft_kernel::hash::domain_hash(topic, &[data]).0
}

/// The codec of `/weft/sync/1` (one CBOR item per stream direction, read to the end of
/// the stream, [`crate::codec`]) with the protocol's size limits. Public so that tests
/// and the protocol's examples encode with exactly what the wire uses.
pub fn sync_codec() -> Codec<SyncRequest, SyncResponse> {
    Codec::new(SYNC_REQUEST_LIMIT, SYNC_RESPONSE_LIMIT)
}

/// The codec of `/weft/raft/1` (as [`sync_codec`], with the cluster limits).
pub fn cluster_codec() -> Codec<ClusterRequest, ClusterResponse> {
    Codec::new(CLUSTER_REQUEST_LIMIT, CLUSTER_RESPONSE_LIMIT)
}

/// The codec of `/weft/query/1` (as [`sync_codec`], with the query limits).
pub fn query_codec() -> Codec<QueryRequest, QueryResponse> {
    Codec::new(QUERY_REQUEST_LIMIT, QUERY_RESPONSE_LIMIT)
}

/// The request-response behaviour of one `/weft/…` protocol: served and asked (full
/// support), each request failing after `timeout`, at most 64 streams per connection.
fn exchange<Req, Resp>(
    codec: Codec<Req, Resp>,
    protocol: &'static str,
    timeout: Duration,
) -> Exchange<Req, Resp>
where
    Req: Send + serde::Serialize + serde::de::DeserializeOwned + 'static,
    Resp: Send + serde::Serialize + serde::de::DeserializeOwned + 'static,
{
    request_response::Behaviour::with_codec(
        codec,
        [(
            StreamProtocol::new(protocol),
            request_response::ProtocolSupport::Full,
        )],
        request_response::Config::default()
            .with_request_timeout(timeout)
            .with_max_concurrent_streams(64),
    )
}

fn build_swarm(key: &NodeKey, config: &MeshConfig) -> Result<Swarm<Behaviour>, MeshError> {
    let transport = |e: &dyn std::fmt::Display| MeshError::Transport(e.to_string());
    let builder = libp2p::SwarmBuilder::with_existing_identity(crate::identity::keypair(key))
        .with_tokio()
        .with_tcp(
            tcp::Config::default().nodelay(true),
            noise::Config::new,
            yamux::Config::default,
        )
        .map_err(|e| transport(&e))?;
    let builder = builder.with_dns().map_err(|e| transport(&e))?;
    let swarm = builder
        .with_behaviour(|keypair| {
            let peer = keypair.public().to_peer_id();
            let gossip_config = gossipsub::ConfigBuilder::default()
                .validate_messages()
                .validation_mode(gossipsub::ValidationMode::Strict)
                .max_transmit_size(MAX_GOSSIP_BYTES + GOSSIP_FRAME_ALLOWANCE)
                .heartbeat_interval(GOSSIP_HEARTBEAT)
                .message_id_fn(|message: &gossipsub::Message| {
                    gossipsub::MessageId::from(
                        message_id(message.topic.as_str(), &message.data).to_vec(),
                    )
                })
                .build()
                .map_err(|e| format!("gossipsub config: {e}"))?;
            let gossipsub = gossipsub::Behaviour::new(
                gossipsub::MessageAuthenticity::Signed(keypair.clone()),
                gossip_config,
            )?;
            let sync = exchange(sync_codec(), SYNC_PROTOCOL, SYNC_TIMEOUT);
            let query = exchange(query_codec(), QUERY_PROTOCOL, QUERY_TIMEOUT);
            let cluster = exchange(cluster_codec(), CLUSTER_PROTOCOL, CLUSTER_TIMEOUT);
            let mdns = if config.mdns {
                Some(mdns::tokio::Behaviour::new(mdns::Config::default(), peer)?)
            } else {
                None
            };
            let kademlia = if config.kademlia {
                let protocol =
                    StreamProtocol::try_from_owned(format!("/weft/{}/kad/1", config.organisation))
                        .map_err(|e| format!("kademlia protocol name: {e}"))?;
                let mut kademlia = kad::Behaviour::with_config(
                    peer,
                    kad::store::MemoryStore::new(peer),
                    kad::Config::new(protocol),
                );
                // Answer queries from the start: an organisation's nodes are servers
                // for each other, confirmed external address or not.
                kademlia.set_mode(Some(kad::Mode::Server));
                Some(kademlia)
            } else {
                None
            };
            Ok(Behaviour {
                blocked: Default::default(),
                limits: connection_limits::Behaviour::new(
                    connection_limits::ConnectionLimits::default()
                        .with_max_established(Some(MAX_CONNECTIONS))
                        .with_max_established_incoming(Some(MAX_INCOMING))
                        .with_max_pending_incoming(Some(MAX_PENDING_INCOMING))
                        .with_max_established_per_peer(Some(MAX_CONNECTIONS_PER_PEER)),
                ),
                identify: identify::Behaviour::new(
                    identify::Config::new(IDENTIFY_PROTOCOL_VERSION.into(), keypair.public())
                        .with_agent_version(format!("weft/{}", env!("CARGO_PKG_VERSION"))),
                ),
                ping: ping::Behaviour::new(
                    ping::Config::new()
                        .with_interval(PING_EVERY)
                        .with_timeout(PING_TIMEOUT),
                ),
                gossipsub,
                sync,
                query,
                cluster,
                mdns: mdns.into(),
                kademlia: kademlia.into(),
            })
        })
        .map_err(|e| transport(&e))?
        .with_swarm_config(|c| c.with_idle_connection_timeout(Duration::from_secs(3600)))
        .build();
    Ok(swarm)
}

/// An answer computed on a blocking thread, on its way back to the asker.
type Served<R> = (PeerId, request_response::ResponseChannel<R>, R);

/// A request sent, waiting for its response.
type Pending<R> =
    HashMap<request_response::OutboundRequestId, (PeerId, oneshot::Sender<Result<R, MeshError>>)>;

/// Settles the outbound side of a request-response event (an answer or a failure goes
/// to whoever is waiting in `pending`) and hands back an inbound request to serve.
/// The in-flight count of an inbound request drops when its answer comes back from its
/// thread, which it always does, so inbound failures need nothing here.
fn settle<Req, R>(
    pending: &mut Pending<R>,
    event: request_response::Event<Req, R>,
    failed: fn(PeerId, String) -> MeshError,
) -> Option<(PeerId, Req, request_response::ResponseChannel<R>)> {
    use request_response::{Event, Message};
    match event {
        Event::Message {
            peer,
            message: Message::Request {
                request, channel, ..
            },
            ..
        } => return Some((peer, request, channel)),
        Event::Message {
            message:
                Message::Response {
                    request_id,
                    response,
                },
            ..
        } => {
            if let Some((_, reply)) = pending.remove(&request_id) {
                let _ = reply.send(Ok(response));
            }
        }
        Event::OutboundFailure {
            peer,
            request_id,
            error,
            ..
        } => {
            if let Some((_, reply)) = pending.remove(&request_id) {
                let _ = reply.send(Err(failed(peer, error.to_string())));
            }
        }
        Event::InboundFailure { .. } | Event::ResponseSent { .. } => {}
    }
    None
}

/// Inbound requests whose blocking work is running, per peer and in all. A count lives
/// until its work ends, whatever happens to the connection meanwhile: a peer that
/// reconnects does not get a fresh allowance while its earlier requests still run.
#[derive(Default)]
struct InFlight {
    per_peer: HashMap<PeerId, usize>,
    total: usize,
}

impl InFlight {
    /// Admits one more request of `peer` unless it has `per_peer` running, or all
    /// peers together `total`.
    fn admit(&mut self, peer: PeerId, per_peer: usize, total: usize) -> bool {
        let n = self.per_peer.entry(peer).or_default();
        if *n >= per_peer || self.total >= total {
            return false;
        }
        *n += 1;
        self.total += 1;
        true
    }

    /// One request of `peer` finished its work.
    fn release(&mut self, peer: &PeerId) {
        if let Some(n) = self.per_peer.get_mut(peer) {
            *n = n.saturating_sub(1);
            self.total = self.total.saturating_sub(1);
            if *n == 0 {
                self.per_peer.remove(peer);
            }
        }
    }
}

/// A peer's strikes, forgiven one per [`STRIKE_DECAY`] without a new one.
#[derive(Debug, Clone, Copy)]
struct Strikes {
    count: u32,
    last: Instant,
}

impl Strikes {
    /// Adds a strike at `now` after forgiving the time since the last; returns the count.
    fn add(entry: Option<&mut Strikes>, now: Instant) -> Strikes {
        let mut strikes = entry.map_or(
            Strikes {
                count: 0,
                last: now,
            },
            |s| *s,
        );
        let forgiven =
            now.saturating_duration_since(strikes.last).as_secs() / STRIKE_DECAY.as_secs().max(1);
        strikes.count = strikes
            .count
            .saturating_sub(u32::try_from(forgiven).unwrap_or(u32::MAX))
            .saturating_add(1);
        strikes.last = now;
        strikes
    }
}

struct EventLoop {
    swarm: Swarm<Behaviour>,
    /// Signs re-announcements of this node's head.
    key: NodeKey,
    /// `time_ns` of the last head announced: every announcement is later than the one
    /// before, so each is news to the gatekeepers that saw the one before.
    announced_ns: u64,
    topics: HashMap<gossipsub::TopicHash, Topic>,
    /// Only this loop judges gossip: nothing else holds the gatekeeper, so no lock is
    /// taken while untrusted bytes decode.
    gatekeeper: Gatekeeper,
    services: Services,
    commands: mpsc::Receiver<Command>,
    events: mpsc::Sender<MeshEvent>,
    served_tx: mpsc::Sender<Served<SyncResponse>>,
    served: mpsc::Receiver<Served<SyncResponse>>,
    answered_tx: mpsc::Sender<Served<QueryResponse>>,
    answered: mpsc::Receiver<Served<QueryResponse>>,
    handled_tx: mpsc::Sender<Served<ClusterResponse>>,
    handled: mpsc::Receiver<Served<ClusterResponse>>,
    /// Cluster calls sent, waiting for their answers.
    called: Pending<ClusterResponse>,
    /// Cluster calls being handled.
    calls: InFlight,
    /// Configured addresses, with the peer last reached there.
    dial: Vec<(Multiaddr, Option<PeerId>)>,
    pending: Pending<SyncResponse>,
    asked: Pending<QueryResponse>,
    /// Sync requests being served.
    inbound: InFlight,
    /// Questions being answered.
    questions: InFlight,
    strikes: HashMap<PeerId, Strikes>,
    /// Ignored gossip per peer in the current second: (second started, count).
    ignored: HashMap<PeerId, (Instant, u32)>,
    blocked_until: HashMap<PeerId, Instant>,
    connected: HashMap<PeerId, Multiaddr>,
    listening: Vec<Multiaddr>,
    /// When Kademlia last bootstrapped.
    bootstrapped: Option<Instant>,
}

impl EventLoop {
    async fn run(mut self) {
        for (addr, _) in self.dial.clone() {
            let _ = self.swarm.dial(addr);
        }
        let mut redial = tokio::time::interval(REDIAL_EVERY);
        loop {
            tokio::select! {
                event = self.swarm.select_next_some() => self.on_swarm(event).await,
                command = self.commands.recv() => match command {
                    Some(command) => {
                        if let Some(event) = self.on_command(command) {
                            self.emit(event).await;
                        }
                    }
                    // Every handle is gone: the node is shutting down.
                    None => return,
                },
                Some((peer, channel, response)) = self.served.recv() => {
                    self.inbound.release(&peer);
                    let _ = self.swarm.behaviour_mut().sync.send_response(channel, response);
                }
                Some((peer, channel, response)) = self.answered.recv() => {
                    self.questions.release(&peer);
                    let _ = self.swarm.behaviour_mut().query.send_response(channel, response);
                }
                Some((peer, channel, response)) = self.handled.recv() => {
                    self.calls.release(&peer);
                    let _ = self.swarm.behaviour_mut().cluster.send_response(channel, response);
                }
                _ = redial.tick() => self.redial(),
            }
        }
    }

    fn redial(&mut self) {
        let now = Instant::now();
        let expired: Vec<PeerId> = self
            .blocked_until
            .iter()
            .filter(|(_, until)| **until <= now)
            .map(|(peer, _)| *peer)
            .collect();
        for peer in expired {
            self.blocked_until.remove(&peer);
            self.strikes.remove(&peer);
            self.swarm.behaviour_mut().blocked.unblock_peer(peer);
        }
        for (addr, peer) in &self.dial {
            let up = peer.is_some_and(|p| self.swarm.is_connected(&p));
            if !up {
                let _ = self.swarm.dial(addr.clone());
            }
        }
    }

    /// Carries out a command; an event it gives rise to is returned for emitting.
    fn on_command(&mut self, command: Command) -> Option<MeshEvent> {
        match command {
            Command::Publish(topic, data, reply) => {
                let _ = reply.send(self.publish(topic, data));
            }
            Command::Announce(head) => self.announce(&head),
            Command::Sync(peer, request, reply) => {
                let id = self.swarm.behaviour_mut().sync.send_request(&peer, request);
                self.pending.insert(id, (peer, reply));
            }
            Command::Query(peer, addr, request, reply) => {
                if let Err(reason) = request.check() {
                    let _ = reply.send(Err(MeshError::Query { peer, reason }));
                    return None;
                }
                if let Some(addr) = addr {
                    self.swarm.add_peer_address(peer, addr);
                }
                let id = self
                    .swarm
                    .behaviour_mut()
                    .query
                    .send_request(&peer, request);
                self.asked.insert(id, (peer, reply));
            }
            Command::Cluster(peer, addr, request, reply) => {
                if let Some(addr) = addr {
                    self.swarm.add_peer_address(peer, addr);
                }
                let id = self
                    .swarm
                    .behaviour_mut()
                    .cluster
                    .send_request(&peer, request);
                self.called.insert(id, (peer, reply));
            }
            Command::Strike(peer, reason) => self.strike(peer, reason),
            Command::Panic => panic!("fault injection: the mesh's task was told to panic"),
            Command::Peers(reply) => {
                let mut peers: Vec<PeerLink> = self
                    .connected
                    .iter()
                    .map(|(peer, addr)| PeerLink {
                        peer: *peer,
                        addr: addr.clone(),
                    })
                    .collect();
                peers.sort_by_key(|p| p.peer.to_base58());
                let _ = reply.send(peers);
            }
            Command::Listening(reply) => {
                let _ = reply.send(self.listening.clone());
            }
            Command::Dial(addr) => {
                let _ = self.swarm.dial(addr);
            }
            Command::SetTrust(trust) => self.gatekeeper.set_trust(trust),
            Command::Observe(head) => {
                return self
                    .gatekeeper
                    .observe(&head)
                    .map(|evidence| MeshEvent::Conflict(Box::new(evidence)));
            }
            Command::Dropped(reply) => {
                let _ = reply.send(self.gatekeeper.dropped().clone());
            }
            Command::Newest(signer, reply) => {
                let _ = reply.send(self.gatekeeper.newest(&signer).cloned());
            }
        }
        None
    }

    fn publish(&mut self, topic: Topic, data: Vec<u8>) -> Result<(), String> {
        if data.len() > MAX_GOSSIP_BYTES {
            return Err(format!(
                "{} bytes exceed the gossip limit of {MAX_GOSSIP_BYTES}",
                data.len()
            ));
        }
        // Every topic was subscribed at start, so the hash is always there.
        let Some(hash) = self
            .topics
            .iter()
            .find(|(_, t)| **t == topic)
            .map(|(hash, _)| hash.clone())
        else {
            return Err(format!("not subscribed to {topic:?}"));
        };
        match self.swarm.behaviour_mut().gossipsub.publish(hash, data) {
            Ok(_)
            | Err(gossipsub::PublishError::Duplicate)
            | Err(gossipsub::PublishError::NoPeersSubscribedToTopic) => Ok(()),
            Err(e) => Err(e.to_string()),
        }
    }

    /// Publishes this node's head, re-signed at a later time unless it is newer than
    /// every announcement so far (see [`MeshHandle::announce`]).
    fn announce(&mut self, head: &SignedHead) {
        if head.signer != self.key.public_key() {
            tracing::warn!(
                seq = head.seq,
                "not announcing a head signed by another key"
            );
            return;
        }
        let head = if head.time_ns > self.announced_ns {
            head.clone()
        } else {
            let time_ns = weft_kernel::chain::now_ns().max(self.announced_ns.saturating_add(1));
            reannounced(head, &self.key, time_ns)
        };
        self.announced_ns = head.time_ns;
        if let Err(e) = self.publish(Topic::Heads, head.encode()) {
            tracing::warn!(error = %e, "announcing the head");
        }
    }

    fn count_ignored(&mut self, peer: PeerId, why: &str) {
        let now = Instant::now();
        let window = self.ignored.entry(peer).or_insert((now, 0));
        if now.duration_since(window.0) >= Duration::from_secs(1) {
            *window = (now, 0);
        }
        window.1 += 1;
        if window.1 == IGNORED_PER_SECOND + 1 {
            self.strike(peer, format!("more than {IGNORED_PER_SECOND}/s of: {why}"));
        }
    }

    fn strike(&mut self, peer: PeerId, reason: String) {
        let strikes = Strikes::add(self.strikes.get_mut(&peer), Instant::now());
        self.strikes.insert(peer, strikes);
        if strikes.count < STRIKES_TO_BLOCK || self.blocked_until.contains_key(&peer) {
            return;
        }
        tracing::warn!(%peer, %reason, "blocking a peer that keeps failing checks");
        self.blocked_until.insert(peer, Instant::now() + BLOCK_FOR);
        self.swarm.behaviour_mut().blocked.block_peer(peer);
        let _ = self.events.try_send(MeshEvent::Blocked { peer, reason });
    }

    /// Waits for room in the node's queue (gossip is not dropped when the node lags;
    /// gossipsub's own queues bound what waits behind it). The future owns its sender,
    /// so it borrows nothing of the loop across the await.
    fn emit(&self, event: MeshEvent) -> impl std::future::Future<Output = ()> + Send + 'static {
        let events = self.events.clone();
        async move {
            let _ = events.send(event).await;
        }
    }

    async fn on_swarm(&mut self, event: SwarmEvent<BehaviourEvent>) {
        match event {
            SwarmEvent::NewListenAddr { address, .. } => {
                self.listening.push(address.clone());
                self.emit(MeshEvent::Listening(address)).await;
            }
            SwarmEvent::ConnectionEstablished {
                peer_id,
                endpoint,
                num_established,
                ..
            } => {
                let addr = endpoint.get_remote_address().clone();
                if let Some(entry) = self.dial.iter_mut().find(|(a, _)| *a == addr) {
                    entry.1 = Some(peer_id);
                }
                if num_established.get() == 1 {
                    self.connected.insert(peer_id, addr.clone());
                    self.emit(MeshEvent::Connected {
                        peer: peer_id,
                        addr,
                    })
                    .await;
                }
            }
            SwarmEvent::ConnectionClosed {
                peer_id,
                num_established: 0,
                ..
            } => {
                // In-flight counts stay until their work ends (see InFlight).
                self.connected.remove(&peer_id);
                self.ignored.remove(&peer_id);
                self.emit(MeshEvent::Disconnected { peer: peer_id }).await;
            }
            SwarmEvent::Behaviour(event) => self.on_behaviour(event).await,
            _ => {}
        }
    }

    async fn on_behaviour(&mut self, event: BehaviourEvent) {
        match event {
            BehaviourEvent::Gossipsub(gossipsub::Event::Message {
                propagation_source,
                message_id,
                message,
            }) => {
                self.on_gossip(propagation_source, message_id, message)
                    .await
            }
            BehaviourEvent::Gossipsub(gossipsub::Event::Subscribed { peer_id, topic, .. })
                if self
                    .topics
                    .get(&topic)
                    .is_some_and(|t| *t == Topic::Capabilities) =>
            {
                self.emit(MeshEvent::Subscribed { peer: peer_id }).await
            }
            BehaviourEvent::Sync(event) => self.on_sync(event),
            BehaviourEvent::Query(event) => self.on_query(event),
            BehaviourEvent::Cluster(event) => self.on_cluster(event),
            BehaviourEvent::Ping(ping::Event {
                peer,
                connection,
                result: Err(error),
            }) => {
                tracing::debug!(%peer, %error, "ping failed; closing the connection");
                self.swarm.close_connection(connection);
            }
            BehaviourEvent::Identify(identify::Event::Received { peer_id, info, .. }) => {
                let due = self
                    .bootstrapped
                    .is_none_or(|at| at.elapsed() >= BOOTSTRAP_GAP);
                if let Some(kad) = self.swarm.behaviour_mut().kademlia.as_mut() {
                    for addr in info.listen_addrs {
                        kad.add_address(&peer_id, addr);
                    }
                    // A lookup of our own id through the new peer finds its neighbours.
                    if due && kad.bootstrap().is_ok() {
                        self.bootstrapped = Some(Instant::now());
                    }
                }
            }
            BehaviourEvent::Mdns(mdns::Event::Discovered(found)) => {
                let known: HashSet<PeerId> = self.connected.keys().copied().collect();
                for (peer, addr) in found {
                    if !known.contains(&peer) {
                        let _ = self.swarm.dial(addr);
                    }
                }
            }
            BehaviourEvent::Kademlia(kad::Event::RoutingUpdated { peer, .. })
                if !self.swarm.is_connected(&peer) =>
            {
                let _ = self.swarm.dial(peer);
            }
            _ => {}
        }
    }

    async fn on_gossip(
        &mut self,
        source: PeerId,
        id: gossipsub::MessageId,
        message: gossipsub::Message,
    ) {
        let Some(topic) = self.topics.get(&message.topic) else {
            return;
        };
        let verdict = self.gatekeeper.check(*topic, &message.data);
        let acceptance = match &verdict {
            Verdict::Accept(_) => gossipsub::MessageAcceptance::Accept,
            Verdict::Reject(_) => gossipsub::MessageAcceptance::Reject,
            Verdict::Ignore(_) | Verdict::Conflict(_) => gossipsub::MessageAcceptance::Ignore,
        };
        self.swarm
            .behaviour_mut()
            .gossipsub
            .report_message_validation_result(&id, &source, acceptance);
        match verdict {
            Verdict::Accept(accepted) => {
                self.emit(MeshEvent::Gossip {
                    from: source,
                    accepted,
                })
                .await
            }
            Verdict::Conflict(evidence) => self.emit(MeshEvent::Conflict(evidence)).await,
            Verdict::Reject(why) => self.strike(source, why.to_string()),
            Verdict::Ignore(why) => self.count_ignored(source, why),
        }
    }

    fn on_sync(&mut self, event: request_response::Event<SyncRequest, SyncResponse>) {
        let Some((peer, request, channel)) = settle(&mut self.pending, event, |peer, reason| {
            MeshError::Sync { peer, reason }
        }) else {
            return;
        };
        if !self
            .inbound
            .admit(peer, MAX_INBOUND_PER_PEER, MAX_INBOUND_TOTAL)
        {
            let busy = SyncResponse::Refused {
                reason: format!(
                    "busy: {MAX_INBOUND_PER_PEER} requests of yours or {MAX_INBOUND_TOTAL} in all in flight"
                ),
            };
            let _ = self.swarm.behaviour_mut().sync.send_response(channel, busy);
            return;
        }
        let source = self.services.sync.clone();
        let served = self.served_tx.clone();
        tokio::task::spawn_blocking(move || {
            let response = source.serve(&peer, &request.capped());
            let _ = served.blocking_send((peer, channel, response));
        });
    }

    fn on_cluster(&mut self, event: request_response::Event<ClusterRequest, ClusterResponse>) {
        let Some((peer, request, channel)) = settle(&mut self.called, event, |peer, reason| {
            MeshError::Cluster { peer, reason }
        }) else {
            return;
        };
        if !self
            .calls
            .admit(peer, MAX_CLUSTER_PER_PEER, MAX_CLUSTER_TOTAL)
        {
            let busy = ClusterResponse::Refused {
                reason: format!(
                    "busy: {MAX_CLUSTER_PER_PEER} calls of yours or {MAX_CLUSTER_TOTAL} in all in flight"
                ),
            };
            let _ = self
                .swarm
                .behaviour_mut()
                .cluster
                .send_response(channel, busy);
            return;
        }
        let service = self.services.cluster.clone();
        let handled = self.handled_tx.clone();
        tokio::spawn(async move {
            // A handler that panics still answers and frees its slot.
            let response = std::panic::AssertUnwindSafe(service.handle(peer, request))
                .catch_unwind()
                .await
                .unwrap_or_else(|_| ClusterResponse::Refused {
                    reason: "the call's handler failed".into(),
                });
            let _ = handled.send((peer, channel, response)).await;
        });
    }

    fn on_query(&mut self, event: request_response::Event<QueryRequest, QueryResponse>) {
        let Some((peer, request, channel)) = settle(&mut self.asked, event, |peer, reason| {
            MeshError::Query { peer, reason }
        }) else {
            return;
        };
        let refuse = |reason: String| QueryResponse::Refused { reason };
        let refused = match request.check() {
            Err(reason) => Some(refuse(reason)),
            Ok(())
                if !self
                    .questions
                    .admit(peer, MAX_QUERIES_PER_PEER, MAX_QUERIES_TOTAL) =>
            {
                Some(refuse(format!(
                    "busy: {MAX_QUERIES_PER_PEER} questions of yours or {MAX_QUERIES_TOTAL} in all in flight"
                )))
            }
            Ok(()) => None,
        };
        if let Some(response) = refused {
            let _ = self
                .swarm
                .behaviour_mut()
                .query
                .send_response(channel, response);
            return;
        }
        let service = self.services.queries.clone();
        let answered = self.answered_tx.clone();
        tokio::task::spawn_blocking(move || {
            let response = service.answer(&peer, &request);
            let _ = answered.blocking_send((peer, channel, response));
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn in_flight_work_is_capped_per_peer_and_in_all_until_it_ends() {
        let mut work = InFlight::default();
        let (a, b) = (PeerId::random(), PeerId::random());
        assert!(work.admit(a, 2, 3));
        assert!(work.admit(a, 2, 3));
        assert!(!work.admit(a, 2, 3), "per-peer cap");
        assert!(work.admit(b, 2, 3));
        assert!(!work.admit(b, 2, 3), "global cap, though b has room");
        // Only finished work frees a slot: nothing resets a peer's count.
        work.release(&a);
        assert!(work.admit(b, 2, 3));
        assert_eq!(work.total, 3);
        work.release(&PeerId::random());
        assert_eq!(
            work.total, 3,
            "releasing a peer with nothing running changes nothing"
        );
    }

    #[test]
    fn strikes_decay_one_per_quiet_period() {
        let t0 = Instant::now();
        let mut strikes = Strikes::add(None, t0);
        for _ in 1..STRIKES_TO_BLOCK - 1 {
            strikes = Strikes::add(Some(&mut strikes), t0);
        }
        assert_eq!(strikes.count, STRIKES_TO_BLOCK - 1);
        let later = t0 + STRIKE_DECAY * 10;
        let strikes = Strikes::add(Some(&mut strikes.clone()), later);
        assert_eq!(strikes.count, STRIKES_TO_BLOCK - 1 - 10 + 1);
        let much_later = later + STRIKE_DECAY * 1000;
        assert_eq!(
            Strikes::add(Some(&mut strikes.clone()), much_later).count,
            1
        );
    }
}
