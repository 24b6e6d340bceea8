//! Members in one process, each with its own store, key and mesh on loopback: how the
//! consensus tests and the cluster benchmark run a real cluster without processes.

use crate::cluster::{ClusterNode, Service};
use crate::fetch::{Deferred, MeshFetcher};
use crate::types::Member;
use std::sync::Arc;
use std::time::Duration;
use weft_kernel::cluster::{signer_draft, Member as Signer, FORMED};
use weft_kernel::keys::NodeKey;
use weft_kernel::{Chain, Store};
use weft_net::gatekeeper::{Gatekeeper, Trust};
use weft_net::mesh::{self, MeshConfig, MeshEvent, MeshHandle, Services, SyncSource};
use weft_net::wire::{SyncRequest, SyncResponse};

/// How long a local member waits for its mesh to listen.
const LISTEN_WAIT: Duration = Duration::from_secs(30);
/// The join token local members use.
pub const TOKEN: &str = "local-join-token";

/// Serves the member's chain to whoever asks (local members trust each other).
struct Serve(Arc<Chain>);

impl SyncSource for Serve {
    fn serve(&self, _: &weft_net::PeerId, request: &SyncRequest) -> SyncResponse {
        SyncResponse::serve(&self.0, request)
    }
}

/// One member.
pub struct LocalMember {
    /// Its store's directory, removed with it.
    pub dir: tempfile::TempDir,
    /// Its chain.
    pub chain: Arc<Chain>,
    /// Its mesh.
    pub mesh: MeshHandle,
    /// Its Raft node.
    pub node: Arc<ClusterNode<Chain>>,
    /// How others reach it.
    pub info: Member,
    /// Where its mesh hands cluster calls (rebound by [`LocalMember::restart`]).
    deferred: Arc<Deferred>,
    chain_id: [u8; 16],
    seed: u8,
}

impl LocalMember {
    /// Stops its Raft node (as a crash would: nothing is said to the others).
    pub async fn stop(&self) -> Result<(), String> {
        self.node.shutdown().await.map_err(|e| e.to_string())
    }

    /// Starts a new Raft node over the same store and mesh (its log and vote are what
    /// the stopped one left on disk).
    pub async fn restart(&mut self) -> Result<(), String> {
        self.node = start_raft(
            self.seed,
            &self.chain,
            self.chain_id,
            &self.mesh,
            &self.deferred,
        )
        .await?;
        Ok(())
    }
}

/// Starts member `seed`'s Raft node over `chain` and `mesh` and binds it to the mesh's
/// cluster calls.
async fn start_raft(
    seed: u8,
    chain: &Arc<Chain>,
    chain_id: [u8; 16],
    mesh: &MeshHandle,
    deferred: &Deferred,
) -> Result<Arc<ClusterNode<Chain>>, String> {
    let fetcher = Arc::new(MeshFetcher::new(mesh.clone(), chain_id, vec![]));
    let node = ClusterNode::start(
        u64::from(seed),
        chain.clone(),
        chain_id,
        mesh.clone(),
        fetcher,
        Some(TOKEN),
    )
    .await
    .map_err(|e| e.to_string())?;
    deferred.bind(Arc::new(Service(node.clone())));
    Ok(node)
}

/// The key of local member `seed`.
pub fn key(seed: u8) -> NodeKey {
    NodeKey::from_seed(&[seed; 32])
}

