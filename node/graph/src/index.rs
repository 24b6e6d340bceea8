//! Semantic search over symbols: each symbol's text (kind, qualified name, signature, doc)
//! embedded once per distinct text (cached by its hash), and a usearch HNSW index over
//! the vectors saved beside the cache as `.weftos/graph/symbols.usearch`. Each build has
//! an [`IndexDigest`] (the model, the hash of the vector set, the hash of the saved file)
//! which the node records on its chain; an index is only searched after its file and
//! vector set are checked against the digest recorded for it.

use super::embed::{EmbedError, Embedder, DIMENSIONS, EMBEDDING_ID};
use super::facts::{Symbol, SymbolKind};
use super::scan::Scan;
use super::store::{GraphStore, GraphStoreError};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use usearch::{Index, IndexOptions, MetricKind, ScalarKind};
use weft_kernel::hash::DomainHasher;
use weft_kernel::Hash;

/// File name of the saved index inside the graph directory.
pub const INDEX_FILE: &str = "symbols.usearch";
const META_KEY: &str = "index";

/// Search failed.
#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    /// The model failed.
    #[error(transparent)]
    Embed(#[from] EmbedError),
    /// The cache failed.
    #[error(transparent)]
    Store(#[from] GraphStoreError),
    /// usearch failed.
    #[error("search index {path}: {reason}")]
    Usearch {
        /// Index file.
        path: PathBuf,
        /// Message.
        reason: String,
    },
}

/// One indexed symbol.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IndexEntry {
    /// File.
    pub path: String,
    /// Qualified name.
    pub qualified: String,
    /// Kind.
    pub kind: SymbolKind,
    /// First line.
    pub line: u32,
    /// Last line.
    pub end_line: u32,
    /// Signature.
    pub signature: String,
    /// Cache key of the embedded text.
    pub text_key: Hash,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct IndexMeta {
    entries: Vec<IndexEntry>,
    /// SHAKE-256 of the saved index file: a file that does not match is rebuilt.
    file_hash: Hash,
    /// The embedding function the vectors came from ([`EMBEDDING_ID`]).
    #[serde(default)]
    model: String,
    /// Their width.
    #[serde(default)]
    dimensions: usize,
    /// The hash of the vector set ([`vector_set_hash`]); absent in an index built by a
    /// weft before provenance, which is rebuilt.
    #[serde(default)]
    vectors: Option<Hash>,
}

/// What one build of the index is: the embedding function its vectors come from, the
/// hash of the vector set (every entry and its vector, in index order) and the hash of
/// the saved file. The node records it on its chain as `graph.index`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IndexDigest {
    /// The embedding function ([`EMBEDDING_ID`]).
    pub model: String,
    /// Numbers per vector.
    pub dimensions: u32,
    /// Symbols (vectors) in the index.
    pub symbols: u64,
    /// SHAKE-256 of the vector set ([`vector_set_hash`]).
    pub vectors: Hash,
    /// SHAKE-256 of the saved index file.
    pub file: Hash,
}

impl IndexMeta {
    /// Whether the index holds vectors this process's embedder can be compared with:
    /// another node's index, or an older one, may come from another model.
    fn comparable(&self) -> bool {
        self.model == EMBEDDING_ID && self.dimensions == DIMENSIONS
    }
}

/// The hash of a vector set: the model and width, then per entry in index order its
/// path, name, kind, lines, signature, text key and vector (little-endian `f32`s), each
/// field length-prefixed. It depends on what was embedded, not on how usearch lays the
/// file out, so two builds of the same symbols with the same model hash alike.
pub struct VectorSetHasher(DomainHasher);

impl VectorSetHasher {
    /// A hash of vectors of `model`, `dimensions` numbers each.
    pub fn new(model: &str, dimensions: usize) -> VectorSetHasher {
        let mut hasher = VectorSetHasher(DomainHasher::new("weft/graph/vector-set/v1"));
        hasher.field(model.as_bytes());
        hasher.field(&(dimensions as u64).to_le_bytes());
        hasher
    }

    fn field(&mut self, bytes: &[u8]) {
        self.0
            .update(&(bytes.len() as u64).to_le_bytes())
            .update(bytes);
    }

    /// Adds the next entry and its vector.
    pub fn add(&mut self, entry: &IndexEntry, vector: &[f32]) {
        self.field(entry.path.as_bytes());
        self.field(entry.qualified.as_bytes());
        self.field(entry.kind.as_str().as_bytes());
        self.field(&entry.line.to_le_bytes());
        self.field(&entry.end_line.to_le_bytes());
        self.field(entry.signature.as_bytes());
        self.field(entry.text_key.as_bytes());
        let bytes: Vec<u8> = vector.iter().flat_map(|x| x.to_le_bytes()).collect();
        self.field(&bytes);
    }

