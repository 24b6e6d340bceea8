//! The daemon's async loop: starts the mesh, announces this node's head and advert,
//! follows peers (dial, sync, verify into replicas), records what changed in the tree and
//! on the chain, and turns contradicting heads into kept, chained and gossiped evidence.
//!
//! Bookkeeping never feeds itself: a peer's head is recorded (tree entry, witness) only
//! when its chain grew by something other than the same bookkeeping, so two nodes
//! recording each other do not append forever.

use super::peers::PeerFlag;
use super::source::ChainSource;
use super::Daemon;
use crate::config::WeaveConfig;
use crate::identity::{write_json_atomically, Runtime};
use crate::NodeError;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::mpsc;
use weft_kernel::event::{Event, EventDraft};
use weft_kernel::head::SignedHead;
use weft_kernel::keys::NodeKey;
use weft_kernel::replica::{proven_first_event, Replica, ReplicaError};
use weft_kernel::tree::Tree;
use weft_kernel::witness::{witness_head, WITNESS_HEAD};
use weft_net::gatekeeper::{Accepted, Gatekeeper};
use weft_net::mesh::{self, MeshConfig, MeshEvent, MeshHandle};
use weft_net::replicate::Stop;
use weft_net::wire::{
    Advert, Equivocation, Evidence, ForkProof, SyncRequest, Topic, SYNC_MAX_BYTES,
};
use weft_net::{Multiaddr, PeerId};

/// Shortest gap between two checks of whether the advert changed.
const ADVERT_CHECK_GAP: Duration = Duration::from_secs(10);
/// Shortest gap between two announcements of new heads.
const ANNOUNCE_GAP: Duration = Duration::from_millis(100);
/// How often peers are re-resolved, redialled and checked for lag.
const MAINTAIN_EVERY: Duration = Duration::from_secs(2);
/// Least time between two records of one peer's changed advert in the tree: each is
/// a synced append, and a peer's adverts are its own to change.
const ADVERT_RECORD_GAP: Duration = Duration::from_secs(60);
/// Tree path under which peers are recorded.
const PEERS_PATH: &str = "/network/peers";
/// Note on witness events the daemon appends (how peers recognise bookkeeping).
const MESH_NOTE: &str = "mesh";
/// Most ranges one sync run fetches before yielding to the loop.
const MAX_ROUNDS: usize = 4096;

/// What a finished sync run reports.
struct SyncDone {
    name: String,
    /// The replica's length before the sync.
    from: u64,
    stored: u64,
    meaningful: bool,
    error: Option<String>,
    evidence: Option<Evidence>,
    /// A stranger's first range proved its history: its replica may now be created.
    proven: bool,
}

struct Driver {
    daemon: Arc<Daemon>,
    key: NodeKey,
    mesh: MeshHandle,
    done_tx: mpsc::Sender<SyncDone>,
    announced: Option<(u64, Instant)>,
    /// The stable fields of the last advert published, and when it was checked.
    advertised: Option<(String, Instant)>,
    /// The configuration in force: the node's at start, replaced when weave.toml
    /// changes and still loads.
    config: WeaveConfig,
    config_stamp: Option<std::time::SystemTime>,
    /// Live connections by peer, whether or not the peer book names the peer yet.
    links: HashMap<PeerId, Multiaddr>,
    /// When each peer's advert was last recorded, and peers whose newer advert waits.
    advert_recorded: HashMap<String, Instant>,
    advert_pending: HashSet<String>,
}

