//! The config scan, sibling of the source scan ([`crate::scan`]) and walking the same way
//! (gitignore-aware, [`crate::scan::SKIPPED_DIRS`], `[analysis] ignore`, at most
//! [`crate::scan::MAX_FILE_BYTES`], generated files left out) but into hidden directories
//! (`.github/workflows`, `.gitlab-ci.yml`): every TOML, YAML and JSON
//! file, its keys from the cache when its content is unchanged. A file that does not
//! parse is listed with [`super::ConfigFacts::malformed`] set, never failing the scan.

use super::cache::ConfigEntry;
use super::{extract, format_of, ConfigError, ConfigFacts, ConfigFormat, Malformed};
use crate::scan::{content_hash, read_source, walk_files, ScanError, ScanOptions, SourceFilter};
use crate::store::{GraphStore, GraphStoreError};
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use weft_kernel::Hash;

/// The config scan failed (the walk, reading a file, the cache or the grammar).
#[derive(Debug, thiserror::Error)]
pub enum ConfigScanError {
    /// Walking, reading or the ignore globs.
    #[error(transparent)]
    Scan(#[from] ScanError),
    /// The cache.
    #[error(transparent)]
    Store(#[from] GraphStoreError),
    /// Extraction of one file.
    #[error("{path}: {source}")]
    Extract {
        /// File.
        path: String,
        /// Cause.
        source: ConfigError,
    },
}

/// One configuration file of the working tree.
#[derive(Debug, Clone)]
pub struct ConfigFile {
    /// Repository-relative path with `/` separators.
    pub path: String,
    /// Format.
    pub format: ConfigFormat,
    /// Content hash.
    pub hash: Hash,
    /// Its keys.
    pub facts: Arc<ConfigFacts>,
}

/// The result of a config scan.
#[derive(Debug, Default)]
pub struct ConfigScan {
    /// Every configuration file, sorted by path.
    pub files: Vec<ConfigFile>,
    /// Files extracted in this scan.
    pub parsed: usize,
    /// Files whose keys came from the cache.
    pub reused: usize,
    /// Paths of the previous config scan that are gone.
    pub removed: Vec<String>,
}

impl ConfigScan {
    /// Keys across all files.
    pub fn key_count(&self) -> usize {
        self.files.iter().map(|f| f.facts.keys.len()).sum()
    }

    /// The files that do not parse, with their first error.
    pub fn malformed(&self) -> impl Iterator<Item = (&str, &Malformed)> {
        self.files
            .iter()
            .filter_map(|f| Some((f.path.as_str(), f.facts.malformed.as_ref()?)))
    }
}

/// Keys of a text, from the cache or extracted (true when extracted; nothing written).
pub fn keys_of(
    store: &GraphStore,
    format: ConfigFormat,
    hash: &Hash,
    text: &str,
    path: &str,
) -> Result<(ConfigFacts, bool), ConfigScanError> {
    if let Some(facts) = store.config_facts(hash)? {
        return Ok((facts, false));
    }
    let facts = extract(format, text).map_err(|source| ConfigScanError::Extract {
        path: path.to_string(),
        source,
    })?;
    Ok((facts, true))
}

/// Scans the configuration files of the working tree at `root` and records the new view.
pub fn scan(
    root: &Path,
    store: &GraphStore,
    options: &ScanOptions,
    progress: &dyn Fn(u64, u64),
) -> Result<ConfigScan, ConfigScanError> {
    let filter = SourceFilter::new(options)?;
    let mut paths: Vec<(String, ConfigFormat)> = walk_files(root, true)?
        .into_iter()
        .filter(|rel| !filter.ignored(rel))
        .filter_map(|rel| Some((format_of(&rel)?, rel)))
        .map(|(format, rel)| (rel, format))
        .collect();
    paths.sort();
    let total = paths.len() as u64;
    let previous = store.config_files()?;
    let mut out = ConfigScan::default();
    let mut new_facts: Vec<(Hash, Arc<ConfigFacts>)> = Vec::new();
    for (i, (rel, format)) in paths.into_iter().enumerate() {
        progress(i as u64, total);
        let Some(text) = read_source(&root.join(&rel), None)? else {
            continue;
        };
        let hash = content_hash(&text);
        let (facts, parsed) = keys_of(store, format, &hash, &text, &rel)?;
        let facts = Arc::new(facts);
        if parsed {
            out.parsed += 1;
            new_facts.push((hash, facts.clone()));
        } else {
            out.reused += 1;
        }
        out.files.push(ConfigFile {
            path: rel,
            format,
            hash,
            facts,
        });
    }
    progress(total, total);
    let files: BTreeMap<String, ConfigEntry> = out
        .files
        .iter()
        .map(|f| {
            let entry = ConfigEntry {
                hash: f.hash,
                format: f.format,
            };
            (f.path.clone(), entry)
        })
        .collect();
    out.removed = previous
        .keys()
        .filter(|p| !files.contains_key(*p))
        .cloned()
        .collect();
    let changed = (files != previous).then_some(&files);
    if !new_facts.is_empty() || changed.is_some() {
        let new: Vec<(Hash, &ConfigFacts)> = new_facts.iter().map(|(h, f)| (*h, &**f)).collect();
        store.record_config_scan(&new, changed)?;
    }
    Ok(out)
}
