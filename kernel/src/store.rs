//! The RocksDB store under `.weftos/chain/`: one database, one column family per
//! kind of record, and an exclusive lock so only one process writes it.
//!
//! Column families and keys (all integers big-endian, so iteration order is numeric):
//! - `events`: seq → canonical event bytes ‖ 32-byte event hash
//! - `heads`: seq → signed head (canonical CBOR)
//! - `merkle`: level (1 byte) ‖ index (8 bytes) → 32-byte subtree hash, for levels
//!   [`MERKLE_STORED_FROM`] and up only: the 15 nodes below a stored one are recomputed
//!   from the event hashes in `events` when a proof needs them, so an append writes about
//!   1.1 keys per event instead of 3
//! - `tree`: node path → tree node record
//! - `gate`: pending deferred decisions, by decision sequence
//! - `index`: small lookup tables (`rules/<hash>` → seq of the `gate.rules` event,
//!   `signers/<seq>` → the keys a cluster event authorises)
//! - `raft_log`: a cluster member's Raft log, by index (the consensus crate's)
//! - `raft`: its vote, purge marker, last applied entry, membership, snapshot manifest and
//!   request dedupe table
//!
//! The Raft families live in the chain's database so that one write-ahead log orders the
//! vote, the log and the chain writes.

use rocksdb::{
    BlockBasedOptions, Cache, ColumnFamily, ColumnFamilyDescriptor, Options, WriteBatch,
    WriteOptions, DB,
};
use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};

/// Size of the block cache shared by every column family.
const BLOCK_CACHE_BYTES: usize = 16 << 20;
/// Memtable size per column family, but for `events`.
const WRITE_BUFFER_BYTES: usize = 8 << 20;
/// Memtable size of the `events` family, which takes nearly every byte a chain writes:
/// with an 8 MiB one, flushes and the compactions behind them cost a replica catching up
/// a fifth of its speed.
const EVENTS_WRITE_BUFFER_BYTES: usize = 64 << 20;
/// All memtables of every store a process opens, together: past this RocksDB flushes
/// the largest, so a daemon holding many replicas does not grow with their number.
const PROCESS_WRITE_BUFFER_BYTES: usize = 256 << 20;

/// The one write-buffer manager of this process.
fn write_buffer_manager() -> &'static rocksdb::WriteBufferManager {
    static MANAGER: std::sync::OnceLock<rocksdb::WriteBufferManager> = std::sync::OnceLock::new();
    MANAGER.get_or_init(|| {
        rocksdb::WriteBufferManager::new_write_buffer_manager(PROCESS_WRITE_BUFFER_BYTES, false)
    })
}

/// Column family names.
pub mod cf {
    /// Events by sequence.
    pub const EVENTS: &str = "events";
    /// Signed heads by sequence.
    pub const HEADS: &str = "heads";
    /// Merkle subtree hashes.
    pub const MERKLE: &str = "merkle";
    /// Resource tree nodes.
    pub const TREE: &str = "tree";
    /// Governance gate queue.
    pub const GATE: &str = "gate";
    /// Lookup tables.
    pub const INDEX: &str = "index";
    /// A cluster member's Raft log entries.
    pub const RAFT_LOG: &str = "raft_log";
    /// A cluster member's Raft state beside its log.
    pub const RAFT: &str = "raft";
    /// The families of the chain and its state: what a view of another node's store
    /// opens (a store that never ran as a cluster member may lack the Raft families).
    pub const CHAIN: [&str; 6] = [EVENTS, HEADS, MERKLE, TREE, GATE, INDEX];
    /// Every family, in creation order.
    pub const ALL: [&str; 8] = [EVENTS, HEADS, MERKLE, TREE, GATE, INDEX, RAFT_LOG, RAFT];
}