/// Runs until the daemon is told to stop or a signal arrives.
pub(super) async fn drive(
    daemon: Arc<Daemon>,
    key: NodeKey,
    listen: Vec<Multiaddr>,
    gatekeeper: Gatekeeper,
    membership: Option<crate::membership::Membership>,
) -> Result<(), NodeError> {
    let config = daemon.node.config().clone();
    let dial = config
        .coordination
        .peers
        .iter()
        .filter_map(|p| Some(p.addr.as_ref()?.multiaddr().clone()))
        .collect();
    let mesh_config = MeshConfig {
        organisation: config.network.organisation.clone(),
        listen,
        dial,
        mdns: config.network.mdns,
        kademlia: config.network.kademlia,
    };
    let deferred = Arc::new(weft_consensus::fetch::Deferred::default());
    let services = mesh::Services {
        sync: Arc::new(ChainSource(daemon.clone())),
        queries: Arc::new(super::answers::Answers(daemon.clone())),
        cluster: deferred.clone(),
    };
    let (mesh, mut events) = mesh::start(&key, mesh_config, gatekeeper, services)
        .map_err(|e| NodeError::Daemon(format!("network: {e}")))?;
    let _ = daemon
        .mesh
        .set((mesh.clone(), tokio::runtime::Handle::current()));
    calibrate_in_background(&daemon, membership.is_none());
    if let Some(membership) = membership {
        let cluster = super::member::start(&daemon, &mesh, &deferred, membership).await?;
        let _ = daemon.cluster.set(cluster);
        let node = daemon.node.clone();
        // Through the cluster: it waits for a leader, so not on this loop.
        tokio::task::spawn_blocking(move || {
            if let Err(e) = crate::assess::schedule::register(&node) {
                tracing::warn!(error = %e, "registering the scheduled assessment");
            }
        });
    }
    tokio::spawn(crate::assess::schedule::run(daemon.node.clone()));
    let (done_tx, mut done_rx) = mpsc::channel(64);
    let mut driver = Driver {
        daemon: daemon.clone(),
        key,
        mesh,
        done_tx,
        announced: None,
        advertised: None,
        config: config.clone(),
        config_stamp: config_stamp(&daemon),
        links: HashMap::new(),
        advert_recorded: HashMap::new(),
        advert_pending: HashSet::new(),
    };
    let mut tick = tokio::time::interval(ANNOUNCE_GAP);
    let mut periodic = tokio::time::interval(Duration::from_secs(config.network.announce_interval));
    let mut maintain = tokio::time::interval(MAINTAIN_EVERY);
    let signal = |kind| {
        tokio::signal::unix::signal(kind)
            .map_err(|e| NodeError::Daemon(format!("signal handler: {e}")))
    };
    let mut terminate = signal(tokio::signal::unix::SignalKind::terminate())?;
    let mut interrupt = signal(tokio::signal::unix::SignalKind::interrupt())?;
    tracing::info!(peer_id = %daemon.peer_id, "daemon started");
    let result: Result<(), NodeError> = async {
        loop {
            tokio::select! {
                _ = daemon.stop.notified() => break,
                _ = terminate.recv() => break,
                _ = interrupt.recv() => break,
                event = events.recv() => match event {
                    Some(event) => driver.on_mesh(event).await,
                    // The mesh's task is gone (its panic, if any, is in node.log): a daemon
                    // without its mesh must not go on saying it runs.
                    None => {
                        tracing::error!("the mesh stopped unexpectedly: the daemon stops");
                        return Err(NodeError::Daemon(
                            "the mesh stopped unexpectedly (see .weftos/logs/node.log)".into(),
                        ));
                    }
                },
                Some(done) = done_rx.recv() => driver.on_sync_done(done).await,
                _ = daemon.appended.notified() => {
                    driver.announce(false);
                    driver.advertise_if_changed().await;
                }
                _ = daemon.calibrated.notified() => driver.advertise().await,
                _ = tick.tick() => driver.announce(false),
                _ = periodic.tick() => {
                    driver.announce(true);
                    driver.advertise().await;
                }
                _ = maintain.tick() => driver.maintain().await,
            }
        }
        Ok(())
    }
    .await;
    if let Some(cluster) = daemon.cluster.get() {
        let _ = cluster.shutdown().await;
    }
    result
}

/// Starts the start-up calibration (`[network] calibration_ms`; 0: none) on a thread of
/// its own, so the daemon serves at once; once it is done, the figures go into the
/// advert and the driver advertises. A cluster member does not record it on the chain
/// its members share (its advert still carries its figures).
fn calibrate_in_background(daemon: &Arc<Daemon>, record: bool) {
    let budget = daemon.node.config().network.calibration_ms;
    if budget == 0 {
        return;
    }
    let daemon = daemon.clone();
    let started = std::thread::Builder::new()
        .name("weft-calibrate".into())
        .spawn(move || {
            let budget = Duration::from_millis(budget);
            let run = crate::calibrate::run(&daemon.node, budget);
            if record {
                match run.draft().and_then(|draft| daemon.node.append(draft)) {
                    Ok(event) => {
                        tracing::debug!(seq = event.event.seq, "recorded the calibration");
                        daemon.appended();
                    }
                    Err(e) => tracing::warn!(error = %e, "recording the calibration"),
                }
            }
            let calibration = run.calibration();
            tracing::info!(?calibration, ms = run.ms, "calibrated");
            let _ = daemon.calibration.set(calibration);
            daemon.calibrated.notify_one();
        });
    if let Err(e) = started {
        tracing::warn!(error = %e, "starting the calibration");
    }
}

