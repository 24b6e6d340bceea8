//! Replicating a peer's chain range by range, three ranges under way at once: while
//! one range is written (its fsync), the next is verified and the one after is fetched,
//! so the serving peer, the network, the verifier and the disk all work at the same time.
//! A range is only ever stored after the one before it; a range that fails stops the
//! run, and what was fetched or checked after it is dropped.

use crate::mesh::MeshHandle;
use crate::wire::SyncRequest;
use libp2p::PeerId;
use std::sync::Arc;
use tokio::sync::mpsc;
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
///
/// Three stages joined by one-slot channels, each going on as soon as the next has taken
/// its last range (a stage never waits for the slowest of the others, as a lockstep
/// round would): fetching, checking each range against the one checked before it, and
/// storing. A failure travels down the pipe in order, so the run stops with the error of
/// the first range that was not stored. At most three ranges are held, one per stage.
pub async fn replicate(
    mesh: &MeshHandle,
    peer: PeerId,
    chain_id: [u8; 16],
    replica: Arc<Replica>,
    max_rounds: usize,
) -> Replicated {
    let chain_id = replica.chain().genesis().map_or(chain_id, |g| g.chain_id.0);
    let (fetched_tx, mut fetched_rx) = mpsc::channel::<Result<Range, Stop>>(1);
    let (checked_tx, mut checked_rx) = mpsc::channel::<Result<Arc<CheckedRange>, Stop>>(1);
    // Each stage takes its slot in the next one's channel before it starts on a range,
    // so one range is fetched, one checked and one stored at a time, never more.
    let fetching = async {
        let mut from = Some(replica.len());
        for _ in 0..max_rounds {
            let (Some(at), Ok(slot)) = (from, fetched_tx.reserve().await) else {
                break;
            };
            let range = mesh
                .fetch_range(peer, SyncRequest::largest(chain_id, at))
                .await
                .map_err(Stop::Fetch);
            from = range.as_ref().ok().and_then(next_from);
            let failed = range.is_err();
            slot.send(range);
            if failed {
                break;
            }
        }
    };
    let checking = async {
        let mut before: Option<Arc<CheckedRange>> = None;
        while let Ok(slot) = checked_tx.reserve().await {
            let Some(range) = fetched_rx.recv().await else {
                break;
            };
            let checked = match range {
                Ok(range) => check(replica.clone(), range, before.take())
                    .await
                    .map(Arc::new),
                Err(stop) => Err(stop),
            };
            before = checked.as_ref().ok().cloned();
            let failed = checked.is_err();
            slot.send(checked);
            if failed {
                break;
            }
        }
    };
    let storing = async {
        let mut stored = 0;
        let ended = |stored, stop| Replicated { stored, stop };
        for _ in 0..max_rounds {
            let checked = match checked_rx.recv().await {
                Some(Ok(checked)) => checked,
                Some(Err(stop)) => return ended(stored, stop),
                None => {
                    return ended(
                        stored,
                        Stop::Fetch("the peer served nothing to go on with".into()),
                    )
                }
            };
            match write(replica.clone(), checked.clone()).await {
                Ok(count) => stored += count,
                Err(stop) => return ended(stored, stop),
            }
            if checked.at_head() {
                return ended(stored, Stop::AtHead);
            }
        }
        ended(stored, Stop::Rounds)
    };
    // The run ends with the store stage; a fetch or check still under way is dropped.
    tokio::select! {
        biased;
        run = storing => run,
        never = async {
            tokio::join!(fetching, checking);
            std::future::pending::<Replicated>().await
        } => never,
    }
}

/// Where the range after `range` starts, unless `range` reaches its head (an empty
/// range is only served at the head).
fn next_from(range: &Range) -> Option<u64> {
    let end = range.from.saturating_add(range.events.len() as u64);
    (!range.events.is_empty() && end < range.head.size()).then_some(end)
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
