//! The node daemon: owns the store while it runs, joins the mesh, follows its peers'
//! chains, and runs the commands the CLI hands it over the control socket.
//!
//! - [`control`]: the socket's framing; [`client`]: the CLI's side of it; `server`: the
//!   daemon's side (who may connect, how many, from where).
//! - [`peers`]: who is followed, trusted, and how far each replica is.
//! - `driver`: the async loop over mesh events, announcements, syncs and bookkeeping;
//!   it starts the scheduled assessments (`crate::assess::schedule`).
//! - `source`: serving chain ranges to peers; `answers`: serving questions.
//! - [`faults`]: the testnet's deliberate misbehaviour (equivocation, floods).
//!
//! The daemon does not know the CLI's commands: the binary passes a [`CommandRunner`].

mod answers;
pub mod client;
pub mod control;
mod driver;
pub mod faults;
pub mod member;
pub mod peers;
mod server;
mod source;

use crate::engine::{Node, OpenMode};
use crate::layout::Layout;
use crate::NodeError;
use control::Request;
use serde::Serialize;
use std::collections::BTreeMap;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering::SeqCst;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use weft_net::gatekeeper::Gatekeeper;
use weft_net::{Multiaddr, PeerId};

/// Why an untrusted peer is served nothing.
const UNTRUSTED: &str =
    "not in this node's trust set (list this node's peer id, or `trust = \"open\"`)";

/// Options of `weft node start`.
#[derive(Debug, Clone, Default)]
pub struct DaemonOptions {
    /// Listen addresses replacing `[network] listen`.
    pub listen: Vec<Multiaddr>,
}

/// Runs a forwarded command line (the CLI implements it; the daemon only transports).
pub trait CommandRunner: Send + Sync + 'static {
    /// Runs `request` with the given streams and returns the exit code.
    fn run(
        &self,
        daemon: &Arc<Daemon>,
        request: Request,
        stdin: Box<dyn io::BufRead + Send>,
        stdout: Box<dyn Write + Send>,
        stderr: Box<dyn Write + Send>,
    ) -> u8;
}

/// The running daemon, shared by the driver and the control connections.
pub struct Daemon {
    node: Arc<Node>,
    peer_id: PeerId,
    /// This node's public key (its own messages are always trusted).
    own_key: [u8; 32],
    book: Mutex<peers::PeerBook>,
    listening: Mutex<Vec<Multiaddr>>,
    appended: tokio::sync::Notify,
    stop: tokio::sync::Notify,
    started_ns: u64,
    latency: source::Latency,
    /// Control connections being served (stopping waits for them to answer).
    active: Arc<std::sync::atomic::AtomicUsize>,
    /// The mesh and the runtime it runs on, once joined (for commands that publish).
    mesh: std::sync::OnceLock<(weft_net::mesh::MeshHandle, tokio::runtime::Handle)>,
    /// The Raft node, when this node is a cluster member.
    cluster: std::sync::OnceLock<Arc<member::Cluster>>,
    /// The start-up calibration's figures, once it has run (`crate::calibrate`).
    calibration: std::sync::OnceLock<weft_net::wire::Calibration>,
    /// Told when the calibration is done, so the advert carries it at once.
    calibrated: tokio::sync::Notify,
}

impl std::fmt::Debug for Daemon {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Daemon({})", self.peer_id)
    }
}

/// What `weft node status` shows of a running daemon.
#[derive(Debug, Clone, Serialize)]
pub struct DaemonStatus {
    /// Always true (a stopped daemon answers nothing).
    pub running: bool,
    /// Process id.
    pub pid: u32,
    /// Peer id.
    pub peer_id: String,
    /// Listen addresses.
    pub listen: Vec<String>,
    /// Peers with a live connection.
    pub connected: usize,
    /// Peers followed.
    pub peers: usize,
    /// Gossip dropped by the gatekeeper, by reason.
    pub dropped: BTreeMap<String, u64>,
    /// Start time, ns since the epoch.
    #[serde(with = "weft_kernel::json::time")]
    pub started_ns: u64,
    /// Recent p95 of sync request handling, microseconds.
    pub p95_us: u64,
    /// What the start-up calibration measured (absent figures left out), once it ran.
    pub calibration: Option<weft_net::wire::Calibration>,
}