fn config_stamp(daemon: &Daemon) -> Option<std::time::SystemTime> {
    std::fs::metadata(daemon.node.layout().config())
        .and_then(|m| m.modified())
        .ok()
}

/// Whether `event` is a peer's record of the mesh itself (see the module docs).
fn is_bookkeeping(event: &Event) -> bool {
    use ciborium::value::Value;
    let field = |name: &str| match &event.payload {
        Value::Map(entries) => entries.iter().find_map(|(k, v)| match (k, v) {
            (Value::Text(k), Value::Text(v)) if k == name => Some(v.clone()),
            _ => None,
        }),
        _ => None,
    };
    match event.kind.as_str() {
        "tree.set" => field("path").is_some_and(|p| p.starts_with("/network/")),
        WITNESS_HEAD => field("note").as_deref() == Some(MESH_NOTE),
        _ => false,
    }
}

impl Driver {
    async fn blocking<T: Send + 'static>(
        &self,
        work: impl FnOnce(&Daemon) -> T + Send + 'static,
    ) -> Option<T> {
        let daemon = self.daemon.clone();
        tokio::task::spawn_blocking(move || work(&daemon))
            .await
            .ok()
    }

    /// Our own chain's id.
    fn own_chain(&self) -> Option<[u8; 16]> {
        self.daemon.node.chain().genesis().map(|g| g.chain_id.0)
    }

    /// Publishes the head when it changed (and the last announcement is old enough),
    /// or always when `force`.
    fn announce(&mut self, force: bool) {
        let Some(head) = self.daemon.node.chain().latest_signed_head() else {
            return;
        };
        let changed = self.announced.is_none_or(|(seq, _)| seq != head.seq);
        let recent = self
            .announced
            .is_some_and(|(_, at)| at.elapsed() < ANNOUNCE_GAP);
        if !(force || changed && !recent) {
            return;
        }
        // Re-signed at a later time when repeated, so gossip does not drop it as a
        // duplicate before a peer that missed it sees it.
        if !self.mesh.announce(head.clone()) {
            tracing::warn!("announcing the head: the mesh's queue is full");
        }
        if changed {
            tracing::debug!(seq = head.seq, "announced head");
        }
        self.announced = Some((head.seq, Instant::now()));
    }

    /// Re-advertises when what the advert offers changed (a scan, an index), checked at
    /// most every [`ADVERT_CHECK_GAP`]: the graph summary reads the graph store.
    async fn advertise_if_changed(&mut self) {
        if self
            .advertised
            .as_ref()
            .is_some_and(|(_, at)| at.elapsed() < ADVERT_CHECK_GAP)
        {
            return;
        }
        let Some(advert) = self.blocking(build_advert).await.flatten() else {
            return;
        };
        let fields = stable_fields(&advert);
        let changed = self.advertised.as_ref().is_none_or(|(f, _)| *f != fields);
        self.advertised = Some((fields, Instant::now()));
        if changed {
            self.publish_advert(advert);
        }
    }

    async fn advertise(&mut self) {
        if let Some(advert) = self.blocking(build_advert).await.flatten() {
            self.advertised = Some((stable_fields(&advert), Instant::now()));
            self.publish_advert(advert);
        }
    }

    fn publish_advert(&self, advert: Advert) {
        let signed = advert.sign(&self.key);
        if !self
            .mesh
            .publish_nowait(Topic::Capabilities, signed.encode())
        {
            tracing::warn!("publishing the advert: the mesh's queue is full");
        }
    }

    async fn on_mesh(&mut self, event: MeshEvent) {
        match event {
            MeshEvent::Listening(addr) => self.on_listening(addr),
            MeshEvent::Connected { peer, addr } => {
                self.links.insert(peer, addr.clone());
                let name = self.with_peer_id(&peer, |p| p.name.clone());
                if let Some(name) = name {
                    tracing::info!(%peer, %name, %addr, "peer connected");
                    self.start_sync(&name);
                }
            }
            // Let the newcomer learn our state without waiting for the period.
            MeshEvent::Subscribed { .. } => {
                self.announce(true);
                self.advertise().await;
            }
            MeshEvent::Disconnected { peer } => {
                self.links.remove(&peer);
                if let Ok(mut book) = self.daemon.book() {
                    book.set_connections(&self.links);
                }
            }
            MeshEvent::Gossip { accepted, .. } => self.on_gossip(accepted).await,
            MeshEvent::Conflict(evidence) => self.record_evidence(*evidence, true).await,
            MeshEvent::Blocked { peer, reason } => {
                self.with_peer_id(&peer, |p| {
                    p.flags.insert(PeerFlag::Blocked);
                    p.last_error = Some(reason.clone());
                });
            }
        }
    }

    fn on_listening(&self, addr: Multiaddr) {
        tracing::info!(%addr, "listening");
        if let Ok(mut listening) = self.daemon.listening.lock() {
            listening.push(addr);
        }
        let runtime = Runtime {
            pid: std::process::id(),
            peer_id: self.daemon.peer_id.to_base58(),
            listen: self.daemon.listen_addrs(),
            started_ns: self.daemon.started_ns,
        };
        let file = self.daemon.node.layout().runtime();
        if let Err(e) = write_json_atomically(&file, &runtime) {
            tracing::warn!(error = %e, "writing the runtime file");
        }
    }

    fn with_peer_id<T>(
        &self,
        peer: &PeerId,
        f: impl FnOnce(&mut super::peers::Peer) -> T,
    ) -> Option<T> {
        let key = weft_net::identity::public_key(peer)?;
        let mut book = self.daemon.book().ok()?;
        // A connection may reach a peer through one of its cluster's members: the links
        // decide which peers are connected.
        book.follow(&key)?;
        book.set_connections(&self.links);
        book.by_key_mut(&key).map(f)
    }

    async fn on_gossip(&mut self, accepted: Accepted) {
        match accepted {
            Accepted::Head(head) => {
                let name = self.daemon.book().ok().and_then(|mut book| {
                    let peer = book.follow(&head.signer)?;
                    // The gatekeeper passes a head only when it is the signer's newest:
                    // it alone decides that, the book records what it passed.
                    peer.head = Some((*head).clone());
                    (head.seq >= peer.replica_len()).then(|| peer.name.clone())
                });
                if let Some(name) = name {
                    self.start_sync(&name);
                }
            }
            Accepted::Advert(signed) => {
                let changed = self.daemon.book().ok().and_then(|mut book| {
                    let peer = book.follow(&signed.advert.signer)?;
                    let before = peer.advert.as_ref().map(stable_fields);
                    let after = stable_fields(&signed.advert);
                    peer.advert = Some(signed.advert.clone());
                    (before.as_ref() != Some(&after)).then(|| peer.name.clone())
                });
                if let Some(name) = changed {
                    self.record_advert(name).await;
                }
            }
            Accepted::Evidence(found, evidence) => {
                self.keep_evidence(*evidence, *found, false).await;
            }
        }
    }

    /// Records a peer's changed advert, at most once per [`ADVERT_RECORD_GAP`]; a change
    /// within the gap waits for the next maintenance round after it.
    async fn record_advert(&mut self, name: String) {
        if self
            .advert_recorded
            .get(&name)
            .is_some_and(|at| at.elapsed() < ADVERT_RECORD_GAP)
        {
            self.advert_pending.insert(name);
            return;
        }
        self.advert_pending.remove(&name);
        self.advert_recorded.insert(name.clone(), Instant::now());
        self.record_peer(name, false).await;
    }

    /// Records the adverts whose gap has passed (the peer's newest advert is written).
    async fn record_due_adverts(&mut self) {
        let due: Vec<String> = self
            .advert_pending
            .iter()
            .filter(|n| {
                self.advert_recorded
                    .get(*n)
                    .is_none_or(|at| at.elapsed() >= ADVERT_RECORD_GAP)
            })
            .cloned()
            .collect();
        for name in due {
            self.record_advert(name).await;
        }
    }

    /// Re-reads the configuration when it changed, re-resolves path peers, redials, and
    /// restarts syncs of peers that are behind.
    async fn maintain(&mut self) {
        self.record_due_adverts().await;
        let stamp = config_stamp(&self.daemon);
        let reload = stamp != self.config_stamp;
        self.config_stamp = stamp;
        let root = &self.daemon.node.layout().root;
        if reload {
            match WeaveConfig::load(root) {
                Ok(config) => self.config = config,
                Err(e) => {
                    tracing::warn!(error = %e, "weave.toml changed but does not load; keeping the old peers");
                }
            }
        }
        let mut dial = Vec::new();
        let mut behind = Vec::new();
        if let Ok(mut book) = self.daemon.book() {
            // Path peers' keys and addresses appear when their nodes start.
            book.configure(&self.config, root);
            book.set_connections(&self.links);
            // Not sent when the mesh's queue is full: the next round sends it again.
            let _ = self.mesh.set_trust(book.trust());
            for peer in book.peers() {
                if peer.connected.is_none() {
                    dial.extend(peer.addr.iter().chain(&peer.more_addrs).cloned());
                }
                if !peer.syncing
                    && peer
                        .newest_head()
                        .is_some_and(|h| h.seq >= peer.replica_len())
                {
                    behind.push(peer.name.clone());
                }
            }
        }
        for addr in dial {
            self.mesh.dial(addr);
        }
        for name in behind {
            self.start_sync(&name);
        }
    }

    /// Syncs the replica of peer `name`: from the peer itself when it is connected,
    /// else through another connected peer that may hold a replica of it (its ranges
    /// carry the peer's own signed heads, so they verify the same).
    fn start_sync(&self, name: &str) {
        let Ok(mut book) = self.daemon.book() else {
            return;
        };
        let relay = book
            .peers()
            .find(|p| {
                p.name != name
                    && p.connected.is_some()
                    && !p.flags.contains(&PeerFlag::Equivocation)
            })
            .and_then(|p| p.peer_id());
        let Some(peer) = book.get_mut(name) else {
            return;
        };
        let Some(replica) = peer.replica.clone() else {
            // A stranger gets a store only once its own first range proves a history.
            if let (true, true, false, Some(source), Some(key)) = (
                peer.stranger,
                peer.connected.is_some(),
                peer.syncing,
                peer.peer_id(),
                peer.public_key,
            ) {
                peer.syncing = true;
                let (name, mesh, done) =
                    (name.to_string(), self.mesh.clone(), self.done_tx.clone());
                tokio::spawn(async move {
                    let proven = prove_stranger(&mesh, source, key).await;
                    let _ = done.send(SyncDone::proof(name, proven)).await;
                });
            }
            return;
        };
        let known_chain = replica
            .chain()
            .genesis()
            .map(|g| g.chain_id.0)
            .or(peer.head.as_ref().map(|h| h.chain_id.0));
        if known_chain.is_some() && known_chain == self.own_chain() {
            // A member of our own cluster: Raft keeps that chain, not range sync.
            return;
        }
        let (source, chain_id) = match peer.connected_id {
            Some(own) => (own, known_chain.unwrap_or([0; 16])),
            // A relay must be told which chain: zero would mean its own.
            _ => match (relay, known_chain) {
                (Some(relay), Some(chain)) => (relay, chain),
                _ => return,
            },
        };
        if peer.syncing {
            return;
        }
        peer.syncing = true;
        let name = name.to_string();
        let mesh = self.mesh.clone();
        let done = self.done_tx.clone();
        tokio::spawn(async move {
            let result = sync_peer(&mesh, source, chain_id, replica, name).await;
            let _ = done.send(result).await;
        });
    }

    async fn on_sync_done(&mut self, done: SyncDone) {
        if let Ok(mut book) = self.daemon.book() {
            if done.proven {
                book.create_replica(&done.name);
            }
            if let Some(peer) = book.get_mut(&done.name) {
                peer.syncing = false;
                peer.last_error = done.error.clone();
                peer.refresh_members();
                let verified = peer
                    .replica
                    .as_ref()
                    .and_then(|r| r.verified_head().ok().flatten());
                if let Some(head) = verified {
                    // A gossiped head the verified history contradicts at its own
                    // sequence is evidence too (it may have arrived first): the
                    // gatekeeper sends it back as a conflict.
                    let _ = self.mesh.observe(head);
                }
            }
            // Members the range installed are trusted from now on, not from the next
            // maintenance round.
            let _ = self.mesh.set_trust(book.trust());
        }
        if let Some(error) = &done.error {
            tracing::warn!(peer = %done.name, %error, "sync");
        } else if done.stored > 0 {
            tracing::info!(peer = %done.name, stored = done.stored, "synced");
        }
        if let Some(evidence) = done.evidence {
            self.record_evidence(evidence, true).await;
        }
        if done.stored > 0 {
            let (name, from) = (done.name.clone(), done.from);
            let witnessed = self
                .blocking(move |d| witness_coordination(d, &name, from))
                .await;
            match witnessed {
                Some(Ok(notes)) if !notes.is_empty() => {
                    tracing::info!(peer = %done.name, ?notes, "witnessed coordination events");
                    self.daemon.appended();
                }
                Some(Err(e)) => tracing::warn!(error = %e, "witnessing coordination events"),
                _ => {}
            }
        }
        if done.meaningful {
            self.record_peer(done.name, true).await;
        }
    }

    async fn record_evidence(&mut self, evidence: Evidence, publish: bool) {
        match evidence.verify() {
            Ok(found) => self.keep_evidence(evidence, found, publish).await,
            Err(e) => tracing::warn!(error = %e, "evidence built from peer data does not verify"),
        }
    }

    /// Keeps verified evidence once: the file, a `network.equivocation` event, the flag,
    /// and (for evidence found here) gossip.
    async fn keep_evidence(&mut self, evidence: Evidence, found: Equivocation, publish: bool) {
        let bytes = evidence.encode();
        let kept = {
            let bytes = bytes.clone();
            let found = found.clone();
            self.blocking(move |d| keep_evidence_file(d, &found, &bytes))
                .await
        };
        let name = self.daemon.book().ok().and_then(|mut book| {
            let peer = book.by_key_mut(&found.signer)?;
            peer.flags.insert(PeerFlag::Equivocation);
            Some(peer.name.clone())
        });
        match kept {
            Some(Ok(true)) => {
                tracing::warn!(signer = %found.fingerprint, seq = found.seq, kind = found.kind, "equivocation");
                if publish && !self.mesh.publish_nowait(Topic::Evidence, bytes) {
                    tracing::warn!("gossiping evidence: the mesh's queue is full");
                }
                if let Some(name) = name {
                    self.record_peer(name, false).await;
                }
            }
            Some(Ok(false)) => {}
            Some(Err(e)) => tracing::warn!(error = %e, "keeping evidence"),
            None => {}
        }
    }

    /// Writes `/network/peers/<name>` when what it would hold changed, and witnesses the
    /// peer's head when `new_history` and the witness interval has passed.
    async fn record_peer(&mut self, name: String, new_history: bool) {
        let interval = self.config.network.witness_interval;
        let result = self
            .blocking(move |d| record_peer(d, &name, new_history, interval))
            .await;
        if let Some(Err(e)) = result {
            tracing::warn!(error = %e, "recording a peer");
        }
    }
}