    /// The hash.
    pub fn finish(self) -> Hash {
        self.0.finish()
    }
}

/// How many symbols the saved index holds (0 when none was built).
pub fn indexed_count(store: &GraphStore) -> Result<usize, GraphStoreError> {
    Ok(store
        .meta::<IndexMeta>(META_KEY)?
        .map_or(0, |meta| meta.entries.len()))
}

/// What a sync did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct SyncStats {
    /// Symbols in the index.
    pub symbols: usize,
    /// Texts embedded now (the rest came from the cache).
    pub embedded: usize,
    /// Whether the HNSW index was rebuilt.
    pub rebuilt: bool,
}

/// One search result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Hit {
    /// The symbol.
    #[serde(flatten)]
    pub entry: IndexEntry,
    /// Cosine similarity (1 = same direction).
    pub score: f32,
}

/// The text embedded for a symbol.
pub fn symbol_text(symbol: &Symbol) -> String {
    let mut text = format!("{} {}", symbol.kind.as_str(), symbol.qualified);
    if !symbol.signature.is_empty() {
        text.push('\n');
        text.push_str(&symbol.signature);
    }
    if !symbol.doc.is_empty() {
        text.push('\n');
        text.push_str(&symbol.doc);
    }
    text
}

/// Cache key of an embedded text.
pub fn text_key(text: &str) -> Hash {
    weft_kernel::hash::domain_hash(
        "weft/graph/embedding/v1",
        &[EMBEDDING_ID.as_bytes(), text.as_bytes()],
    )
}

fn usearch_err<E: std::fmt::Display>(path: &Path) -> impl Fn(E) -> IndexError + '_ {
    move |e| IndexError::Usearch {
        path: path.to_path_buf(),
        reason: e.to_string(),
    }
}

/// The index's shape: cosine distance over `dimensions` f32 numbers.
fn index_options(dimensions: usize) -> IndexOptions {
    IndexOptions {
        dimensions,
        metric: MetricKind::Cos,
        quantization: ScalarKind::F32,
        connectivity: 0,
        expansion_add: 0,
        expansion_search: 0,
        multi: false,
    }
}

fn new_index(path: &Path, capacity: usize) -> Result<Index, IndexError> {
    let index = Index::new(&index_options(DIMENSIONS)).map_err(usearch_err(path))?;
    index.reserve(capacity.max(1)).map_err(usearch_err(path))?;
    Ok(index)
}

fn file_hash(path: &Path) -> Option<Hash> {
    let file = std::fs::File::open(path).ok()?;
    weft_kernel::hash::shake256_reader(file).ok()
}

/// The graph's search index.
#[derive(Debug)]
pub struct SymbolIndex {
    path: PathBuf,
}

impl SymbolIndex {
    /// The index saved in `graph_dir`.
    pub fn new(graph_dir: &Path) -> SymbolIndex {
        SymbolIndex {
            path: graph_dir.join(INDEX_FILE),
        }
    }

    /// Brings vectors and index up to date with a scan: embeds texts not cached yet
    /// (in batches of `batch`), and rebuilds the index when the symbol set changed or
    /// the saved file does not match what was recorded.
    pub fn sync(
        &self,
        scan: &Scan,
        store: &GraphStore,
        embedder: &mut Embedder,
        batch: usize,
        progress: &dyn Fn(u64, u64),
    ) -> Result<SyncStats, IndexError> {
        let mut entries = Vec::new();
        let mut texts = Vec::new();
        for file in &scan.files {
            for symbol in &file.facts.symbols {
                let text = symbol_text(symbol);
                let key = text_key(&text);
                entries.push(IndexEntry {
                    path: file.path.clone(),
                    qualified: symbol.qualified.clone(),
                    kind: symbol.kind,
                    line: symbol.start_line,
                    end_line: symbol.end_line,
                    signature: symbol.signature.clone(),
                    text_key: key,
                });
                texts.push((key, text));
            }
        }
        let mut seen = BTreeSet::new();
        let mut missing = Vec::new();
        for (key, text) in texts {
            if seen.insert(key) && store.vector(&key)?.is_none() {
                missing.push((key, text));
            }
        }
        // Batches pad to their longest text: grouping similar lengths wastes less work.
        missing.sort_by_key(|(_, text)| text.len());
        let total = missing.len() as u64;
        let mut done = 0;
        for chunk in batches(&missing, batch.max(1)) {
            let refs: Vec<&str> = chunk.iter().map(|(_, t)| t.as_str()).collect();
            let vectors = embedder.embed(&refs)?;
            let items: Vec<(Hash, Vec<f32>)> = chunk.iter().map(|(k, _)| *k).zip(vectors).collect();
            store.put_vectors(&items)?;
            done += chunk.len();
            progress(done as u64, total);
        }
        let old: Option<IndexMeta> = store.meta(META_KEY)?;
        let current = old.as_ref().is_some_and(|m| {
            m.comparable()
                && m.vectors.is_some()
                && m.entries == entries
                && file_hash(&self.path) == Some(m.file_hash)
        });
        if !current {
            self.rebuild(store, entries.clone())?;
        }
        Ok(SyncStats {
            symbols: entries.len(),
            embedded: missing.len(),
            rebuilt: !current,
        })
    }