impl Daemon {
    /// The peer book. A lock poisoned by a panic is a loud failure, never an empty
    /// book or an untrusted peer: it is logged and the daemon stops.
    fn book(&self) -> Result<std::sync::MutexGuard<'_, peers::PeerBook>, NodeError> {
        self.book.lock().map_err(|_| {
            tracing::error!("the peer book's lock was poisoned by a panic: the daemon stops");
            self.stop();
            NodeError::Daemon(
                "the peer book was poisoned by a panic (see .weftos/logs/node.log); the daemon stops"
                    .into(),
            )
        })
    }

    /// The node it holds open.
    pub fn node(&self) -> &Arc<Node> {
        &self.node
    }

    /// Tells the driver the chain may have grown (a command ran), so the head is
    /// announced now rather than at the next tick.
    pub fn appended(&self) {
        self.appended.notify_one();
    }

    /// Asks the daemon to stop.
    pub fn stop(&self) {
        self.stop.notify_one();
    }

    /// Whether `peer`'s key is in the trust set (it is then served ranges and answers).
    pub fn trusts(&self, peer: &PeerId) -> bool {
        weft_net::identity::public_key(peer).is_some_and(|key| {
            key == self.own_key || self.book().is_ok_and(|book| book.trusts(&key))
        }) || self.is_member(peer)
    }

    /// An asker of `peers` (the coordination peers as currently configured) over the
    /// mesh, once joined, waiting `timeout` for each answer. A peer is reached by the id
    /// its known key gives, else by its configured one.
    pub fn asker(
        &self,
        peers: &[crate::config::PeerConfig],
        timeout: Duration,
    ) -> Option<crate::query::MeshAsker> {
        let (mesh, runtime) = self.mesh.get()?.clone();
        // What the peers' adverts say of their indexes, by key: a peer linked under
        // two names is one node.
        let mut indexed = std::collections::HashMap::new();
        let mut known = std::collections::BTreeMap::new();
        if let Ok(book) = self.book() {
            for p in book.peers() {
                let Some(peer) = p.peer_id() else { continue };
                if let Some(advert) = &p.advert {
                    let search_us = advert.calibration.and_then(|c| c.search_us);
                    indexed.insert(peer, (advert.hnsw, search_us));
                }
                let addr = p.connected.clone().or(p.addr.clone());
                known.insert(p.name.clone(), (peer, addr));
            }
        }
        let mut routes = std::collections::BTreeMap::new();
        for spec in peers {
            let configured = spec.peer_id.map(|p| p.peer_id());
            let (peer, addr) = match (known.get(&spec.name), configured) {
                (Some((peer, addr)), _) => (*peer, addr.clone()),
                (None, Some(peer)) => (peer, None),
                (None, None) => continue,
            };
            let addr = addr.or_else(|| spec.addr.as_ref().map(|a| a.multiaddr().clone()));
            let advertised = indexed.get(&peer).copied();
            let route = crate::query::Route {
                peer,
                addr,
                indexed: advertised.map(|(hnsw, _)| hnsw),
                search_us: advertised.and_then(|(_, us)| us),
            };
            routes.insert(spec.name.clone(), route);
        }
        Some(crate::query::MeshAsker {
            mesh,
            runtime,
            routes,
            timeout,
        })
    }

    /// The peers and their state.
    pub fn peers(&self) -> Vec<peers::PeerStatus> {
        self.book().map(|b| b.statuses()).unwrap_or_default()
    }

    /// What concerns the peer book as a whole (an unconfirmed widening of trust).
    pub fn peer_notices(&self) -> Vec<String> {
        self.book()
            .map(|b| b.notices().to_vec())
            .unwrap_or_default()
    }

    /// Records the user's own addition of peer `name` with `key` in the trust pins.
    pub fn accept_peer(&self, name: &str, key: Option<[u8; 32]>) -> Result<(), NodeError> {
        self.book()?.accept(name, key)
    }

    /// Accepts the key weave.toml now gives peer `name`, or open trust with no name
    /// (`weft peers trust`), and hands the mesh the new trust set at once.
    pub fn confirm_trust(&self, name: Option<&str>) -> Result<Option<[u8; 32]>, NodeError> {
        let mut book = self.book()?;
        let key = book.confirm(name)?;
        if let Some((mesh, _)) = self.mesh.get() {
            // Not sent when the mesh's queue is full: the next bookkeeping round sends it.
            let _ = mesh.set_trust(book.trust());
        }
        Ok(key)
    }

    /// The daemon's state.
    pub fn status(&self) -> DaemonStatus {
        let (connected, peers) = self
            .book()
            .map(|b| {
                let n = b.peers().filter(|p| p.connected.is_some()).count();
                (n, b.peers().count())
            })
            .unwrap_or_default();
        DaemonStatus {
            running: true,
            pid: std::process::id(),
            peer_id: self.peer_id.to_base58(),
            listen: self.listen_addrs(),
            connected,
            peers,
            dropped: self.dropped(),
            started_ns: self.started_ns,
            p95_us: self.latency.p95_us(),
            calibration: self.calibration.get().copied(),
        }
    }

    /// Gossip the mesh's gatekeeper dropped, by reason (empty before the mesh runs).
    /// Called from a control thread, never from the runtime the mesh runs on.
    fn dropped(&self) -> BTreeMap<String, u64> {
        let Some((mesh, runtime)) = self.mesh.get() else {
            return BTreeMap::new();
        };
        if tokio::runtime::Handle::try_current().is_ok() {
            return BTreeMap::new();
        }
        let asked = runtime
            .block_on(async { tokio::time::timeout(Duration::from_secs(2), mesh.dropped()).await });
        match asked {
            Ok(Ok(dropped)) => dropped
                .into_iter()
                .map(|(k, v)| (k.to_string(), v))
                .collect(),
            _ => BTreeMap::new(),
        }
    }

    /// Listen addresses with `/p2p/<peer id>` appended.
    pub fn listen_addrs(&self) -> Vec<String> {
        self.listening
            .lock()
            .map(|l| {
                l.iter()
                    .map(|a| format!("{a}/p2p/{}", self.peer_id))
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// The control socket of the node at `layout`.
pub fn socket_path(layout: &Layout) -> PathBuf {
    layout.socket()
}

/// Sends every panic, of any thread or task, to the daemon's log as well: standard error
/// of a detached daemon goes nowhere, and a task that dies silently leaves a daemon that
/// says it runs.
fn log_panics() {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let thread = std::thread::current();
        tracing::error!(thread = thread.name().unwrap_or("unnamed"), "panic: {info}");
        previous(info);
    }));
}

