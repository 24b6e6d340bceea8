//! The peer book: every peer this node follows, what it knows of each (key, address,
//! newest head, advert, flags) and its read-only replica under `.weftos/peers/<name>/`.
//!
//! The trust set is built here: peers listed with a peer id, plus peers whose key is read
//! from a listed local path's `.weftos/identity.json`, as far as the trust pins
//! ([`crate::pins`]) accept them. Under a confirmed `[network] trust = "open"` any signer
//! is followed, under a name derived from its key.

use crate::config::WeaveConfig;
use crate::engine::Node;
use crate::identity::read_runtime;
use crate::layout::Layout;
use crate::pins::{Pins, Verdict};
use crate::NodeError;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;
use weft_kernel::head::SignedHead;
use weft_kernel::keys::fingerprint;
use weft_kernel::replica::Replica;
use weft_kernel::{Hash, Store};
use weft_net::gatekeeper::Trust;
use weft_net::wire::{Advert, Evidence};
use weft_net::{Multiaddr, PeerId};

/// Strangers followed at most under open trust: each may get a replica store.
pub const MAX_STRANGERS: usize = 64;

/// The name of a stranger followed under open trust: its whole key, in lowercase
/// base32 (56 characters, a valid peer name and directory name).
pub fn stranger_name(key: &[u8; 32]) -> String {
    format!(
        "key-{}",
        data_encoding::BASE32_NOPAD.encode(key).to_ascii_lowercase()
    )
}

/// What `weft peers` flags about a peer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum PeerFlag {
    /// The mesh blocked it for sending garbage.
    Blocked,
    /// Its key signed two histories (the evidence is kept).
    Equivocation,
    /// Its repository's identity names another key than the configured one.
    KeyMismatch,
    /// Its key differs from the pinned one, which stays trusted until `weft peers trust`.
    KeyChanged,
    /// weave.toml added it after trust was pinned: not followed until `weft peers trust`.
    Unconfirmed,
    /// Its replica could not be opened or created.
    ReplicaError,
}

impl PeerFlag {
    /// The flag as `weft peers` prints it.
    pub fn as_str(self) -> &'static str {
        match self {
            PeerFlag::Blocked => "blocked",
            PeerFlag::Equivocation => "equivocation",
            PeerFlag::KeyMismatch => "key-mismatch",
            PeerFlag::KeyChanged => "key-changed",
            PeerFlag::Unconfirmed => "unconfirmed",
            PeerFlag::ReplicaError => "replica-error",
        }
    }
}

/// One followed peer.
#[derive(Debug)]
pub struct Peer {
    /// Name (from the configuration, or [`stranger_name`] for an open org's stranger).
    pub name: String,
    /// Local path of its repository, when configured.
    pub path: Option<PathBuf>,
    /// Address to dial (configured, or read from the path's running node).
    pub addr: Option<Multiaddr>,
    /// Further addresses serving the same chain (a cluster's other members), dialled
    /// too while none is connected.
    pub more_addrs: Vec<Multiaddr>,
    /// Its Ed25519 key as followed: known and accepted by the pins.
    pub public_key: Option<[u8; 32]>,
    /// Followed under open trust, not named by the configuration.
    pub stranger: bool,
    /// The key the configuration gives it now (may wait for confirmation).
    pub proposed_key: Option<[u8; 32]>,
    /// Address of the live connection.
    pub connected: Option<Multiaddr>,
    /// Whom that connection reaches: the peer itself or one of its cluster's members.
    pub connected_id: Option<PeerId>,
    /// When a cluster replicates its chain: the other keys the replica's newest signer
    /// set authorises, whose heads and adverts are this peer's too (read from the
    /// replicated chain itself, so only what the chain's own history installed).
    pub members: BTreeSet<[u8; 32]>,
    /// The last head the mesh's gatekeeper passed for it (the gatekeeper alone decides
    /// which head is a signer's newest; this copy serves status and sync decisions
    /// without a round trip to the mesh).
    pub head: Option<SignedHead>,
    /// Newest advert.
    pub advert: Option<Advert>,
    /// Flags shown by `weft peers`.
    pub flags: BTreeSet<PeerFlag>,
    /// The last sync or resolution failure.
    pub last_error: Option<String>,
    /// The replica, once the key is known.
    pub replica: Option<Arc<Replica>>,
    /// A sync task is running.
    pub syncing: bool,
    /// The head last written to the tree (so unchanged heads are not re-recorded).
    pub recorded: Option<(u64, Hash)>,
    /// When its head was last witnessed on our chain.
    pub witnessed: Option<Instant>,
}

