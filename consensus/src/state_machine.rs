//! The Raft state machine of one member: the only writer of its chain while it is in a
//! cluster. Committed entries are applied in chunks, each chunk one kernel transaction:
//! its events, Merkle nodes, tree and gate writes, the last applied id, the membership and
//! the dedupe entries in one synced batch, and only then are the proposers answered.
//!
//! The state is the chain itself, already hash-linked and signed, so a snapshot is a small
//! [`Manifest`]: a member installing one fetches the events it lacks through verified range
//! sync ([`ChainFetcher`]), re-derives the tree and the gate from them, and only then
//! records the manifest.

use crate::apply::{self, APPLIED, DEDUPE, DEDUPE_BY_TIME, MEMBERSHIP};
use crate::codec::{decode, encode, io_error};
use crate::types::TypeConfig;
use futures::future::BoxFuture;
use futures::StreamExt;
use openraft::alias::{LogIdOf, SnapshotMetaOf, SnapshotOf, StoredMembershipOf};
use openraft::storage::{EntryResponder, RaftSnapshotBuilder, RaftStateMachine};
use openraft::EntryPayload;
use rocksdb::WriteBatch;
use serde::{Deserialize, Serialize};
use std::io;
use std::sync::Arc;
use weft_kernel::replica::Range;
use weft_kernel::store::cf;
use weft_kernel::txn::Signing;
use weft_kernel::Chain;

/// How often a snapshot's events are asked for before the install fails, and the pause
/// between attempts (a minute in all).
const FETCH_ATTEMPTS: u32 = 120;
const FETCH_PAUSE: std::time::Duration = std::time::Duration::from_millis(500);

/// Key of the current snapshot's manifest.
const SNAPSHOT: &[u8] = b"snapshot";
/// Most committed entries one transaction applies: one fsync covers them all, and a
/// follower catching up on a long log still commits (and frees memory) regularly.
const ENTRIES_PER_TXN: usize = 256;

/// A snapshot: where the chain stood at a log id. The events themselves are fetched by
/// range sync and checked against their signed heads.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    /// The last log id the snapshot covers.
    pub last_log_id: Option<LogIdOf<TypeConfig>>,
    /// The membership as of then.
    pub membership: StoredMembershipOf<TypeConfig>,
    /// The genesis key (hex), which a member starting from nothing checks the genesis
    /// against.
    pub genesis_key: String,
    /// Events in the chain.
    pub chain_len: u64,
    /// Hash of the last event (hex).
    pub head_hash: String,
    /// Merkle root over all events (hex).
    pub merkle_root: String,
    /// The dedupe table: (key, value) pairs of the `raft` family.
    pub dedupe: Vec<(Vec<u8>, Vec<u8>)>,
}

/// Fetches ranges of the cluster's chain from a member that has them (over the mesh's
/// range sync, in the daemon).
pub trait ChainFetcher: Send + Sync + 'static {
    /// Events `from..` of the chain `manifest` describes, with a signed head.
    fn fetch<'a>(
        &'a self,
        from: u64,
        manifest: &'a Manifest,
    ) -> BoxFuture<'a, Result<Range, String>>;

    /// Says which member sent the snapshot being installed: the one to fetch from first.
    fn prefer(&self, _peer: weft_net::PeerId) {}
}
/// The state machine over the chain `host` holds.
pub struct StateMachine<H> {
    host: Arc<H>,
    fetcher: Arc<dyn ChainFetcher>,
}

impl<H> Clone for StateMachine<H> {
    fn clone(&self) -> Self {
        StateMachine {
            host: self.host.clone(),
            fetcher: self.fetcher.clone(),
        }
    }
}

impl<H: AsRef<Chain> + Send + Sync + 'static> StateMachine<H> {
    /// The state machine of the chain in `host`, fetching what a snapshot lacks through
    /// `fetcher`.
    pub fn new(host: Arc<H>, fetcher: Arc<dyn ChainFetcher>) -> StateMachine<H> {
        StateMachine { host, fetcher }
    }

    fn meta<T: serde::de::DeserializeOwned>(
        &self,
        key: &[u8],
        what: &str,
    ) -> io::Result<Option<T>> {
        let chain: &Chain = (*self.host).as_ref();
        match chain.store().get(cf::RAFT, key).map_err(io_error)? {
            Some(bytes) => decode(&bytes, what).map(Some),
            None => Ok(None),
        }
    }

    /// Events `from..` for a snapshot, retried for a while (a member just elected, a
    /// source restarting): failing the install stops this member's Raft node.
    async fn fetch(&self, from: u64, manifest: &Manifest) -> io::Result<Range> {
        let mut last = String::new();
        for attempt in 0..FETCH_ATTEMPTS {
            if attempt > 0 {
                tokio::time::sleep(FETCH_PAUSE).await;
            }
            match self.fetcher.fetch(from, manifest).await {
                Ok(range)
                    if range.from.saturating_add(range.events.len() as u64)
                        > manifest.chain_len =>
                {
                    last = format!(
                        "a range from {from} goes past the snapshot's {} events",
                        manifest.chain_len
                    );
                }
                Ok(range) => return Ok(range),
                Err(e) => last = e,
            }
        }
        Err(io_error(format!(
            "fetching events {from}.. for the snapshot: {last}"
        )))
    }

    /// Runs `work` on the chain on a blocking thread (RocksDB's synced writes block).
    async fn blocking<T: Send + 'static>(
        &self,
        work: impl FnOnce(&Chain) -> io::Result<T> + Send + 'static,
    ) -> io::Result<T> {
        let host = self.host.clone();
        tokio::task::spawn_blocking(move || work((*host).as_ref()))
            .await
            .map_err(io_error)?
    }
}