/// Why the store could not be opened or written.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// Another process holds the lock.
    #[error("store {path} is locked by pid {pid}: another weft process is using it; wait for it or stop it (`weft node stop` if a daemon runs)")]
    Locked {
        /// The store directory.
        path: PathBuf,
        /// The holder, as written in the lock file ("unknown" if unreadable).
        pid: String,
    },
    /// No store where one was expected.
    #[error("no chain store at {0}: run `weft init` first")]
    Missing(PathBuf),
    /// A store exists where a new one was to be created.
    #[error("a chain store already exists at {0}")]
    Exists(PathBuf),
    /// RocksDB failed.
    #[error("RocksDB at {path}: {message}")]
    Rocks {
        /// The store directory.
        path: PathBuf,
        /// RocksDB's message.
        message: String,
    },
    /// Filesystem failure around the store.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Cause.
        source: std::io::Error,
    },
}

/// An open store: the database and the lock that makes it ours (none for a read-only
/// view of another node's store, which its owner may be writing meanwhile).
pub struct Store {
    db: DB,
    path: PathBuf,
    _lock: Option<File>,
    /// A secondary instance's own directory (its info log and manifest copy), removed
    /// when the view is dropped.
    secondary: Option<PathBuf>,
    /// The options of an instrumented store, whose statistics count WAL syncs.
    statistics: Option<Options>,
}

impl Drop for Store {
    fn drop(&mut self) {
        if let Some(dir) = &self.secondary {
            // The database closes right after; on Linux its open files outlive the names.
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Store({})", self.path.display())
    }
}

/// The lock file inside the store directory (RocksDB leaves files it does not know alone).
pub const LOCK_FILE: &str = "weft.lock";

fn lock_path(dir: &Path) -> PathBuf {
    dir.join(LOCK_FILE)
}

fn acquire_lock(dir: &Path) -> Result<File, StoreError> {
    let path = lock_path(dir);
    let io = |source| StoreError::Io {
        path: path.clone(),
        source,
    };
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .map_err(io)?;
    if file.try_lock().is_err() {
        let mut pid = String::new();
        let _ = file.read_to_string(&mut pid);
        let pid = pid.trim();
        return Err(StoreError::Locked {
            path: dir.to_path_buf(),
            pid: if pid.is_empty() {
                "unknown".into()
            } else {
                pid.into()
            },
        });
    }
    file.set_len(0).map_err(io)?;
    file.rewind().map_err(io)?;
    write!(file, "{}", std::process::id()).map_err(io)?;
    Ok(file)
}

impl Store {
    /// Opens an existing store.
    pub fn open(dir: &Path) -> Result<Store, StoreError> {
        if !dir.join("CURRENT").exists() {
            return Err(StoreError::Missing(dir.to_path_buf()));
        }
        Store::open_locked(dir, &cf::ALL, false)
    }

    /// Opens the store at `dir` with the given column families, creating it when absent:
    /// for derived data (the knowledge graph) that can always be rebuilt. Same lock and
    /// cache discipline as the chain store.
    pub fn open_derived(dir: &Path, families: &[&str]) -> Result<Store, StoreError> {
        std::fs::create_dir_all(dir).map_err(|source| StoreError::Io {
            path: dir.to_path_buf(),
            source,
        })?;
        Store::open_locked(dir, families, false)
    }

    /// [`Store::create`] with RocksDB statistics on, so [`Store::wal_syncs`] can tell how
    /// often the write-ahead log reached the disk (durability tests and benchmarks).
    pub fn create_instrumented(dir: &Path) -> Result<Store, StoreError> {
        Store::create_with(dir, true)
    }

    /// How many times RocksDB synced the write-ahead log, on an instrumented store.
    pub fn wal_syncs(&self) -> Option<u64> {
        self.statistics
            .as_ref()
            .map(|opts| opts.get_ticker_count(rocksdb::statistics::Ticker::WalFileSynced))
    }

    /// Creates a new, empty store; the directory may exist but must hold no database.
    pub fn create(dir: &Path) -> Result<Store, StoreError> {
        Store::create_with(dir, false)
    }

    fn create_with(dir: &Path, instrumented: bool) -> Result<Store, StoreError> {
        if dir.join("CURRENT").exists() {
            return Err(StoreError::Exists(dir.to_path_buf()));
        }
        std::fs::create_dir_all(dir).map_err(|source| StoreError::Io {
            path: dir.to_path_buf(),
            source,
        })?;
        Store::open_locked(dir, &cf::ALL, instrumented)
    }