/// What `weft peers` shows of one peer.
#[derive(Debug, Clone, Serialize)]
pub struct PeerStatus {
    /// Name.
    pub name: String,
    /// Peer id (base58), when known.
    pub peer_id: Option<String>,
    /// Address (the live connection's, else the configured one).
    pub addr: Option<String>,
    /// Whether a connection is up.
    pub connected: bool,
    /// Newest head seen: sequence and hash.
    pub head: Option<HeadSummary>,
    /// Events in the local replica.
    pub replica_length: u64,
    /// Events the replica lacks behind the newest head seen.
    pub lag: u64,
    /// Flags.
    pub flags: Vec<PeerFlag>,
    /// The last failure, if any.
    pub last_error: Option<String>,
    /// Project name from its advert.
    pub project: Option<String>,
    /// The start-up calibration its advert carries (absent figures left out).
    pub calibration: Option<weft_net::wire::Calibration>,
}

/// A head, briefly.
#[derive(Debug, Clone, Serialize)]
pub struct HeadSummary {
    /// Sequence.
    pub seq: u64,
    /// Event hash (hex).
    pub hash: String,
    /// Fingerprint of the key that signed it (one of the members, for a cluster's chain).
    pub signer: String,
}

impl Peer {
    fn new(name: String) -> Peer {
        Peer {
            name,
            path: None,
            addr: None,
            more_addrs: Vec::new(),
            public_key: None,
            stranger: false,
            proposed_key: None,
            connected: None,
            connected_id: None,
            members: BTreeSet::new(),
            head: None,
            advert: None,
            flags: BTreeSet::new(),
            last_error: None,
            replica: None,
            syncing: false,
            recorded: None,
            witnessed: None,
        }
    }

    /// Its peer id, once its key is known.
    pub fn peer_id(&self) -> Option<PeerId> {
        self.public_key
            .as_ref()
            .and_then(weft_net::identity::peer_id)
    }

    /// Whether `key` speaks for this peer: its own, or a member key of its cluster.
    pub fn holds(&self, key: &[u8; 32]) -> bool {
        self.public_key.as_ref() == Some(key) || self.members.contains(key)
    }

    /// Every peer id that serves this peer's chain (its own first).
    pub fn peer_ids(&self) -> impl Iterator<Item = PeerId> + '_ {
        self.public_key
            .iter()
            .chain(self.members.iter())
            .filter_map(weft_net::identity::peer_id)
    }

    /// Re-reads the member keys from the replica's newest signer set.
    pub fn refresh_members(&mut self) {
        let signers = self.replica.as_ref().map(|r| r.chain().signers());
        self.members = signers
            .and_then(|s| s.changes().last().map(|(_, keys)| keys.clone()))
            .unwrap_or_default();
        if let Some(own) = self.public_key {
            self.members.remove(&own);
        }
    }

    /// Events in the replica.
    pub fn replica_len(&self) -> u64 {
        self.replica.as_ref().map_or(0, |r| r.len())
    }

    /// The newest head: gossip's or the replica's verified one.
    pub fn newest_head(&self) -> Option<SignedHead> {
        let verified = self
            .replica
            .as_ref()
            .and_then(|r| r.verified_head().ok().flatten());
        match (&self.head, verified) {
            (Some(h), Some(v)) if v.seq > h.seq => Some(v),
            (Some(h), _) => Some(h.clone()),
            (None, v) => v,
        }
    }

    /// The status line.
    pub fn status(&self) -> PeerStatus {
        let head = self.newest_head();
        let len = self.replica_len();
        PeerStatus {
            name: self.name.clone(),
            peer_id: self.peer_id().map(|p| p.to_base58()),
            addr: self
                .connected
                .as_ref()
                .or(self.addr.as_ref())
                .map(|a| a.to_string()),
            connected: self.connected.is_some(),
            lag: head.as_ref().map_or(0, |h| h.size().saturating_sub(len)),
            head: head.map(|h| HeadSummary {
                seq: h.seq,
                hash: h.head_hash.to_hex(),
                signer: fingerprint(&h.signer),
            }),
            replica_length: len,
            flags: self.flags.iter().copied().collect(),
            last_error: self.last_error.clone(),
            project: self.advert.as_ref().map(|a| a.project.clone()),
            calibration: self.advert.as_ref().and_then(|a| a.calibration),
        }
    }
}

