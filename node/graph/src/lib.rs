//! weft-graph: what a repository's code says. Tree-sitter facts per file, git history
//! mining, dependency manifests, symbol embeddings and their HNSW index (all cached in a
//! directory the caller names), and the questions asked of them: the public API's diff
//! between two commits, a peer's usage of an upstream, and assessments up to their report.
//! It records nothing on a chain and knows nothing of peers: the node does both.
//!
//! Floors, lowest first: syntax and model layers ([`lang`], [`facts`], [`scan`],
//! [`store`], [`config_schema`], [`history`], [`deps`], [`embed`], [`index`]);
//! [`KnowledgeGraph`], the one entry point over them; the questions ([`api`], [`version`],
//! [`usage`], [`imports`], [`assess`]).

#![deny(missing_docs)]

pub mod api;
pub mod assess;
pub mod config_schema;
pub mod deps;
pub mod embed;
pub mod facts;
pub mod history;
pub mod imports;
pub mod index;
pub mod lang;
pub mod scan;
pub mod store;
pub mod usage;
pub mod version;

use assess::rules::RuleConfig;
use config_schema::scan::{ConfigScan, ConfigScanError};
use config_schema::{ConfigFacts, ConfigFormat};
use embed::{EmbedError, Embedder, ModelFiles};
use history::{History, HistoryError, MineOutcome, MiningConfig};
use index::{IndexError, SymbolIndex, SyncStats};
use scan::{Scan, ScanError, ScanOptions};
use std::path::{Path, PathBuf};
use store::{GraphStore, GraphStoreError};

const HISTORY_KEY: &str = "history";

