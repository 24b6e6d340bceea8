//! Replicating a peer's chain range by range, three ranges in the pipe at once: while
//! one range is written (its fsync), the next is verified and the one after is fetched,
//! so the serving peer, the network, the verifier and the disk all work at the same time.
//! A range is only ever stored after the one before it; a range that fails stops the
//! run, and what was fetched or checked after it is dropped.

use crate::mesh::MeshHandle;
use crate::wire::SyncRequest;
use libp2p::PeerId;
use std::sync::Arc;
use weft_kernel::head::SignedHead;
use weft_kernel::replica::{CheckedRange, Range, Replica, ReplicaError};

/// How a run ended.
#[derive(Debug)]
pub enum Stop {
    /// The replica reached the head the peer served.
    AtHead,
    /// The round limit was reached first (the peer's chain kept growing).
    Rounds,
    /// A range could not be fetched (or its response was not a range).
    Fetch(String),
    /// A range was not stored: why, and the head it was served under (the fork half of
    /// equivocation evidence when the peer's history no longer extends the replica).
    Range(ReplicaError, Box<SignedHead>),
    /// A verification task died.
    Task,
}

/// What a run did.
#[derive(Debug)]
pub struct Replicated {
    /// Events stored.
    pub stored: u64,
    /// Why it stopped.
    pub stop: Stop,
}

/// Replicates `peer`'s chain `chain_id` into `replica`, at most `max_rounds` ranges.
pub async fn replicate(
    mesh: &MeshHandle,
    peer: PeerId,
    chain_id: [u8; 16],
    replica: Arc<Replica>,
    max_rounds: usize,
) -> Replicated {
    let mut stored = 0;
    let chain_id = replica.chain().genesis().map_or(chain_id, |g| g.chain_id.0);
    let fetch = |from: u64| mesh.fetch_range(peer, SyncRequest::largest(chain_id, from));
    let ended = |stored, stop| Replicated { stored, stop };
    let first = match fetch(replica.len()).await {
        Ok(range) => range,
        Err(e) => return ended(stored, Stop::Fetch(e)),
    };
    let after_first = next_from(&first);
    let (checked, mut fetched) = tokio::join!(
        check(replica.clone(), first, None),
        fetch_from(&fetch, after_first)
    );
    let mut checked = match checked {
        Ok(checked) => Arc::new(checked),
        Err(stop) => return ended(stored, stop),
    };
    for _ in 0..max_rounds {
        // Store this range, check the next against it, fetch the one after.
        let next = fetched.take();
        let after_next = next
            .as_ref()
            .and_then(|r| r.as_ref().ok())
            .and_then(next_from);
        let (written, next_checked, next_fetched) = tokio::join!(
            write(replica.clone(), checked.clone()),
            async {
                match next {
                    Some(Ok(range)) => {
                        Some(check(replica.clone(), range, Some(checked.clone())).await)
                    }
                    Some(Err(e)) => Some(Err(Stop::Fetch(e))),
                    None => None,
                }
            },
            fetch_from(&fetch, after_next)
        );
        match written {
            Ok(count) => stored += count,
            Err(stop) => return ended(stored, stop),
        }
        if checked.at_head() {
            return ended(stored, Stop::AtHead);
        }
        checked = match next_checked {
            Some(Ok(next)) => Arc::new(next),
            Some(Err(stop)) => return ended(stored, stop),
            None => {
                return ended(
                    stored,
                    Stop::Fetch("the peer served nothing to go on with".into()),
                )
            }
        };
        fetched = next_fetched;
    }
    ended(stored, Stop::Rounds)
}

/// Where the range after `range` starts, unless `range` reaches its head (an empty
/// range is only served at the head).
fn next_from(range: &Range) -> Option<u64> {
    let end = range.from.saturating_add(range.events.len() as u64);
    (!range.events.is_empty() && end < range.head.size()).then_some(end)
}

async fn fetch_from<F, Fut>(fetch: &F, from: Option<u64>) -> Option<Result<Range, String>>
where
    F: Fn(u64) -> Fut,
    Fut: std::future::Future<Output = Result<Range, String>>,
{
    Some(fetch(from?).await)
}

async fn check(
    replica: Arc<Replica>,
    range: Range,
    after: Option<Arc<CheckedRange>>,
) -> Result<CheckedRange, Stop> {
    let head = Box::new(range.head.clone());
    let task = tokio::task::spawn_blocking(move || replica.check(range, after.as_deref()));
    match task.await {
        Ok(Ok(checked)) => Ok(checked),
        Ok(Err(e)) => Err(Stop::Range(e, head)),
        Err(_) => Err(Stop::Task),
    }
}

async fn write(replica: Arc<Replica>, checked: Arc<CheckedRange>) -> Result<u64, Stop> {
    let head = Box::new(checked.head().clone());
    let task = tokio::task::spawn_blocking(move || replica.store(&checked));
    match task.await {
        Ok(Ok(extended)) => Ok(extended.stored),
        Ok(Err(e)) => Err(Stop::Range(e, head)),
        Err(_) => Err(Stop::Task),
    }
}