/// Every followed peer.
#[derive(Debug)]
pub struct PeerBook {
    layout: Layout,
    /// Whether missing replica stores are created (the daemon) or left absent (a query).
    create: bool,
    open: bool,
    own: [u8; 32],
    peers: BTreeMap<String, Peer>,
    pins: Pins,
    /// The stranger cap was reached (warned once).
    strangers_full: bool,
    /// What `weft peers` reports of the book as a whole (an unconfirmed widening).
    notices: Vec<String>,
}

impl PeerBook {
    /// The peers of `node`'s configuration, with their replicas opened (created when
    /// `create`, else only those that exist) and flags restored from kept evidence.
    pub fn load(node: &Node, create: bool) -> Result<PeerBook, NodeError> {
        let mut book = PeerBook {
            layout: node.layout().clone(),
            create,
            open: false,
            own: node.key()?.public_key(),
            peers: BTreeMap::new(),
            pins: Pins::load(&node.layout().peers())?,
            strangers_full: false,
            notices: Vec::new(),
        };
        book.configure(node.config(), &node.layout().root);
        book.restore_flags();
        Ok(book)
    }

    /// Applies a (re)loaded configuration: adds, updates and drops configured peers and
    /// re-reads keys and addresses of path peers.
    pub fn configure(&mut self, config: &WeaveConfig, root: &Path) {
        let wants_open = config.network.trust == crate::config::TrustMode::Open;
        self.open = self.pins.judge_open(wants_open);
        self.notices.clear();
        if wants_open && !self.open {
            self.notices.push(
                "weave.toml sets [network] trust = \"open\", which this node has not accepted: it follows only its listed peers until you confirm with `weft peers trust --open`".into(),
            );
        }
        let listed: HashSet<&str> = config
            .coordination
            .peers
            .iter()
            .map(|p| p.name.as_str())
            .collect();
        if !self.open {
            self.peers.retain(|name, _| listed.contains(name.as_str()));
        }
        for spec in &config.coordination.peers {
            let (layout, create) = (self.layout.clone(), self.create);
            let peer = self
                .peers
                .entry(spec.name.clone())
                .or_insert_with(|| Peer::new(spec.name.clone()));
            peer.path = spec.path.as_ref().map(|p| root.join(p));
            peer.addr = spec.addr.as_ref().map(|a| a.multiaddr().clone());
            peer.more_addrs = spec.addrs.iter().map(|a| a.multiaddr().clone()).collect();
            peer.proposed_key = proposed_key(spec.peer_id, peer);
            let verdict = self.pins.judge(&spec.name, peer.proposed_key);
            apply_verdict(peer, &verdict);
            follow_key(&layout, peer, verdict.key(), create);
        }
        self.pins.settle();
        // Saved by queries too: the first look at the peers is their first use.
        if let Err(e) = self.pins.save() {
            tracing::warn!(error = %e, "saving the trust pins");
        }
    }

    /// Accepts the key the configuration now gives peer `name` (`weft peers trust
    /// NAME`), or, with no name, `trust = "open"`; returns the key accepted.
    pub fn confirm(&mut self, name: Option<&str>) -> Result<Option<[u8; 32]>, NodeError> {
        let Some(name) = name else {
            self.pins.confirm_open(true);
            self.pins.save()?;
            self.open = true;
            self.notices.clear();
            return Ok(None);
        };
        let peer = self.peers.get_mut(name).ok_or_else(|| {
            NodeError::Input(format!(
                "no peer named `{name}` in weave.toml: `weft peers` lists them"
            ))
        })?;
        let key = peer.proposed_key;
        self.pins.pin(name, key);
        self.pins.save()?;
        apply_verdict(peer, &Verdict::Trusted(key));
        follow_key(&self.layout, peer, key, self.create);
        Ok(key)
    }

    /// Records the user's own addition of a peer ([`Pins::accept`]).
    pub fn accept(&mut self, name: &str, key: Option<[u8; 32]>) -> Result<(), NodeError> {
        self.pins.accept(name, key)
    }