/// Errors of the knowledge graph.
#[derive(Debug, thiserror::Error)]
pub enum GraphError {
    /// The cache.
    #[error(transparent)]
    Store(#[from] GraphStoreError),
    /// Scanning.
    #[error(transparent)]
    Scan(#[from] ScanError),
    /// Scanning configuration files.
    #[error(transparent)]
    ConfigScan(#[from] ConfigScanError),
    /// Git history.
    #[error(transparent)]
    History(#[from] HistoryError),
    /// The model.
    #[error(transparent)]
    Embed(#[from] EmbedError),
    /// The index.
    #[error(transparent)]
    Index(#[from] IndexError),
    /// The repository could not be opened with git.
    #[error("{path}: {message}")]
    Git {
        /// Repository.
        path: PathBuf,
        /// libgit2's message.
        message: String,
    },
}

/// Progress callback: (done, total).
pub type Progress<'a> = &'a (dyn Fn(u64, u64) + Sync);

/// How the embedding model is run. Which files are loaded is not part of it: they come
/// from the user's environment ([`ModelFiles::locate`]), never from a repository.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelConfig {
    /// Texts per inference batch.
    pub batch_size: usize,
}

impl Default for ModelConfig {
    fn default() -> Self {
        ModelConfig { batch_size: 32 }
    }
}

impl ModelConfig {
    /// Loads the user's installed model.
    pub fn load(&self) -> Result<Embedder, EmbedError> {
        Embedder::load(&ModelFiles::locate()?, 0)
    }
}

/// What the knowledge graph is configured with (the node builds it from `weave.toml`).
#[derive(Debug, Clone, Default)]
pub struct GraphConfig {
    /// Which files are analysed.
    pub scan: ScanOptions,
    /// How git history is mined.
    pub mining: MiningConfig,
    /// The embedding model.
    pub model: ModelConfig,
    /// The assessment rules' thresholds and levels.
    pub rules: RuleConfig,
    /// Globs of the configuration files users set (`[analysis] public_config`): the API
    /// diff reports their keys removed, retyped or added.
    pub public_config: Vec<String>,
}

/// What the knowledge graph holds, for the capability advert.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GraphSummary {
    /// Languages of the scanned files, most files first.
    pub languages: Vec<String>,
    /// Symbols across the scanned files.
    pub symbols: u64,
    /// Symbols in the embedding index.
    pub vectors: u64,
    /// Embedding model id (empty without an index).
    pub model: String,
    /// Embedding dimensions (0 without an index).
    pub dims: u32,
}

/// Summarises the graph cached in `dir`; empty when there is none or it cannot be read
/// right now (a command holds it).
pub fn summary(dir: &Path) -> GraphSummary {
    if !dir.join("CURRENT").exists() {
        return GraphSummary::default();
    }
    let Ok(store) = GraphStore::open(dir) else {
        return GraphSummary::default();
    };
    let mut by_language: std::collections::BTreeMap<&'static str, u64> = Default::default();
    let mut symbols = 0u64;
    for (_, entry) in store.files().unwrap_or_default() {
        *by_language.entry(entry.language.as_str()).or_default() += 1;
        if let Ok(Some(facts)) = store.facts(&entry.hash) {
            symbols += facts.symbols.len() as u64;
        }
    }
    let mut languages: Vec<(&str, u64)> = by_language.into_iter().collect();
    languages.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    let vectors = index::indexed_count(&store).unwrap_or(0) as u64;
    GraphSummary {
        languages: languages
            .into_iter()
            .take(16)
            .map(|(l, _)| l.to_string())
            .collect(),
        symbols,
        vectors,
        model: if vectors > 0 {
            embed::EMBEDDING_ID.into()
        } else {
            String::new()
        },
        dims: if vectors > 0 {
            embed::DIMENSIONS as u32
        } else {
            0
        },
    }
}

/// One repository's knowledge graph.
#[derive(Debug)]
pub struct KnowledgeGraph {
    root: PathBuf,
    dir: PathBuf,
    store: GraphStore,
    config: GraphConfig,
}

impl KnowledgeGraph {
    /// Opens (creating if needed) the graph of the repository at `root`, cached in `dir`.
    pub fn open(
        root: &Path,
        dir: &Path,
        config: &GraphConfig,
    ) -> Result<KnowledgeGraph, GraphError> {
        Ok(KnowledgeGraph {
            root: root.to_path_buf(),
            store: GraphStore::open(dir)?,
            dir: dir.to_path_buf(),
            config: config.clone(),
        })
    }

    /// A read-only view of the graph of the repository at `root` cached in `dir`
    /// (another node's, whose daemon may hold it): nothing is written, and what is not
    /// cached is recomputed for this view only.
    pub fn view(root: &Path, dir: &Path, config: &GraphConfig) -> KnowledgeGraph {
        KnowledgeGraph {
            root: root.to_path_buf(),
            store: GraphStore::view(dir),
            dir: dir.to_path_buf(),
            config: config.clone(),
        }
    }

    /// The repository root.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The configuration it was opened with.
    pub fn config(&self) -> &GraphConfig {
        &self.config
    }

    /// The cache.
    pub fn store(&self) -> &GraphStore {
        &self.store
    }

    /// Which files are analysed.
    pub fn scan_options(&self) -> ScanOptions {
        self.config.scan.clone()
    }

    /// Scans the working tree (parsing only changed files).
    pub fn scan(&self, progress: Progress<'_>) -> Result<Scan, GraphError> {
        Ok(scan::scan(
            &self.root,
            &self.store,
            &self.scan_options(),
            progress,
        )?)
    }

    /// Scans the working tree's configuration files (extracting only changed ones).
    pub fn scan_config(&self, progress: &dyn Fn(u64, u64)) -> Result<ConfigScan, GraphError> {
        Ok(config_schema::scan::scan(
            &self.root,
            &self.store,
            &self.config.scan,
            progress,
        )?)
    }

    /// Keys of a configuration text at another revision (cached by content hash like
    /// the working tree's).
    pub fn config_of(&self, format: ConfigFormat, text: &str) -> Result<ConfigFacts, GraphError> {
        let hash = scan::content_hash(text);
        let (facts, parsed) = config_schema::scan::keys_of(
            &self.store,
            format,
            &hash,
            text,
            &format!("<{}>", hash.to_hex()),
        )?;
        if parsed {
            self.store.record_config_scan(&[(hash, &facts)], None)?;
        }
        Ok(facts)
    }

    /// Mining settings, with `max_commits` overriding the configured bound.
    pub fn mining_config(&self, max_commits: Option<usize>) -> MiningConfig {
        let mut mining = self.config.mining.clone();
        if let Some(n) = max_commits {
            mining.max_commits = n;
        }
        mining
    }

    /// The git repository.
    pub fn repository(&self) -> Result<git2::Repository, GraphError> {
        git2::Repository::open(&self.root).map_err(|e| GraphError::Git {
            path: self.root.clone(),
            message: e.message().to_string(),
        })
    }

    /// Mines commits not mined yet and saves the result.
    pub fn history(
        &self,
        cfg: &MiningConfig,
        progress: &mut dyn FnMut(u64, u64),
    ) -> Result<(History, MineOutcome), GraphError> {
        let repo = self.repository()?;
        let mut history: History = self.store.meta(HISTORY_KEY)?.unwrap_or_default();
        let outcome = history.mine(&repo, cfg, progress)?;
        if outcome.new_commits > 0 || outcome.rebuilt {
            self.store.put_meta(HISTORY_KEY, &history)?;
        }
        Ok((history, outcome))
    }

    /// Loads the configured embedding model.
    pub fn embedder(&self) -> Result<Embedder, GraphError> {
        Ok(self.config.model.load()?)
    }

    /// The search index.
    pub fn index(&self) -> SymbolIndex {
        SymbolIndex::new(&self.dir)
    }

    /// Embeds what changed since the last sync and refreshes the index.
    pub fn sync_index(
        &self,
        scan: &Scan,
        embedder: &mut Embedder,
        progress: &dyn Fn(u64, u64),
    ) -> Result<SyncStats, GraphError> {
        let batch = self.config.model.batch_size.max(1);
        Ok(self
            .index()
            .sync(scan, &self.store, embedder, batch, progress)?)
    }

    /// Facts of a source text at another revision (cached by content hash like the
    /// working tree's).
    pub fn facts_of(
        &self,
        language: lang::Language,
        text: &str,
    ) -> Result<facts::FileFacts, GraphError> {
        let hash = scan::content_hash(text);
        if let Some(f) = self.store.facts(&hash)? {
            return Ok(f);
        }
        let facts = lang::extract(language, text).map_err(|source| ScanError::Extract {
            path: format!("<{}>", hash.to_hex()),
            source,
        })?;
        self.store.record_scan(&[(hash, &facts)], &[], &[])?;
        Ok(facts)
    }
}
