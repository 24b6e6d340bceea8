//! The Raft log and vote, in the `raft_log` and `raft` column families of the chain's own
//! RocksDB: one write-ahead log orders vote, log and chain writes.
//!
//! Durability: a vote is synced before `save_vote` returns; appended entries are written
//! (readable at once) and synced before their callback fires; a purge writes its marker,
//! synced, before deleting anything, so a crash mid-purge leaves the marker covering what
//! may be gone. Truncation is not synced: entries it removed that reappear after a crash
//! are uncommitted ones the leader overwrites again.

use crate::codec::{decode, encode, io_error};
use crate::types::TypeConfig;
use openraft::alias::{EntryOf, LogIdOf, VoteOf};
use openraft::entry::RaftEntry;
use openraft::storage::{IOFlushed, LogState, RaftLogReader, RaftLogStorage};
use rocksdb::{Direction, IteratorMode, WriteBatch};
use std::fmt::Debug;
use std::io;
use std::ops::{Bound, RangeBounds};
use std::sync::Arc;
use weft_kernel::store::{cf, seq_key, Store};

/// Key of the vote in the `raft` family.
const VOTE: &[u8] = b"vote";
/// Key of the last purged log id.
const PURGED: &[u8] = b"purged";
/// Most entries one read returns: a lagging follower is sent the rest in later rounds,
/// and no read holds an unbounded log in memory.
const MAX_READ: u64 = 4096;

/// A member's Raft log (cheap to clone: every clone is the same store).
#[derive(Clone, Debug)]
pub struct LogStore {
    store: Arc<Store>,
}

impl LogStore {
    /// The log in `store` (the chain's store).
    pub fn new(store: Arc<Store>) -> LogStore {
        LogStore { store }
    }

    fn meta<T: serde::de::DeserializeOwned>(
        &self,
        key: &[u8],
        what: &str,
    ) -> io::Result<Option<T>> {
        match self.store.get(cf::RAFT, key).map_err(io_error)? {
            Some(bytes) => decode(&bytes, what).map(Some),
            None => Ok(None),
        }
    }

    fn put_meta_synced<T: serde::Serialize>(&self, key: &[u8], value: &T) -> io::Result<()> {
        let mut batch = WriteBatch::default();
        batch.put_cf(self.store.cf(cf::RAFT), key, encode(value)?);
        self.store.write_synced(batch).map_err(io_error)
    }

    fn last_entry(&self) -> io::Result<Option<EntryOf<TypeConfig>>> {
        let mut iter = self
            .store
            .db()
            .iterator_cf(self.store.cf(cf::RAFT_LOG), IteratorMode::End);
        match iter.next() {
            Some(item) => {
                let (_, bytes) = item.map_err(io_error)?;
                decode(&bytes, "log entry").map(Some)
            }
            None => Ok(None),
        }
    }
}

fn start_of(range: &impl RangeBounds<u64>) -> u64 {
    match range.start_bound() {
        Bound::Included(x) => *x,
        Bound::Excluded(x) => x.saturating_add(1),
        Bound::Unbounded => 0,
    }
}

impl RaftLogReader<TypeConfig> for LogStore {
    async fn try_get_log_entries<RB: RangeBounds<u64> + Clone + Debug + Send>(
        &mut self,
        range: RB,
    ) -> io::Result<Vec<EntryOf<TypeConfig>>> {
        let start = start_of(&range);
        let mut out = Vec::new();
        let iter = self.store.db().iterator_cf(
            self.store.cf(cf::RAFT_LOG),
            IteratorMode::From(&seq_key(start), Direction::Forward),
        );
        for item in iter {
            let (key, bytes) = item.map_err(io_error)?;
            let index = weft_kernel::store::key_seq(&key)
                .ok_or_else(|| io_error(format!("malformed log key {}", hex::encode(&key))))?;
            if !range.contains(&index) || out.len() as u64 >= MAX_READ {
                break;
            }
            let entry: EntryOf<TypeConfig> = decode(&bytes, "log entry")?;
            if entry.index() != index {
                return Err(io_error(format!(
                    "log entry stored at {index} says it is {}",
                    entry.index()
                )));
            }
            out.push(entry);
        }
        Ok(out)
    }

    async fn read_vote(&mut self) -> io::Result<Option<VoteOf<TypeConfig>>> {
        self.meta(VOTE, "vote")
    }
}

impl RaftLogStorage<TypeConfig> for LogStore {
    type LogReader = Self;

    async fn get_log_state(&mut self) -> io::Result<LogState<TypeConfig>> {
        let last_purged_log_id: Option<LogIdOf<TypeConfig>> = self.meta(PURGED, "purge marker")?;
        let last_log_id = match self.last_entry()? {
            Some(entry) => Some(entry.log_id()),
            None => last_purged_log_id,
        };
        Ok(LogState {
            last_purged_log_id,
            last_log_id,
        })
    }

    async fn get_log_reader(&mut self) -> Self::LogReader {
        self.clone()
    }

    async fn save_vote(&mut self, vote: &VoteOf<TypeConfig>) -> io::Result<()> {
        self.put_meta_synced(VOTE, vote)
    }

    async fn append<I>(&mut self, entries: I, callback: IOFlushed<TypeConfig>) -> io::Result<()>
    where
        I: IntoIterator<Item = EntryOf<TypeConfig>> + Send,
        I::IntoIter: Send,
    {
        let mut batch = WriteBatch::default();
        let family = self.store.cf(cf::RAFT_LOG);
        for entry in entries {
            batch.put_cf(family, seq_key(entry.index()), encode(&entry)?);
        }
        // Written here, so that reads see the entries as soon as this returns; synced on
        // a blocking thread, and only then reported flushed.
        self.store.write(batch).map_err(io_error)?;
        let store = self.store.clone();
        tokio::task::spawn_blocking(move || {
            let result = store.db().flush_wal(true).map_err(io_error);
            callback.io_completed(result);
        });
        Ok(())
    }

    async fn truncate_after(&mut self, last_log_id: Option<LogIdOf<TypeConfig>>) -> io::Result<()> {
        let from = last_log_id.map_or(0, |id| id.index().saturating_add(1));
        let mut batch = WriteBatch::default();
        batch.delete_range_cf(
            self.store.cf(cf::RAFT_LOG),
            seq_key(from),
            seq_key(u64::MAX),
        );
        // The last key itself is outside the half-open range.
        batch.delete_cf(self.store.cf(cf::RAFT_LOG), seq_key(u64::MAX));
        self.store.write(batch).map_err(io_error)
    }

    async fn purge(&mut self, log_id: LogIdOf<TypeConfig>) -> io::Result<()> {
        self.put_meta_synced(PURGED, &log_id)?;
        let mut batch = WriteBatch::default();
        batch.delete_range_cf(
            self.store.cf(cf::RAFT_LOG),
            seq_key(0),
            seq_key(log_id.index().saturating_add(1)),
        );
        self.store.write(batch).map_err(io_error)
    }
}
