//! Fetching a snapshot's events over the mesh's `/weft/sync/1`: from the member that sent
//! the snapshot, else from any other member, each range verified on arrival by the state
//! machine.

use crate::state_machine::{ChainFetcher, Manifest};
use futures::future::BoxFuture;
use std::sync::Mutex;
use weft_kernel::replica::Range;
use weft_net::mesh::MeshHandle;
use weft_net::wire::{SyncRequest, SYNC_MAX_BYTES, SYNC_MAX_EVENTS};
use weft_net::PeerId;

/// Fetches from members over the mesh.
pub struct MeshFetcher {
    mesh: MeshHandle,
    chain_id: [u8; 16],
    /// Members to ask, in order of preference.
    sources: Mutex<Vec<PeerId>>,
}

impl MeshFetcher {
    /// A fetcher for chain `chain_id` over `mesh`, asking `members` (more are learned
    /// from whoever sends a snapshot).
    pub fn new(mesh: MeshHandle, chain_id: [u8; 16], members: Vec<PeerId>) -> MeshFetcher {
        MeshFetcher {
            mesh,
            chain_id,
            sources: Mutex::new(members),
        }
    }
}

impl ChainFetcher for MeshFetcher {
    fn fetch<'a>(
        &'a self,
        from: u64,
        manifest: &'a Manifest,
    ) -> BoxFuture<'a, Result<Range, String>> {
        Box::pin(async move {
            let sources = self.sources.lock().map_err(|e| e.to_string())?.clone();
            let mut failures = Vec::new();
            // Never past the snapshot's end: the source may have applied more since.
            let wanted = manifest.chain_len.saturating_sub(from);
            let max_count = u32::try_from(wanted)
                .unwrap_or(u32::MAX)
                .min(SYNC_MAX_EVENTS);
            for peer in sources {
                let request = SyncRequest {
                    chain_id: self.chain_id,
                    from,
                    max_count,
                    max_bytes: SYNC_MAX_BYTES,
                };
                match self.mesh.fetch_range(peer, request).await {
                    Ok(range) => return Ok(range),
                    Err(e) => failures.push(format!("{peer}: {e}")),
                }
            }
            Err(if failures.is_empty() {
                "no member to fetch from".to_string()
            } else {
                failures.join("; ")
            })
        })
    }

    fn prefer(&self, peer: PeerId) {
        if let Ok(mut sources) = self.sources.lock() {
            sources.retain(|p| *p != peer);
            sources.insert(0, peer);
        }
    }
}

/// A cluster service bound after the mesh starts (the mesh needs the service, and the
/// Raft node needs the mesh): refuses calls until [`Deferred::bind`]. Binding again
/// replaces the service (a Raft node restarted on the same mesh).
#[derive(Default)]
pub struct Deferred(
    std::sync::RwLock<Option<std::sync::Arc<dyn weft_net::cluster::ClusterService>>>,
);

impl Deferred {
    /// Hands calls to `service` from now on.
    pub fn bind(&self, service: std::sync::Arc<dyn weft_net::cluster::ClusterService>) {
        if let Ok(mut bound) = self.0.write() {
            *bound = Some(service);
        }
    }
}

impl weft_net::cluster::ClusterService for Deferred {
    fn handle(
        &self,
        peer: PeerId,
        request: weft_net::cluster::ClusterRequest,
    ) -> BoxFuture<'static, weft_net::cluster::ClusterResponse> {
        let service = self.0.read().ok().and_then(|bound| bound.clone());
        match service {
            Some(service) => service.handle(peer, request),
            None => Box::pin(async {
                weft_net::cluster::ClusterResponse::Refused {
                    reason: "this member's Raft node is starting".into(),
                }
            }),
        }
    }
}