    /// Opens a view of an existing store without taking its lock: a RocksDB secondary
    /// instance, the mode RocksDB supports beside a live primary (a read-only open of a
    /// database another process writes may see a torn WAL). It has caught up with the
    /// primary's writes as of the call. Only the named families are opened; writes
    /// through it fail.
    pub fn open_view(dir: &Path, families: &[&str]) -> Result<Store, StoreError> {
        if !dir.join("CURRENT").exists() {
            return Err(StoreError::Missing(dir.to_path_buf()));
        }
        let secondary = secondary_dir();
        let (mut opts, families) = options(families);
        // A secondary keeps every file open so the primary's compactions cannot pull
        // them from under it.
        opts.set_max_open_files(-1);
        let db = DB::open_cf_descriptors_as_secondary(&opts, dir, &secondary, families)
            .and_then(|db| db.try_catch_up_with_primary().map(|()| db));
        if db.is_err() {
            let _ = std::fs::remove_dir_all(&secondary);
        }
        let mut store = Store::opened(dir, db, None)?;
        store.secondary = Some(secondary);
        Ok(store)
    }

    /// Opens under the store's lock; `instrumented` turns RocksDB's statistics on.
    fn open_locked(dir: &Path, families: &[&str], instrumented: bool) -> Result<Store, StoreError> {
        let lock = acquire_lock(dir)?;
        let (mut opts, families) = options(families);
        if instrumented {
            opts.enable_statistics();
        }
        let db = DB::open_cf_descriptors(&opts, dir, families);
        let mut store = Store::opened(dir, db, Some(lock))?;
        store.statistics = instrumented.then_some(opts);
        Ok(store)
    }

    fn opened(
        dir: &Path,
        db: Result<DB, rocksdb::Error>,
        lock: Option<File>,
    ) -> Result<Store, StoreError> {
        Ok(Store {
            db: db.map_err(|e| StoreError::Rocks {
                path: dir.to_path_buf(),
                message: e.to_string(),
            })?,
            path: dir.to_path_buf(),
            _lock: lock,
            secondary: None,
            statistics: None,
        })
    }
}

/// A fresh directory for one secondary instance, in the temporary directory.
fn secondary_dir() -> PathBuf {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    std::env::temp_dir().join(format!("weft-view-{}-{nanos}-{n}", std::process::id()))
}

/// Database options and family descriptors, the same for every way of opening.
fn options(families: &[&str]) -> (Options, Vec<ColumnFamilyDescriptor>) {
    let mut opts = Options::default();
    opts.create_if_missing(true);
    opts.create_missing_column_families(true);
    opts.set_paranoid_checks(true);
    // Small memtables (but for events): a CLI process is short-lived.
    opts.set_write_buffer_size(WRITE_BUFFER_BYTES);
    opts.set_write_buffer_manager(write_buffer_manager());
    opts.set_keep_log_file_num(4);
    // One bounded cache holds data, index and filter blocks of every family, so
    // memory stays flat however long the chain grows.
    let cache = Cache::new_lru_cache(BLOCK_CACHE_BYTES);
    let families = families.iter().map(|name| {
        let mut table = BlockBasedOptions::default();
        table.set_block_cache(&cache);
        table.set_cache_index_and_filter_blocks(true);
        table.set_pin_l0_filter_and_index_blocks_in_cache(true);
        let mut family = Options::default();
        family.set_block_based_table_factory(&table);
        family.set_write_buffer_size(if *name == cf::EVENTS {
            EVENTS_WRITE_BUFFER_BYTES
        } else {
            WRITE_BUFFER_BYTES
        });
        ColumnFamilyDescriptor::new(*name, family)
    });
    (opts, families.collect())
}

impl Store {
    /// The directory.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// A column family handle.
    pub fn cf(&self, name: &str) -> &ColumnFamily {
        self.db
            .cf_handle(name)
            .expect("every column family is created at open")
    }

    /// The database.
    pub fn db(&self) -> &DB {
        &self.db
    }

    /// Wraps a RocksDB error with the store's path.
    pub fn rocks(&self, e: rocksdb::Error) -> StoreError {
        StoreError::Rocks {
            path: self.path.clone(),
            message: e.to_string(),
        }
    }