/// Applies a chunk of committed entries as one transaction; returns the replies for the
/// entries a proposer waits on, to be sent once the transaction is on disk.
fn apply_chunk(
    chain: &Chain,
    chunk: Vec<EntryResponder<TypeConfig>>,
) -> io::Result<
    Vec<(
        openraft::storage::ApplyResponder<TypeConfig>,
        crate::types::Replies,
    )>,
> {
    let mut txn = chain.transaction(0);
    let mut answers = Vec::new();
    for (entry, responder) in chunk {
        let replies = match &entry.payload {
            EntryPayload::Blank => crate::types::Replies::default(),
            EntryPayload::Normal(proposal) => {
                if txn.is_empty() {
                    return Err(io_error(format!(
                        "entry {} needs the chain, and this member's chain is empty: it must be sent a snapshot first",
                        entry.log_id
                    )));
                }
                apply::proposal(&mut txn, proposal)?
            }
            EntryPayload::Membership(membership) => {
                apply::membership(&mut txn, &entry.log_id, membership)?;
                crate::types::Replies::default()
            }
        };
        apply::applied(&mut txn, &entry.log_id)?;
        if let Some(responder) = responder {
            answers.push((responder, replies));
        }
    }
    txn.commit(Signing::IfAuthorised).map_err(io_error)?;
    Ok(answers)
}

impl<H: AsRef<Chain> + Send + Sync + 'static> RaftStateMachine<TypeConfig> for StateMachine<H> {
    type SnapshotData = Manifest;
    type SnapshotBuilder = Self;

    async fn applied_state(
        &mut self,
    ) -> io::Result<(Option<LogIdOf<TypeConfig>>, StoredMembershipOf<TypeConfig>)> {
        let applied = self.meta(APPLIED, "last applied log id")?;
        let membership = self.meta(MEMBERSHIP, "membership")?.unwrap_or_default();
        Ok((applied, membership))
    }

    async fn apply<S>(&mut self, entries: S) -> io::Result<()>
    where
        S: futures::Stream<Item = io::Result<EntryResponder<TypeConfig>>> + Unpin + Send,
    {
        let mut chunks = entries.ready_chunks(ENTRIES_PER_TXN);
        while let Some(chunk) = chunks.next().await {
            let chunk = chunk.into_iter().collect::<io::Result<Vec<_>>>()?;
            let answers = self
                .blocking(move |chain| apply_chunk(chain, chunk))
                .await?;
            for (responder, replies) in answers {
                responder.send(replies);
            }
        }
        Ok(())
    }

    async fn get_snapshot_builder(&mut self) -> Self::SnapshotBuilder {
        self.clone()
    }

    async fn install_snapshot(
        &mut self,
        meta: &SnapshotMetaOf<TypeConfig>,
        manifest: Manifest,
    ) -> io::Result<()> {
        let genesis_key: [u8; 32] = hex::decode(&manifest.genesis_key)
            .ok()
            .and_then(|b| b.try_into().ok())
            .ok_or_else(|| io_error("snapshot manifest: malformed genesis key"))?;
        // The next range is fetched while this one is verified and stored.
        let mut prefetched: Option<Range> = None;
        loop {
            let len = self.blocking(|chain| Ok(chain.len())).await?;
            if len > manifest.chain_len {
                return Err(io_error(format!(
                    "this member holds {len} events, more than the snapshot's {}: its chain is not a prefix of the cluster's",
                    manifest.chain_len
                )));
            }
            if len == manifest.chain_len {
                break;
            }
            let range = match prefetched.take().filter(|r| r.from == len) {
                Some(range) => range,
                None => self.fetch(len, &manifest).await?,
            };
            let end = range.from.saturating_add(range.events.len() as u64);
            let store = self.blocking(move |chain| {
                use weft_kernel::replica::{check, store};
                check(chain, &genesis_key, range, None)
                    .and_then(|checked| store(chain, &checked))
                    .map_err(io_error)
            });
            let extended = if end > len && end < manifest.chain_len {
                let (extended, next) = futures::join!(store, self.fetch(end, &manifest));
                prefetched = next.ok();
                extended?
            } else {
                store.await?
            };
            if extended.stored == 0 {
                return Err(io_error(format!(
                    "fetching events {len}.. for the snapshot made no progress"
                )));
            }
        }
        let manifest = manifest.clone();
        let meta = meta.clone();
        self.blocking(move |chain| install(chain, &meta, &manifest))
            .await
    }

    async fn get_current_snapshot(
        &mut self,
    ) -> io::Result<Option<SnapshotOf<TypeConfig, Manifest>>> {
        let manifest: Option<Manifest> = self.meta(SNAPSHOT, "snapshot manifest")?;
        Ok(manifest.map(|m| SnapshotOf::<TypeConfig, Manifest> {
            meta: SnapshotMetaOf::<TypeConfig> {
                last_log_id: m.last_log_id,
                last_membership: m.membership.clone(),
            },
            snapshot: m,
        }))
    }
}