/// The advert fields whose change is worth a tree event (not head or timing).
fn stable_fields(advert: &Advert) -> String {
    format!(
        "{}|{}|{:?}|{}|{}|{}|{}|{}|{:?}",
        advert.version,
        advert.project,
        advert.languages,
        advert.symbols,
        advert.vectors,
        advert.model,
        advert.dims,
        advert.hnsw,
        advert.services
    )
}

impl SyncDone {
    /// The end of a stranger's proof run.
    fn proof(name: String, proven: Result<(), String>) -> SyncDone {
        SyncDone {
            name,
            from: 0,
            stored: 0,
            meaningful: false,
            proven: proven.is_ok(),
            error: proven.err(),
            evidence: None,
        }
    }
}

/// Asks a stranger for its first event and checks that it is a genesis of `key`'s,
/// included in a head `key` signed: only then is a store spent on it.
async fn prove_stranger(mesh: &MeshHandle, peer: PeerId, key: [u8; 32]) -> Result<(), String> {
    let request = SyncRequest {
        chain_id: [0; 16],
        from: 0,
        max_count: 1,
        max_bytes: SYNC_MAX_BYTES,
    };
    let range = mesh.fetch_range(peer, request).await?;
    range
        .head
        .verify_signature()
        .map_err(|e| format!("its head does not verify: {e}"))?;
    if range.head.signer != key {
        return Err("its head is signed by another key".into());
    }
    proven_first_event(&range).ok_or("its first event is not in the history its head signs")?;
    let genesis = range
        .events
        .first()
        .and_then(|bytes| Event::decode(bytes).ok())
        .and_then(|event| weft_kernel::chain::Genesis::from_event(&event).ok())
        .ok_or("its first event is not a genesis")?;
    if genesis.public_key != key {
        return Err("its genesis names another key".into());
    }
    Ok(())
}

