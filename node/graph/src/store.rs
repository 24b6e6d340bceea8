//! The knowledge-graph cache under `.weftos/graph/`: a RocksDB store of derived data that
//! can always be rebuilt from the working tree and git history.
//!
//! Column families:
//! - `facts`: extractor version (4 bytes BE) ‖ content hash → CBOR [`FileFacts`]; and
//!   `config/` ‖ config extractor version ‖ content hash → CBOR
//!   [`crate::config_schema::ConfigFacts`] ([`crate::config_schema::cache`])
//! - `files`: repository-relative path → CBOR [`FileEntry`] (the last scan's view)
//! - `vectors`: embedding id hash of the text → 384 little-endian f32
//! - `meta`: named blobs (`history`: mined git history; `index`: the search index's
//!   entries and the hash of its file; `config_files`: the last config scan's view)
//!
//! A value that does not decode is treated as absent and recomputed: nothing here is
//! the only copy of anything. For the same reason writes are not synced: a crash may
//! lose the last scan's cache entries (they are recomputed), never the chain's events.

use super::embed::DIMENSIONS;
use super::facts::FileFacts;
use super::lang::{Language, EXTRACTOR_VERSION};
use rocksdb::WriteBatch;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::path::Path;
use weft_kernel::store::StoreError;
use weft_kernel::{Hash, Store};

pub(crate) const FACTS: &str = "facts";
const FILES: &str = "files";
const VECTORS: &str = "vectors";
pub(crate) const META: &str = "meta";
const FAMILIES: [&str; 4] = [FACTS, FILES, VECTORS, META];

/// The cache could not be opened, read or written.
#[derive(Debug, thiserror::Error)]
pub enum GraphStoreError {
    /// RocksDB or the lock.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What the last scan saw of one file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileEntry {
    /// SHAKE-256 of the content.
    pub hash: Hash,
    /// Language.
    pub language: Language,
}

/// The open graph store, or a read-only view of another node's (see
/// [`GraphStore::view`]).
#[derive(Debug)]
pub struct GraphStore {
    /// None: a view of a node that has no cache yet.
    store: Option<Store>,
    read_only: bool,
}

fn facts_key(hash: &Hash) -> Vec<u8> {
    let mut key = EXTRACTOR_VERSION.to_be_bytes().to_vec();
    key.extend_from_slice(&hash.0);
    key
}

pub(crate) fn encode<T: Serialize>(value: &T) -> Vec<u8> {
    let mut out = Vec::new();
    ciborium::into_writer(value, &mut out).expect("CBOR encoding into a Vec cannot fail");
    out
}

/// Everything here is derived data: a value that does not decode (damaged, or written by
/// another version) counts as absent, so it is computed and written again.
pub(crate) fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Option<T> {
    ciborium::from_reader(bytes).ok()
}

impl GraphStore {
    /// Opens (creating if needed) the store in `dir`.
    pub fn open(dir: &Path) -> Result<GraphStore, GraphStoreError> {
        Ok(GraphStore {
            store: Some(Store::open_derived(dir, &FAMILIES)?),
            read_only: false,
        })
    }

    /// A read-only view of the cache in `dir`, which another process (a peer's daemon)
    /// may hold and write meanwhile. Lookups read what the cache had when the view was
    /// opened; writes are dropped, since the view only saves recomputation. A missing or
    /// unreadable cache gives an empty view: everything is derived and can be recomputed.
    pub fn view(dir: &Path) -> GraphStore {
        GraphStore {
            store: Store::open_view(dir, &FAMILIES).ok(),
            read_only: true,
        }
    }

    pub(crate) fn get(&self, family: &str, key: &[u8]) -> Result<Option<Vec<u8>>, GraphStoreError> {
        match &self.store {
            Some(store) => Ok(store.get(family, key)?),
            None => Ok(None),
        }
    }

    /// Writes a batch built against the store, unless this is a read-only view.
    pub(crate) fn write(
        &self,
        fill: impl FnOnce(&Store, &mut WriteBatch),
    ) -> Result<(), GraphStoreError> {
        let Some(store) = self.store.as_ref().filter(|_| !self.read_only) else {
            return Ok(());
        };
        let mut batch = WriteBatch::default();
        fill(store, &mut batch);
        store.write(batch)?;
        Ok(())
    }

    /// Cached facts of a content hash.
    pub fn facts(&self, hash: &Hash) -> Result<Option<FileFacts>, GraphStoreError> {
        Ok(self.get(FACTS, &facts_key(hash))?.and_then(|b| decode(&b)))
    }

    /// Every file entry of the last scan, by path.
    pub fn files(&self) -> Result<Vec<(String, FileEntry)>, GraphStoreError> {
        let mut out = Vec::new();
        let Some(store) = &self.store else {
            return Ok(out);
        };
        for item in store
            .db()
            .iterator_cf(store.cf(FILES), rocksdb::IteratorMode::Start)
        {
            let (k, v) = item.map_err(|e| store.rocks(e))?;
            if let Some(entry) = decode(&v) {
                out.push((String::from_utf8_lossy(&k).into_owned(), entry));
            }
        }
        Ok(out)
    }

    /// Records a scan: new facts, and the file table replaced by `files` (paths not in
    /// it are removed). One write, so a crash leaves the old or the new view.
    pub fn record_scan(
        &self,
        new_facts: &[(Hash, &FileFacts)],
        files: &[(String, FileEntry)],
        removed: &[String],
    ) -> Result<(), GraphStoreError> {
        self.write(|store, batch| {
            for (hash, facts) in new_facts {
                batch.put_cf(store.cf(FACTS), facts_key(hash), encode(facts));
            }
            for (path, entry) in files {
                batch.put_cf(store.cf(FILES), path.as_bytes(), encode(entry));
            }
            for path in removed {
                batch.delete_cf(store.cf(FILES), path.as_bytes());
            }
        })
    }

    /// A cached embedding (a value of the wrong length counts as absent).
    pub fn vector(&self, key: &Hash) -> Result<Option<Vec<f32>>, GraphStoreError> {
        Ok(self
            .get(VECTORS, &key.0)?
            .filter(|b| b.len() == DIMENSIONS * 4)
            .map(|b| {
                b.chunks_exact(4)
                    .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                    .collect()
            }))
    }

    /// Caches embeddings.
    pub fn put_vectors(&self, items: &[(Hash, Vec<f32>)]) -> Result<(), GraphStoreError> {
        self.write(|store, batch| {
            for (key, v) in items {
                let bytes: Vec<u8> = v.iter().flat_map(|f| f.to_le_bytes()).collect();
                batch.put_cf(store.cf(VECTORS), key.0, bytes);
            }
        })
    }

    /// A named blob.
    pub fn meta<T: DeserializeOwned>(&self, name: &str) -> Result<Option<T>, GraphStoreError> {
        Ok(self.get(META, name.as_bytes())?.and_then(|b| decode(&b)))
    }

    /// Stores a named blob.
    pub fn put_meta<T: Serialize>(&self, name: &str, value: &T) -> Result<(), GraphStoreError> {
        self.write(|store, batch| batch.put_cf(store.cf(META), name.as_bytes(), encode(value)))
    }
}