    fn rebuild(&self, store: &GraphStore, entries: Vec<IndexEntry>) -> Result<(), IndexError> {
        let index = new_index(&self.path, entries.len())?;
        let mut vectors = VectorSetHasher::new(EMBEDDING_ID, DIMENSIONS);
        for (i, entry) in entries.iter().enumerate() {
            let vector = store
                .vector(&entry.text_key)?
                .ok_or_else(|| IndexError::Usearch {
                    path: self.path.clone(),
                    reason: format!("no cached vector for {}:{}", entry.path, entry.qualified),
                })?;
            if vector.len() != DIMENSIONS {
                return Err(IndexError::Usearch {
                    path: self.path.clone(),
                    reason: format!(
                        "the cached vector of {}:{} has {} numbers, not {DIMENSIONS}",
                        entry.path,
                        entry.qualified,
                        vector.len()
                    ),
                });
            }
            index
                .add(i as u64, &vector)
                .map_err(usearch_err(&self.path))?;
            vectors.add(entry, &vector);
        }
        // Written aside and renamed, so a reader never sees half an index.
        let tmp = self.path.with_extension("usearch.tmp");
        index
            .save(&tmp.to_string_lossy())
            .map_err(usearch_err(&self.path))?;
        std::fs::rename(&tmp, &self.path).map_err(|e| IndexError::Usearch {
            path: self.path.clone(),
            reason: e.to_string(),
        })?;
        let file_hash = file_hash(&self.path).ok_or_else(|| IndexError::Usearch {
            path: self.path.clone(),
            reason: "cannot read the index just written".into(),
        })?;
        let meta = IndexMeta {
            entries,
            file_hash,
            model: EMBEDDING_ID.into(),
            dimensions: DIMENSIONS,
            vectors: Some(vectors.finish()),
        };
        store.put_meta(META_KEY, &meta)?;
        Ok(())
    }

    /// Removes the saved index file, so the next [`SymbolIndex::sync`] rebuilds it (the
    /// node does this to an index that does not match what its chain recorded).
    pub fn discard(&self) -> Result<(), IndexError> {
        match std::fs::remove_file(&self.path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(IndexError::Usearch {
                path: self.path.clone(),
                reason: e.to_string(),
            }),
        }
    }

    /// The digest of the saved index as its record claims, unchecked (for telling which
    /// recorded build a saved index says it is); `None` without a built index.
    pub fn recorded_digest(&self, store: &GraphStore) -> Result<Option<IndexDigest>, IndexError> {
        let meta: Option<IndexMeta> = store.meta(META_KEY)?;
        Ok(meta.and_then(|m| {
            Some(IndexDigest {
                model: m.model,
                dimensions: u32::try_from(m.dimensions).ok()?,
                symbols: m.entries.len() as u64,
                vectors: m.vectors?,
                file: m.file_hash,
            })
        }))
    }