async fn sync_peer(
    mesh: &MeshHandle,
    peer: PeerId,
    chain_id: [u8; 16],
    replica: Arc<Replica>,
    name: String,
) -> SyncDone {
    let start_len = replica.len();
    let mut done = SyncDone {
        name,
        from: start_len,
        stored: 0,
        meaningful: false,
        error: None,
        evidence: None,
        proven: false,
    };
    let run =
        weft_net::replicate::replicate(mesh, peer, chain_id, replica.clone(), MAX_ROUNDS).await;
    done.stored = run.stored;
    match run.stop {
        Stop::AtHead | Stop::Rounds => {}
        Stop::Fetch(e) => done.error = Some(e),
        Stop::Task => done.error = Some("the verification task failed".into()),
        Stop::Range(ReplicaError::Diverged { from, .. }, head) => {
            done.evidence = fork_evidence(mesh, peer, &replica, &head).await;
            done.error = Some(format!(
                "the peer's history no longer extends its replica at {from}"
            ));
        }
        // Only forged or invalid data counts against the sender: a relay that is
        // behind, or this node's own store failing, is no reason to block anyone.
        Stop::Range(e @ ReplicaError::Refused { .. }, _) => {
            mesh.strike(peer, e.to_string()).await;
            done.error = Some(e.to_string());
        }
        Stop::Range(e, _) => done.error = Some(e.to_string()),
    }
    done.meaningful = replica
        .chain()
        .events(start_len)
        .filter_map(Result::ok)
        .any(|stored| !is_bookkeeping(&stored.event));
    done
}