    /// What concerns the book as a whole (an unconfirmed switch to open trust).
    pub fn notices(&self) -> &[String] {
        &self.notices
    }

    fn restore_flags(&mut self) {
        let Ok(entries) = std::fs::read_dir(self.layout.evidence()) else {
            return;
        };
        for entry in entries.flatten() {
            let Ok(bytes) = std::fs::read(entry.path()) else {
                continue;
            };
            if let Ok(found) = Evidence::decode_verified(&bytes) {
                if let Some(peer) = self.by_key_mut(&found.signer) {
                    peer.flags.insert(PeerFlag::Equivocation);
                }
            }
        }
    }

    /// The trust set for the gatekeeper.
    pub fn trust(&self) -> Trust {
        if self.open {
            return Trust::Open;
        }
        Trust::Listed(
            self.peers
                .values()
                .flat_map(|p| p.public_key.iter().chain(p.members.iter()).copied())
                .collect(),
        )
    }

    /// Whether `key`'s messages and requests are accepted (the trust set holds it).
    pub fn trusts(&self, key: &[u8; 32]) -> bool {
        self.open || self.peers.values().any(|p| p.holds(key))
    }

    /// All peers, by name.
    pub fn peers(&self) -> impl Iterator<Item = &Peer> {
        self.peers.values()
    }

    /// Marks each peer connected or not from the mesh's live connections (a peer can
    /// connect before the configuration names it).
    pub fn set_connections(&mut self, links: &HashMap<PeerId, Multiaddr>) {
        for peer in self.peers.values_mut() {
            let link = peer
                .peer_ids()
                .find_map(|id| links.get(&id).map(|addr| (id, addr.clone())));
            peer.connected_id = link.as_ref().map(|(id, _)| *id);
            peer.connected = link.map(|(_, addr)| addr);
        }
    }

    /// One peer.
    pub fn get_mut(&mut self, name: &str) -> Option<&mut Peer> {
        self.peers.get_mut(name)
    }

    /// The peer holding `key`, as its own or as a member key of its cluster (a key of
    /// its own comes first: a configured peer is never shadowed by another's member).
    pub fn by_key_mut(&mut self, key: &[u8; 32]) -> Option<&mut Peer> {
        let name = self
            .peers
            .values()
            .find(|p| p.public_key.as_ref() == Some(key))
            .or_else(|| self.peers.values().find(|p| p.members.contains(key)))?
            .name
            .clone();
        self.peers.get_mut(&name)
    }

    /// The peer holding `key`; in an open organisation a stranger is added, at most
    /// [`MAX_STRANGERS`] of them. A stranger's replica is opened if one exists, but a
    /// new one is created only once a sync response proved its history
    /// ([`PeerBook::create_replica`]): a key alone costs no store.
    pub fn follow(&mut self, key: &[u8; 32]) -> Option<&mut Peer> {
        if *key == self.own {
            return None;
        }
        if self.by_key_mut(key).is_none() && self.open {
            let strangers = self.peers.values().filter(|p| p.stranger).count();
            if strangers >= MAX_STRANGERS {
                if !self.strangers_full {
                    tracing::warn!(
                        limit = MAX_STRANGERS,
                        "open trust: not following more strangers"
                    );
                    self.strangers_full = true;
                }
                return None;
            }
            let name = stranger_name(key);
            let mut peer = Peer::new(name.clone());
            peer.public_key = Some(*key);
            peer.stranger = true;
            open_replica(&self.layout, &mut peer, false);
            self.peers.insert(name, peer);
        }
        self.by_key_mut(key)
    }

    /// Creates the replica of peer `name` (a stranger whose history a sync proved).
    pub fn create_replica(&mut self, name: &str) {
        let layout = self.layout.clone();
        if let Some(peer) = self.peers.get_mut(name) {
            open_replica(&layout, peer, self.create);
        }
    }

    /// Where evidence files go.
    pub fn evidence_dir(&self) -> PathBuf {
        self.layout.evidence()
    }

    /// Status of every peer.
    pub fn statuses(&self) -> Vec<PeerStatus> {
        self.peers.values().map(Peer::status).collect()
    }
}