    /// Loads the saved index, checked: its file must hash to what was recorded when it
    /// was built, and the vectors it holds, with their entries, to the recorded vector
    /// set. Anything else (damaged, replaced, of another model) is refused.
    pub fn open(&self, store: &GraphStore) -> Result<LoadedIndex, IndexError> {
        let refused = |reason: String| IndexError::Usearch {
            path: self.path.clone(),
            reason,
        };
        let meta: IndexMeta = store
            .meta(META_KEY)?
            .ok_or_else(|| refused("no index has been built yet".into()))?;
        if !meta.comparable() {
            return Err(refused(format!(
                "the index holds {}-number vectors of model `{}`, and this weft embeds with `{EMBEDDING_ID}` ({DIMENSIONS} numbers): their distances mean nothing; the index is rebuilt on its own node's next search",
                meta.dimensions, meta.model
            )));
        }
        let recorded_vectors = meta.vectors.ok_or_else(|| {
            refused("the index was built by a weft that recorded no vector-set hash; it is rebuilt on its own node's next search".into())
        })?;
        if file_hash(&self.path) != Some(meta.file_hash) {
            return Err(refused("the index file does not match the recorded one (damaged or replaced); it is rebuilt on the next search".into()));
        }
        let index = new_index(&self.path, meta.entries.len())?;
        index
            .load(&self.path.to_string_lossy())
            .map_err(usearch_err(&self.path))?;
        if index.dimensions() != DIMENSIONS {
            return Err(refused(format!(
                "the index file holds {}-number vectors, not {DIMENSIONS}",
                index.dimensions()
            )));
        }
        let mut vectors = VectorSetHasher::new(EMBEDDING_ID, DIMENSIONS);
        let mut vector = vec![0f32; DIMENSIONS];
        for (i, entry) in meta.entries.iter().enumerate() {
            let got = index
                .get(i as u64, &mut vector)
                .map_err(usearch_err(&self.path))?;
            if got == 0 {
                return Err(refused(format!(
                    "the index file has no vector for {}:{}; it is rebuilt on the next search",
                    entry.path, entry.qualified
                )));
            }
            vectors.add(entry, &vector);
        }
        if vectors.finish() != recorded_vectors {
            return Err(refused("the vectors in the index do not hash to the recorded vector set (damaged or replaced); it is rebuilt on the next search".into()));
        }
        let digest = IndexDigest {
            model: meta.model,
            dimensions: DIMENSIONS as u32,
            symbols: meta.entries.len() as u64,
            vectors: recorded_vectors,
            file: meta.file_hash,
        };
        Ok(LoadedIndex {
            path: self.path.clone(),
            index,
            entries: meta.entries,
            digest,
        })
    }

    /// The `k` symbols nearest to a query vector: approximate (HNSW) or, with `exact`,
    /// by exhaustive comparison (the reference recall is measured against).
    pub fn search(
        &self,
        store: &GraphStore,
        query: &[f32],
        k: usize,
        exact: bool,
    ) -> Result<Vec<Hit>, IndexError> {
        self.open(store)?.search(query, k, exact)
    }
}

/// A saved index, loaded and checked against its record ([`SymbolIndex::open`]).
pub struct LoadedIndex {
    path: PathBuf,
    index: Index,
    entries: Vec<IndexEntry>,
    digest: IndexDigest,
}

impl LoadedIndex {
    /// What this index is: the digest it was checked against.
    pub fn digest(&self) -> &IndexDigest {
        &self.digest
    }

    /// The `k` symbols nearest to a query vector: approximate (HNSW) or, with `exact`,
    /// by exhaustive comparison.
    pub fn search(&self, query: &[f32], k: usize, exact: bool) -> Result<Vec<Hit>, IndexError> {
        let found = if exact {
            self.index.exact_search(query, k)
        } else {
            self.index.search(query, k)
        }
        .map_err(usearch_err(&self.path))?;
        Ok(hits(&found.keys, &found.distances, &self.entries))
    }
}

/// Texts (sorted by length) cut into batches of at most `batch` texts and
/// [`BATCH_CHARS`] characters counted at the longest text's length: the model's working
/// memory grows with texts × longest length (32 texts of 256 tokens take the process to
/// a gigabyte), and long texts gain nothing from big batches (syn's 1,586 symbol texts:
/// 16.0 s and 1.05 GB peak unbounded, 13.0 s and 0.32 GB with this bound).
fn batches(texts: &[(Hash, String)], batch: usize) -> Vec<&[(Hash, String)]> {
    let mut out = Vec::new();
    let mut start = 0;
    while start < texts.len() {
        let mut end = start + 1;
        while end < texts.len()
            && end - start < batch
            && (end - start + 1) * texts[end].1.len() <= BATCH_CHARS
        {
            end += 1;
        }
        out.push(&texts[start..end]);
        start = end;
    }
    out
}

/// Characters per batch (texts × longest text), roughly 500 tokens.
const BATCH_CHARS: usize = 2048;