/// Asks for the event at the replica's verified head's sequence under the peer's new
/// head: if that history holds another event there, the two heads are fork evidence.
async fn fork_evidence(
    mesh: &MeshHandle,
    peer: PeerId,
    replica: &Replica,
    new_head: &SignedHead,
) -> Option<Evidence> {
    let anchor = replica.verified_head().ok().flatten()?;
    if anchor.seq >= new_head.seq {
        return (anchor.seq == new_head.seq && anchor.head_hash != new_head.head_hash)
            .then(|| Evidence::conflict(&anchor, new_head));
    }
    let request = SyncRequest {
        chain_id: anchor.chain_id.0,
        from: anchor.seq,
        max_count: 1,
        max_bytes: 1,
    };
    let range = mesh.fetch_range(peer, request).await.ok()?;
    let (event_hash, path) = proven_first_event(&range)?;
    (event_hash != anchor.head_hash).then(|| Evidence {
        first: anchor.encode(),
        second: range.head.encode(),
        fork: Some(ForkProof {
            event_hash: event_hash.0,
            audit_path: weft_net::wire::to_wire_hashes(&path),
        }),
    })
}

/// Writes the evidence file and chains the event; false when this equivocation was
/// already kept.
fn keep_evidence_file(
    daemon: &Daemon,
    found: &Equivocation,
    bytes: &[u8],
) -> Result<bool, NodeError> {
    let dir = daemon.book().map(|b| b.evidence_dir())?;
    weft_kernel::atomic::create_dir_durably(&dir).map_err(|e| NodeError::io(&dir, e))?;
    let file = dir.join(format!("{}-{}.cbor", found.fingerprint, found.seq));
    if file.exists() {
        return Ok(false);
    }
    use ciborium::value::Value;
    let payload = weft_kernel::cbor::map([
        ("signer", Value::Text(hex::encode(found.signer))),
        ("fingerprint", Value::Text(found.fingerprint.clone())),
        ("seq", Value::Integer(found.seq.into())),
        ("kind", Value::Text(found.kind.into())),
        ("evidence", Value::Bytes(bytes.to_vec())),
    ]);
    let draft = EventDraft::new("network", "network.equivocation", payload)
        .map_err(|e| NodeError::Input(e.to_string()))?;
    // The event goes first: a crash between the two leaves the event without the file,
    // and the evidence arriving again chains a second event: a duplicate, never a loss.
    daemon.node.append(draft)?;
    weft_kernel::atomic::write_atomically(&file, bytes).map_err(|e| NodeError::io(&file, e))?;
    Ok(true)
}