async fn spawn(
    seed: u8,
    dir: tempfile::TempDir,
    chain: Arc<Chain>,
    chain_id: [u8; 16],
) -> Result<LocalMember, String> {
    let deferred = Arc::new(Deferred::default());
    let services = Services {
        sync: Arc::new(Serve(chain.clone())),
        queries: Arc::new(weft_net::query::NoQueries),
        cluster: deferred.clone(),
    };
    let gate = Gatekeeper::new(key(seed).public_key(), Trust::Open);
    let (mesh, mut events) = mesh::start(
        &key(seed),
        MeshConfig::loopback("local", vec![]),
        gate,
        services,
    )
    .map_err(|e| e.to_string())?;
    let addr = loop {
        match tokio::time::timeout(LISTEN_WAIT, events.recv()).await {
            Ok(Some(MeshEvent::Listening(addr))) => break addr,
            Ok(Some(_)) => continue,
            other => return Err(format!("no listen address: {other:?}")),
        }
    };
    tokio::spawn(async move { while events.recv().await.is_some() {} });
    let node = start_raft(seed, &chain, chain_id, &mesh, &deferred).await?;
    let info = Member {
        name: format!("m{seed}"),
        peer_id: mesh.local_peer_id().to_base58(),
        addr: addr.to_string(),
        public_key: hex::encode(key(seed).public_key()),
    };
    Ok(LocalMember {
        dir,
        chain,
        mesh,
        node,
        info,
        deferred,
        chain_id,
        seed,
    })
}

/// The founder, member 1: a chain as `weft init` leaves it, `cluster.formed` appended
/// while alone, a cluster of one.
pub async fn founder() -> Result<LocalMember, String> {
    founder_with(0).await
}

/// [`founder`], whose chain holds `prefill` more events from before it was a cluster.
pub async fn founder_with(prefill: u64) -> Result<LocalMember, String> {
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let store = Arc::new(Store::create(dir.path()).map_err(|e| e.to_string())?);
    let chain = Chain::create(store, key(1), "local").map_err(|e| e.to_string())?;
    weft_kernel::tree::Tree::new(&chain)
        .bootstrap()
        .map_err(|e| e.to_string())?;
    let mut left = prefill;
    while left > 0 {
        let n = left.min(10_000);
        let drafts = (0..n)
            .map(|i| {
                let payload =
                    weft_kernel::cbor::map([("i", ciborium::value::Value::Integer(i.into()))]);
                weft_kernel::EventDraft::new("prefill", "prefill.e", payload)
            })
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| e.to_string())?;
        chain.append_batch(drafts).map_err(|e| e.to_string())?;
        left -= n;
    }
    let genesis = chain.genesis().ok_or("no genesis")?;
    let me = Signer {
        id: 1,
        name: "m1".into(),
        public_key: key(1).public_key(),
    };
    let formed = signer_draft(&genesis.chain_id, &chain.signers(), FORMED, &[me], &key(1))
        .map_err(|e| e.to_string())?;
    chain.append(formed).map_err(|e| e.to_string())?;
    let member = spawn(1, dir, Arc::new(chain), genesis.chain_id.0).await?;
    member
        .node
        .initialize(member.info.clone())
        .await
        .map_err(|e| e.to_string())?;
    Ok(member)
}

/// Member `seed`, with an empty store, joined through `via`.
pub async fn joiner(
    seed: u8,
    chain_id: [u8; 16],
    via: &LocalMember,
) -> Result<LocalMember, String> {
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let store = Arc::new(Store::create(&dir.path().join("chain")).map_err(|e| e.to_string())?);
    let chain = Arc::new(Chain::open_unchecked(store, Some(key(seed))).map_err(|e| e.to_string())?);
    let member = spawn(seed, dir, chain, chain_id).await?;
    member
        .node
        .join(via.info.clone(), member.info.clone(), TOKEN)
        .await
        .map_err(|e| e.to_string())?;
    Ok(member)
}

/// A cluster of `n` local members (the founder and `n - 1` joiners).
pub async fn cluster(n: u8) -> Result<Vec<LocalMember>, String> {
    let founder = founder().await?;
    let chain_id = founder.chain.genesis().ok_or("no genesis")?.chain_id.0;
    let mut members = vec![founder];
    for seed in 2..=n {
        let member = joiner(seed, chain_id, &members[0]).await?;
        members.push(member);
    }
    Ok(members)
}