/// Runs the daemon in this process until it is stopped (SIGTERM, SIGINT or
/// `weft node stop`). Opening the store takes its lock, so a second daemon (or a
/// command run directly) is refused while this one runs.
pub fn run(
    start: &Path,
    options: DaemonOptions,
    runner: Arc<dyn CommandRunner>,
) -> Result<(), NodeError> {
    let node = Arc::new(Node::open(start, OpenMode::Checked)?);
    let key = node.key()?.clone();
    log_panics();
    let membership = crate::membership::load(node.layout())?;
    // A member still joining has no chain yet: its identity is written once it has one.
    match node.chain().genesis() {
        Some(genesis) => {
            crate::identity::write_identity(node.layout(), &node.config().project.name, &genesis)?;
        }
        None if membership.is_some() => {}
        None => return Err(weft_kernel::ChainError::Empty.into()),
    }
    let listen = if options.listen.is_empty() {
        node.config()
            .network
            .listen
            .iter()
            .map(|a| a.multiaddr().clone())
            .collect()
    } else {
        options.listen
    };
    // A member's scheduled job is registered through the cluster, once it runs.
    if membership.is_none() {
        crate::assess::schedule::register(&node)?;
    }
    let book = peers::PeerBook::load(&node, true)?;
    let mut gatekeeper = Gatekeeper::new(key.public_key(), book.trust());
    for peer in book.peers() {
        if let Some(head) = peer.newest_head() {
            // Contradictions among the book's own heads were found when they arrived.
            let _ = gatekeeper.observe(&head);
        }
    }
    let daemon = Arc::new(Daemon {
        peer_id: weft_net::identity::keypair(&key).public().to_peer_id(),
        node: node.clone(),
        own_key: key.public_key(),
        book: Mutex::new(book),
        listening: Mutex::new(Vec::new()),
        appended: tokio::sync::Notify::new(),
        stop: tokio::sync::Notify::new(),
        started_ns: weft_kernel::chain::now_ns(),
        latency: source::Latency::default(),
        mesh: std::sync::OnceLock::new(),
        cluster: std::sync::OnceLock::new(),
        calibration: std::sync::OnceLock::new(),
        calibrated: tokio::sync::Notify::new(),
        active: Arc::new(std::sync::atomic::AtomicUsize::new(0)),
    });
    let socket = socket_path(node.layout());
    let listener = server::bind(node.layout(), &socket)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| NodeError::io(&socket, e))?;
    let served = daemon.clone();
    std::thread::Builder::new()
        .name("weft-control".into())
        .spawn(move || server::serve(listener, served, runner))
        .map_err(|e| NodeError::io(&socket, e))?;
    // The gatekeeper goes to the mesh, whose loop alone judges gossip; the daemon reaches
    // it through the mesh handle.
    let result = runtime.block_on(driver::drive(
        daemon.clone(),
        key,
        listen,
        gatekeeper,
        membership,
    ));
    let _ = std::fs::remove_file(&socket);
    // Commands in flight (`weft node stop` itself among them) answer before the exit.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while daemon.active.load(SeqCst) > 0 && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    let _ = std::fs::remove_file(node.layout().runtime());
    tracing::info!("daemon stopped");
    // Connection threads may still hold the node; the process exits right after.
    runtime.shutdown_timeout(Duration::from_secs(2));
    result
}

/// Waits until the daemon of `dir` has gone (socket unanswered, runtime file removed),
/// at most `limit`; true when it has.
pub fn wait_until_stopped(dir: &Path, limit: Duration) -> bool {
    let deadline = std::time::Instant::now() + limit;
    let runtime = Layout::discover(dir).map(|l| l.runtime());
    while std::time::Instant::now() < deadline {
        let answering = client::connect(dir).is_some();
        let published = runtime.as_ref().is_some_and(|f| f.exists());
        if !answering && !published {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    false
}
