//! The configuration keys' part of the graph cache: keys per content hash in the `facts`
//! family under their own prefix (`config/` ‖ [`CONFIG_EXTRACTOR_VERSION`] ‖ hash), and
//! the last config scan's file table as the `config_files` meta blob, so a rescan
//! extracts only files whose content changed.

use super::{ConfigFacts, ConfigFormat, CONFIG_EXTRACTOR_VERSION};
use crate::store::{decode, encode, GraphStore, GraphStoreError, FACTS, META};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use weft_kernel::Hash;

const PREFIX: &[u8] = b"config/";
const FILES_KEY: &str = "config_files";

/// What the last config scan saw of one file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConfigEntry {
    /// SHAKE-256 of the content.
    pub hash: Hash,
    /// Format.
    pub format: ConfigFormat,
}

fn key(hash: &Hash) -> Vec<u8> {
    let mut key = PREFIX.to_vec();
    key.extend_from_slice(&CONFIG_EXTRACTOR_VERSION.to_be_bytes());
    key.extend_from_slice(&hash.0);
    key
}

impl GraphStore {
    /// Cached keys of a content hash.
    pub fn config_facts(&self, hash: &Hash) -> Result<Option<ConfigFacts>, GraphStoreError> {
        Ok(self.get(FACTS, &key(hash))?.and_then(|b| decode(&b)))
    }

    /// The last config scan's files, by path.
    pub fn config_files(&self) -> Result<BTreeMap<String, ConfigEntry>, GraphStoreError> {
        Ok(self.meta(FILES_KEY)?.unwrap_or_default())
    }

    /// Records a config scan: new keys, and (when it changed) the file table. One write.
    pub fn record_config_scan(
        &self,
        new_facts: &[(Hash, &ConfigFacts)],
        files: Option<&BTreeMap<String, ConfigEntry>>,
    ) -> Result<(), GraphStoreError> {
        self.write(|store, batch| {
            for (hash, facts) in new_facts {
                batch.put_cf(store.cf(FACTS), key(hash), encode(facts));
            }
            if let Some(files) = files {
                batch.put_cf(store.cf(META), FILES_KEY.as_bytes(), encode(files));
            }
        })
    }
}