/// Witnesses the releases and acknowledgements among a peer's newly replicated events.
fn witness_coordination(daemon: &Daemon, name: &str, from: u64) -> Result<Vec<String>, NodeError> {
    let replica = daemon
        .book()
        .ok()
        .and_then(|mut book| book.get_mut(name)?.replica.clone());
    match replica {
        Some(replica) => crate::coordinate::release::witness_replicated(
            &daemon.node,
            name,
            replica.chain(),
            from,
        ),
        None => Ok(Vec::new()),
    }
}

fn record_peer(
    daemon: &Daemon,
    name: &str,
    new_history: bool,
    witness_interval: u64,
) -> Result<(), NodeError> {
    let tree = Tree::new(daemon.node.chain());
    let path = format!("{PEERS_PATH}/{name}");
    let existing = tree.get(&path)?;
    // After a restart, the head recorded before it is the one in the tree.
    let recorded_before = existing.as_ref().and_then(|node| {
        let seq = node.meta.get("head_seq")?.parse().ok()?;
        let hash = weft_kernel::Hash::from_hex(node.meta.get("head_hash")?).ok()?;
        Some((seq, hash))
    });
    let (meta, head, witness_due) = {
        let mut book = daemon.book()?;
        let Some(peer) = book.get_mut(name) else {
            return Ok(());
        };
        let head = peer
            .replica
            .as_ref()
            .and_then(|r| r.verified_head().ok().flatten());
        if peer.recorded.is_none() {
            peer.recorded = recorded_before;
        }
        if new_history {
            if let Some(h) = &head {
                peer.recorded = Some((h.seq, h.head_hash));
            }
        }
        let mut meta = BTreeMap::new();
        if let Some(id) = peer.peer_id() {
            meta.insert("peer_id".to_string(), id.to_base58());
        }
        if let Some((seq, hash)) = peer.recorded {
            meta.insert("head_seq".into(), seq.to_string());
            meta.insert("head_hash".into(), hash.to_hex());
        }
        if let Some(h) = &head {
            meta.insert("chain_id".into(), h.chain_id.to_hex());
        }
        if let Some(advert) = &peer.advert {
            meta.insert("project".into(), advert.project.clone());
            meta.insert("version".into(), advert.version.clone());
            meta.insert("languages".into(), advert.languages.join(","));
            meta.insert("symbols".into(), advert.symbols.to_string());
            meta.insert("vectors".into(), advert.vectors.to_string());
            meta.insert("model".into(), advert.model.clone());
            meta.insert("dims".into(), advert.dims.to_string());
            meta.insert("hnsw".into(), advert.hnsw.to_string());
            meta.insert("services".into(), advert.services.join(","));
        }
        if !peer.flags.is_empty() {
            meta.insert(
                "flags".into(),
                peer.flags
                    .iter()
                    .map(|f| f.as_str())
                    .collect::<Vec<_>>()
                    .join(","),
            );
        }
        let due = new_history
            && witness_interval > 0
            && peer
                .witnessed
                .is_none_or(|at| at.elapsed() >= Duration::from_secs(witness_interval));
        if due {
            peer.witnessed = Some(Instant::now());
        }
        (meta, head, due)
    };
    let unchanged = existing.is_some_and(|node| node.meta == meta);
    if !unchanged {
        daemon.node.tree_set(&path, "peer", meta)?;
    }
    if let (true, Some(head)) = (witness_due, head) {
        let draft = witness_head(&head, None, Some(MESH_NOTE))
            .map_err(|e| NodeError::Input(e.to_string()))?;
        daemon.node.append(draft)?;
    }
    Ok(())
}

/// This node's advert from its chain, config and knowledge graph.
fn build_advert(daemon: &Daemon) -> Option<Advert> {
    let node = &daemon.node;
    let genesis = node.chain().genesis()?;
    let (head_seq, _) = node.chain().head()?;
    let graph = crate::graph::summary(&node.layout().graph());
    Some(Advert {
        version: env!("CARGO_PKG_VERSION").into(),
        project: node.config().project.name.clone(),
        chain_id: genesis.chain_id.to_hex(),
        head_seq,
        languages: graph.languages,
        symbols: graph.symbols,
        vectors: graph.vectors,
        model: graph.model,
        dims: graph.dims,
        hnsw: graph.vectors > 0,
        services: vec!["sync".into(), "query".into()],
        p95_us: daemon.latency.p95_us(),
        time_ns: weft_kernel::chain::now_ns(),
        signer: [0; 32],
        calibration: daemon.calibration.get().copied(),
    })
}