fn hits(keys: &[u64], distances: &[f32], entries: &[IndexEntry]) -> Vec<Hit> {
    keys.iter()
        .zip(distances)
        .filter_map(|(&k, &d)| {
            entries.get(k as usize).map(|e| Hit {
                entry: e.clone(),
                score: 1.0 - d,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Saves a real index of `dimensions`-number vectors under `model`, as another
    /// node's weft (or an older one) would have left it.
    fn foreign_index(dir: &Path, model: &str, dimensions: usize) -> (GraphStore, SymbolIndex) {
        let store = GraphStore::open(&dir.join("store")).expect("store");
        let index = SymbolIndex::new(dir);
        let built = Index::new(&index_options(dimensions)).expect("index");
        built.reserve(1).expect("reserve");
        built.add(0, &vec![0.5f32; dimensions]).expect("add");
        built.save(&index.path.to_string_lossy()).expect("save");
        let meta = IndexMeta {
            entries: vec![IndexEntry {
                path: "src/lib.rs".into(),
                qualified: "f".into(),
                kind: SymbolKind::Function,
                line: 1,
                end_line: 1,
                signature: String::new(),
                text_key: text_key("f"),
            }],
            file_hash: file_hash(&index.path).expect("hash"),
            model: model.into(),
            dimensions,
            vectors: Some(text_key("any vector set")),
        };
        store.put_meta(META_KEY, &meta).expect("meta");
        (store, index)
    }

    fn entry(qualified: &str) -> IndexEntry {
        IndexEntry {
            path: "src/lib.rs".into(),
            qualified: qualified.into(),
            kind: SymbolKind::Function,
            line: 3,
            end_line: 9,
            signature: format!("pub fn {qualified}()"),
            text_key: text_key(qualified),
        }
    }

    fn vector_set(items: &[(&IndexEntry, &[f32])]) -> Hash {
        let mut hasher = VectorSetHasher::new(EMBEDDING_ID, 3);
        for (entry, vector) in items {
            hasher.add(entry, vector);
        }
        hasher.finish()
    }

    #[test]
    fn the_vector_set_hash_has_a_known_answer_and_covers_order_entries_and_numbers() {
        let (a, b) = (entry("a"), entry("b"));
        let (va, vb) = ([0.5f32, -0.25, 1.0], [0.0f32, 1.0, -1.0]);
        let hash = vector_set(&[(&a, &va), (&b, &vb)]);
        assert_eq!(hash.to_hex(), VECTOR_SET_KAT);
        assert_ne!(vector_set(&[(&b, &vb), (&a, &va)]), hash, "order");
        let moved = IndexEntry {
            line: 4,
            ..a.clone()
        };
        assert_ne!(vector_set(&[(&moved, &va), (&b, &vb)]), hash, "entry");
        let nudged = [0.5f32, -0.25, 1.000_001];
        assert_ne!(vector_set(&[(&a, &nudged), (&b, &vb)]), hash, "numbers");
        // Fields are length-prefixed: moving bytes between two fields changes the hash.
        let shifted = IndexEntry {
            path: "src/lib.r".into(),
            qualified: "sa".into(),
            ..a.clone()
        };
        let plain = IndexEntry {
            qualified: "a".into(),
            ..a
        };
        assert_ne!(vector_set(&[(&shifted, &va)]), vector_set(&[(&plain, &va)]));
    }

    /// Computed independently of weft (Python's `hashlib.shake_256` over the framing in
    /// docs/formats.md).
    const VECTOR_SET_KAT: &str = "dfac3ffbea1c7e206937dc0a637f47003f83197d5820deed6ef0e9e0a8bac53e";

    #[test]
    fn an_index_of_another_model_is_not_searched_with_this_ones_vectors() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (store, index) = foreign_index(dir.path(), "all-mpnet-base-v2/f32/mean/l2", 768);
        let err = index
            .search(&store, &[0.1; DIMENSIONS], 1, false)
            .expect_err("another model's index");
        assert!(err.to_string().contains("all-mpnet-base-v2"), "{err}");
    }

    #[test]
    fn an_index_whose_file_has_other_dimensions_than_recorded_is_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        // The record claims this model and width; the file itself holds 768 numbers.
        let (store, index) = foreign_index(dir.path(), EMBEDDING_ID, 768);
        let mut meta: IndexMeta = store.meta(META_KEY).expect("meta").expect("some");
        meta.dimensions = DIMENSIONS;
        store.put_meta(META_KEY, &meta).expect("meta");
        let err = index
            .search(&store, &[0.1; DIMENSIONS], 1, false)
            .expect_err("a file of other dimensions");
        assert!(err.to_string().contains("768"), "{err}");
    }
}