/// The key the configuration gives a peer ([`crate::pins::propose`]), with a mismatch
/// between its peer id and its path's identity flagged; fills in the address a running
/// path peer publishes.
fn proposed_key(
    configured: Option<crate::config::ConfiguredPeerId>,
    peer: &mut Peer,
) -> Option<[u8; 32]> {
    let proposal = crate::pins::propose(configured, peer.path.as_deref());
    let Some(path) = &peer.path else {
        return proposal.key;
    };
    if let Some(held) = proposal.mismatch {
        peer.flags.insert(PeerFlag::KeyMismatch);
        peer.last_error = Some(format!(
            "{} holds key {}, the configured peer_id names another",
            path.display(),
            fingerprint(&held)
        ));
    }
    if let Some(e) = proposal.unreadable {
        peer.last_error = Some(e);
    }
    if peer.addr.is_none() {
        peer.addr = read_runtime(path).and_then(|r| r.dial_addr());
    }
    proposal.key
}

/// Flags a peer whose proposed key the pins refuse, and clears the flags once accepted.
fn apply_verdict(peer: &mut Peer, verdict: &Verdict) {
    peer.flags.remove(&PeerFlag::KeyChanged);
    peer.flags.remove(&PeerFlag::Unconfirmed);
    match verdict {
        Verdict::Trusted(_) => return,
        Verdict::Changed { .. } => peer.flags.insert(PeerFlag::KeyChanged),
        Verdict::Unconfirmed => peer.flags.insert(PeerFlag::Unconfirmed),
    };
    peer.last_error = verdict.refusal(&peer.name);
}

/// Follows `key` for the peer (a new key drops the replica of the old one).
fn follow_key(layout: &Layout, peer: &mut Peer, key: Option<[u8; 32]>, create: bool) {
    if peer.public_key != key {
        peer.public_key = key;
        peer.replica = None;
        peer.members.clear();
    }
    open_replica(layout, peer, create);
}

fn open_replica(layout: &Layout, peer: &mut Peer, create: bool) {
    let Some(key) = peer.public_key else {
        return;
    };
    if peer.replica.is_some() {
        return;
    }
    let dir = layout.peer(&peer.name);
    let store = if dir.join("CURRENT").exists() {
        Store::open(&dir)
    } else if !create {
        return;
    } else {
        std::fs::create_dir_all(layout.peers())
            .map_err(|e| weft_kernel::store::StoreError::Io {
                path: dir.clone(),
                source: e,
            })
            .and_then(|_| Store::create(&dir))
    };
    match store
        .map_err(|e| e.to_string())
        .and_then(|store| Replica::open(Arc::new(store), key).map_err(|e| e.to_string()))
    {
        Ok(replica) => {
            peer.replica = Some(Arc::new(replica));
            // What the replica already verified says who else signs for this peer.
            peer.refresh_members();
        }
        Err(e) => {
            peer.flags.insert(PeerFlag::ReplicaError);
            peer.last_error = Some(format!("replica {}: {e}", dir.display()));
        }
    }
}

/// A peer's replicated chain, for `weft chain log|verify --peer`.
pub enum PeerChain {
    /// The daemon's open replica.
    Shared(Arc<Replica>),
    /// Opened from disk (no daemon runs).
    Opened(Box<weft_kernel::Chain>),
}

impl PeerChain {
    /// The chain.
    pub fn chain(&self) -> &weft_kernel::Chain {
        match self {
            PeerChain::Shared(replica) => replica.chain(),
            PeerChain::Opened(chain) => chain,
        }
    }
}

/// The replica of peer `name`: the daemon's when one runs, else opened from
/// `.weftos/peers/<name>/`.
pub fn peer_chain(
    node: &Node,
    daemon: Option<&super::Daemon>,
    name: &str,
) -> Result<PeerChain, NodeError> {
    let missing = || {
        NodeError::Input(format!(
            "no replica of a peer named `{name}`: `weft peers` lists the peers and how far each is replicated"
        ))
    };
    if let Some(daemon) = daemon {
        let book = daemon.book()?;
        let peer = book.peers().find(|p| p.name == name).ok_or_else(missing)?;
        return peer
            .replica
            .clone()
            .map(PeerChain::Shared)
            .ok_or_else(missing);
    }
    let dir = node.layout().peer(name);
    if !crate::config::valid_name(name) || !dir.join("CURRENT").exists() {
        return Err(missing());
    }
    let store = Arc::new(Store::open(&dir)?);
    Ok(PeerChain::Opened(Box::new(
        weft_kernel::Chain::open_unchecked(store, None)?,
    )))
}