/// With the events in place: checks they end where the manifest says, re-derives the tree
/// and the gate, and records the manifest's state in one synced batch.
fn install(
    chain: &Chain,
    meta: &SnapshotMetaOf<TypeConfig>,
    manifest: &Manifest,
) -> io::Result<()> {
    let head = chain
        .head()
        .map(|(_, hash)| hash.to_hex())
        .unwrap_or_default();
    if chain.len() != manifest.chain_len || head != manifest.head_hash {
        return Err(io_error(format!(
            "the fetched chain ends at {} in {head}, the snapshot names {} in {}",
            chain.len(),
            manifest.chain_len,
            manifest.head_hash
        )));
    }
    weft_kernel::tree::Tree::new(chain)
        .rebuild()
        .map_err(io_error)?;
    weft_kernel::gate::rebuild(chain).map_err(io_error)?;
    let store = chain.store();
    let family = store.cf(cf::RAFT);
    let mut batch = WriteBatch::default();
    for prefix in [DEDUPE, DEDUPE_BY_TIME] {
        let mut end = prefix.to_vec();
        if let Some(last) = end.last_mut() {
            *last += 1;
        }
        batch.delete_range_cf(family, prefix, &end);
    }
    for (key, value) in &manifest.dedupe {
        if key.starts_with(DEDUPE) || key.starts_with(DEDUPE_BY_TIME) {
            batch.put_cf(family, key, value);
        }
    }
    if let Some(last) = &meta.last_log_id {
        batch.put_cf(family, APPLIED, encode(last)?);
    }
    batch.put_cf(family, MEMBERSHIP, encode(&meta.last_membership)?);
    batch.put_cf(family, SNAPSHOT, encode(manifest)?);
    // The head that vouched for the last fetched range is range sync's bookkeeping; from
    // here the member's own applied heads speak for its chain (and members' stores stay
    // byte-identical).
    batch.delete_cf(store.cf(cf::INDEX), weft_kernel::replica::VOUCHING_HEAD_KEY);
    store.write_synced(batch).map_err(io_error)
}

impl<H: AsRef<Chain> + Send + Sync + 'static> RaftSnapshotBuilder<TypeConfig> for StateMachine<H> {
    type SnapshotData = Manifest;

    async fn build_snapshot(&mut self) -> io::Result<SnapshotOf<TypeConfig, Manifest>> {
        let manifest = self.blocking(build).await?;
        Ok(SnapshotOf::<TypeConfig, Manifest> {
            meta: SnapshotMetaOf::<TypeConfig> {
                last_log_id: manifest.last_log_id,
                last_membership: manifest.membership.clone(),
            },
            snapshot: manifest,
        })
    }
}

/// Reads the applied state under the chain's commit lock (so the log id, the chain's end
/// and the dedupe table agree) and records it as the current snapshot. It holds the lock
/// only for reading a few keys and the dedupe table: appends wait that long, no longer.
fn build(chain: &Chain) -> io::Result<Manifest> {
    let genesis_key = chain
        .genesis()
        .map(|g| hex::encode(g.public_key))
        .ok_or_else(|| io_error("a snapshot of an empty chain"))?;
    let txn = chain.transaction(0);
    let read = |key: &[u8]| txn.get(cf::RAFT, key).map_err(io_error);
    let last_log_id = match read(APPLIED)? {
        Some(bytes) => Some(decode(&bytes, "last applied log id")?),
        None => None,
    };
    let membership = match read(MEMBERSHIP)? {
        Some(bytes) => decode(&bytes, "membership")?,
        None => StoredMembershipOf::<TypeConfig>::default(),
    };
    let mut dedupe = txn.scan(cf::RAFT, DEDUPE).map_err(io_error)?;
    dedupe.extend(txn.scan(cf::RAFT, DEDUPE_BY_TIME).map_err(io_error)?);
    let manifest = Manifest {
        last_log_id,
        membership,
        genesis_key,
        chain_len: txn.len(),
        head_hash: txn.head_hash().to_hex(),
        merkle_root: txn.merkle_root().to_hex(),
        dedupe,
    };
    drop(txn);
    let mut batch = WriteBatch::default();
    batch.put_cf(chain.store().cf(cf::RAFT), SNAPSHOT, encode(&manifest)?);
    chain.store().write_synced(batch).map_err(io_error)?;
    Ok(manifest)
}