    /// Reads one value.
    pub fn get(&self, family: &str, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        self.db
            .get_cf(self.cf(family), key)
            .map_err(|e| self.rocks(e))
    }

    /// Writes a batch without waiting for stable storage: for derived data, which a crash
    /// may lose but never corrupt (the write-ahead log is still written in order).
    pub fn write(&self, batch: WriteBatch) -> Result<(), StoreError> {
        self.db.write(batch).map_err(|e| self.rocks(e))
    }

    /// Flushes every memtable and waits until background compactions are done: a
    /// benchmark measures a store at rest, not one still compacting what built it.
    pub fn settle(&self) -> Result<(), StoreError> {
        let mut wait = rocksdb::WaitForCompactOptions::default();
        wait.set_flush(true);
        self.db.wait_for_compact(&wait).map_err(|e| self.rocks(e))
    }

    /// Writes a batch and waits until it is on stable storage (fsync of the WAL).
    pub fn write_synced(&self, batch: WriteBatch) -> Result<(), StoreError> {
        let mut opts = WriteOptions::default();
        opts.set_sync(true);
        self.db.write_opt(batch, &opts).map_err(|e| self.rocks(e))
    }
}

/// Big-endian key for a sequence number.
pub fn seq_key(seq: u64) -> [u8; 8] {
    seq.to_be_bytes()
}

/// Reads a sequence key back.
pub fn key_seq(key: &[u8]) -> Option<u64> {
    <[u8; 8]>::try_from(key).ok().map(u64::from_be_bytes)
}

/// The lowest level of Merkle subtree the `merkle` family holds (a subtree of 16 events).
/// Chains written before this rule also hold the lower levels; they are never read.
pub const MERKLE_STORED_FROM: u32 = 4;

/// Key of a Merkle subtree.
pub fn merkle_key(level: u32, index: u64) -> [u8; 9] {
    let mut k = [0u8; 9];
    k[0] = level as u8;
    k[1..].copy_from_slice(&index.to_be_bytes());
    k
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn second_open_names_the_lock_holder() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("chain");
        let _first = Store::create(&path).expect("create");
        // flock is per open file description, so a second open in-process conflicts too.
        match Store::open(&path) {
            Err(StoreError::Locked { pid, .. }) => assert_eq!(pid, std::process::id().to_string()),
            other => panic!("expected a lock error, got {other:?}"),
        }
    }

    #[test]
    fn open_refuses_a_missing_store_and_create_refuses_an_existing_one() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("chain");
        assert!(matches!(Store::open(&path), Err(StoreError::Missing(_))));
        drop(Store::create(&path).expect("create"));
        assert!(matches!(Store::create(&path), Err(StoreError::Exists(_))));
        assert!(Store::open(&path).is_ok());
    }

    #[test]
    fn a_view_sees_a_locked_store_and_cannot_write_it() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("chain");
        assert!(matches!(
            Store::open_view(&path, &cf::ALL),
            Err(StoreError::Missing(_))
        ));
        let owner = Store::create(&path).expect("create");
        let mut batch = WriteBatch::default();
        batch.put_cf(owner.cf(cf::INDEX), b"k", b"v1");
        owner.write(batch).expect("write");
        // The owner keeps its lock; the view needs none and sees the unflushed write.
        let view = Store::open_view(&path, &[cf::INDEX]).expect("view");
        let secondary = view.secondary.clone().expect("a secondary instance");
        assert_eq!(
            view.get(cf::INDEX, b"k").expect("get").as_deref(),
            Some(&b"v1"[..])
        );
        let mut batch = WriteBatch::default();
        batch.put_cf(view.cf(cf::INDEX), b"k", b"v2");
        assert!(
            view.write(batch).is_err(),
            "a read-only view must refuse writes"
        );
        assert_eq!(
            owner.get(cf::INDEX, b"k").expect("get").as_deref(),
            Some(&b"v1"[..])
        );
        assert!(
            secondary.is_dir(),
            "the secondary's directory exists while open"
        );
        drop(view);
        assert!(!secondary.exists(), "and goes with the view");
    }
}
