//! The knowledge-graph cache under `.weftos/graph/`: a RocksDB store of derived data that
//! can always be rebuilt from the working tree and git history.
//!
//! Column families:
//! - `facts`: extractor version (4 bytes BE) ‖ content hash → CBOR [`FileFacts`]
//! - `files`: repository-relative path → CBOR [`FileEntry`] (the last scan's view)
//! - `vectors`: embedding id hash of the text → 384 little-endian f32
//! - `meta`: named blobs (`history`: mined git history; `index`: the search index's
//!   entries and the hash of its file)

use super::facts::FileFacts;
use super::lang::{Language, EXTRACTOR_VERSION};
use rocksdb::WriteBatch;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::path::Path;
use weft_kernel::store::StoreError;
use weft_kernel::{Hash, Store};

const FACTS: &str = "facts";
const FILES: &str = "files";
const VECTORS: &str = "vectors";
const META: &str = "meta";
const FAMILIES: [&str; 4] = [FACTS, FILES, VECTORS, META];

/// A cached value could not be decoded: the cache is damaged or from another version.
#[derive(Debug, thiserror::Error)]
pub enum GraphStoreError {
    /// RocksDB or the lock.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A value failed to decode.
    #[error("graph cache {family}/{key}: {reason}; delete .weftos/graph/ to rebuild it")]
    Decode {
        /// Column family.
        family: &'static str,
        /// Key, printable.
        key: String,
        /// Decoder message.
        reason: String,
    },
}

/// What the last scan saw of one file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileEntry {
    /// SHAKE-256 of the content.
    pub hash: Hash,
    /// Language.
    pub language: Language,
}

/// The open graph store.
#[derive(Debug)]
pub struct GraphStore {
    store: Store,
}

fn facts_key(hash: &Hash) -> Vec<u8> {
    let mut key = EXTRACTOR_VERSION.to_be_bytes().to_vec();
    key.extend_from_slice(&hash.0);
    key
}

fn encode<T: Serialize>(value: &T) -> Vec<u8> {
    let mut out = Vec::new();
    ciborium::into_writer(value, &mut out).expect("CBOR encoding into a Vec cannot fail");
    out
}

fn decode<T: DeserializeOwned>(
    family: &'static str,
    key: &[u8],
    bytes: &[u8],
) -> Result<T, GraphStoreError> {
    ciborium::from_reader(bytes).map_err(|e| GraphStoreError::Decode {
        family,
        key: String::from_utf8_lossy(key).into_owned(),
        reason: e.to_string(),
    })
}

impl GraphStore {
    /// Opens (creating if needed) the store in `dir`.
    pub fn open(dir: &Path) -> Result<GraphStore, GraphStoreError> {
        Ok(GraphStore {
            store: Store::open_derived(dir, &FAMILIES)?,
        })
    }

    /// Cached facts of a content hash.
    pub fn facts(&self, hash: &Hash) -> Result<Option<FileFacts>, GraphStoreError> {
        let key = facts_key(hash);
        self.store
            .get(FACTS, &key)?
            .map(|b| decode(FACTS, hash.to_hex().as_bytes(), &b))
            .transpose()
    }

    /// Every file entry of the last scan, by path.
    pub fn files(&self) -> Result<Vec<(String, FileEntry)>, GraphStoreError> {
        let db = self.store.db();
        let mut out = Vec::new();
        for item in db.iterator_cf(self.store.cf(FILES), rocksdb::IteratorMode::Start) {
            let (k, v) = item.map_err(|e| self.store.rocks(e))?;
            let path = String::from_utf8_lossy(&k).into_owned();
            out.push((path, decode(FILES, &k, &v)?));
        }
        Ok(out)
    }

    /// Records a scan: new facts, and the file table replaced by `files` (paths not in
    /// it are removed). One write, so a crash leaves the old or the new view.
    pub fn record_scan(
        &self,
        new_facts: &[(Hash, FileFacts)],
        files: &[(String, FileEntry)],
        removed: &[String],
    ) -> Result<(), GraphStoreError> {
        let mut batch = WriteBatch::default();
        for (hash, facts) in new_facts {
            batch.put_cf(self.store.cf(FACTS), facts_key(hash), encode(facts));
        }
        for (path, entry) in files {
            batch.put_cf(self.store.cf(FILES), path.as_bytes(), encode(entry));
        }
        for path in removed {
            batch.delete_cf(self.store.cf(FILES), path.as_bytes());
        }
        self.store.write_synced(batch)?;
        Ok(())
    }

    /// A cached embedding.
    pub fn vector(&self, key: &Hash) -> Result<Option<Vec<f32>>, GraphStoreError> {
        Ok(self.store.get(VECTORS, &key.0)?.map(|b| {
            b.chunks_exact(4)
                .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                .collect()
        }))
    }

    /// Caches embeddings.
    pub fn put_vectors(&self, items: &[(Hash, Vec<f32>)]) -> Result<(), GraphStoreError> {
        let mut batch = WriteBatch::default();
        for (key, v) in items {
            let bytes: Vec<u8> = v.iter().flat_map(|f| f.to_le_bytes()).collect();
            batch.put_cf(self.store.cf(VECTORS), key.0, bytes);
        }
        self.store.write_synced(batch)?;
        Ok(())
    }

    /// A named blob.
    pub fn meta<T: DeserializeOwned>(&self, name: &str) -> Result<Option<T>, GraphStoreError> {
        self.store
            .get(META, name.as_bytes())?
            .map(|b| decode(META, name.as_bytes(), &b))
            .transpose()
    }

    /// Stores a named blob.
    pub fn put_meta<T: Serialize>(&self, name: &str, value: &T) -> Result<(), GraphStoreError> {
        let mut batch = WriteBatch::default();
        batch.put_cf(self.store.cf(META), name.as_bytes(), encode(value));
        self.store.write_synced(batch)?;
        Ok(())
    }
}
