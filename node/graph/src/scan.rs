//! SCAN: walks the working tree (gitignore-aware), hashes every source file and takes its
//! facts from the cache when the content is unchanged, parsing only what is new.

use super::facts::FileFacts;
use super::lang::{self, Language};
use super::store::{FileEntry, GraphStore, GraphStoreError};
use globset::{Glob, GlobSet, GlobSetBuilder};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use weft_kernel::Hash;

/// Directories never analysed: dependencies, build output, tool state.
pub const SKIPPED_DIRS: [&str; 14] = [
    ".git",
    ".weftos",
    "node_modules",
    "vendor",
    "third_party",
    "third-party",
    "target",
    "dist",
    "build",
    "__pycache__",
    ".venv",
    "venv",
    ".tox",
    "site-packages",
];

/// Whether a repository-relative path lies under one of [`SKIPPED_DIRS`].
pub fn in_skipped_dir(rel: &str) -> bool {
    let mut dirs = rel.split('/');
    dirs.next_back();
    dirs.any(|d| SKIPPED_DIRS.contains(&d))
}

/// Whether the repository-relative `path` is `dir` or lies below it ("" is the root).
pub fn is_under(path: &str, dir: &str) -> bool {
    dir.is_empty() || path == dir || path.strip_prefix(dir).is_some_and(|r| r.starts_with('/'))
}

/// Files larger than this are generated or data, not code a person maintains.
pub const MAX_FILE_BYTES: u64 = 1 << 20;

/// Scanning failed.
#[derive(Debug, thiserror::Error)]
pub enum ScanError {
    /// A configured ignore glob is invalid.
    #[error("weave.toml [analysis] ignore: bad glob {glob:?}: {reason}")]
    Glob {
        /// The glob.
        glob: String,
        /// Parser message.
        reason: String,
    },
    /// An unknown language in `[analysis] languages`.
    #[error("weave.toml [analysis] languages: unknown language {0:?}; known: rust, python, javascript, typescript, go")]
    Language(String),
    /// Reading a file failed.
    #[error("{path}: {source}")]
    Io {
        /// File.
        path: PathBuf,
        /// Cause.
        source: std::io::Error,
    },
    /// The walk failed.
    #[error("walking {0}")]
    Walk(String),
    /// Extraction failed.
    #[error("{path}: {source}")]
    Extract {
        /// File.
        path: String,
        /// Cause.
        source: lang::ExtractError,
    },
    /// The cache failed.
    #[error(transparent)]
    Store(#[from] GraphStoreError),
}

/// What to scan.
#[derive(Debug, Clone, Default)]
pub struct ScanOptions {
    /// Only these languages (empty: all).
    pub languages: Vec<String>,
    /// Extra ignore globs, matched against repository-relative paths.
    pub ignore: Vec<String>,
}

/// One analysed file.
#[derive(Debug, Clone)]
pub struct ScannedFile {
    /// Repository-relative path with `/` separators.
    pub path: String,
    /// Language.
    pub language: Language,
    /// Content hash.
    pub hash: Hash,
    /// Extracted facts.
    pub facts: Arc<FileFacts>,
}

/// The result of a scan.
#[derive(Debug, Default)]
pub struct Scan {
    /// Every analysed file, sorted by path.
    pub files: Vec<ScannedFile>,
    /// Files parsed in this scan.
    pub parsed: usize,
    /// Files whose facts came from the cache.
    pub reused: usize,
    /// Paths of earlier scans that are gone.
    pub removed: Vec<String>,
}

impl Scan {
    /// The file at `path`.
    pub fn file(&self, path: &str) -> Option<&ScannedFile> {
        self.files
            .binary_search_by(|f| f.path.as_str().cmp(path))
            .ok()
            .map(|i| &self.files[i])
    }
}

/// Which paths a scan analyses, and in which language: the `[analysis]` languages and
/// ignore globs, applied the same way to the working tree and to a revision's tree.
pub struct SourceFilter {
    languages: Option<BTreeSet<Language>>,
    ignore: GlobSet,
}

impl SourceFilter {
    /// Compiles the options (a bad glob or language name is an error).
    pub fn new(options: &ScanOptions) -> Result<SourceFilter, ScanError> {
        let mut languages = BTreeSet::new();
        for name in &options.languages {
            let langs =
                Language::from_name(name).ok_or_else(|| ScanError::Language(name.clone()))?;
            languages.extend(langs);
        }
        let mut ignore = GlobSetBuilder::new();
        for glob in &options.ignore {
            ignore.add(Glob::new(glob).map_err(|e| ScanError::Glob {
                glob: glob.clone(),
                reason: e.to_string(),
            })?);
        }
        Ok(SourceFilter {
            languages: (!languages.is_empty()).then_some(languages),
            ignore: ignore.build().map_err(|e| ScanError::Glob {
                glob: options.ignore.join(", "),
                reason: e.to_string(),
            })?,
        })
    }

    /// Whether a repository-relative path matches an `[analysis] ignore` glob.
    pub fn ignored(&self, rel: &str) -> bool {
        self.ignore.is_match(rel)
    }

    /// The language of a repository-relative path, or None when it is not analysed.
    pub fn language(&self, rel: &str) -> Option<Language> {
        let lang = Language::from_path(Path::new(rel))?;
        if self.ignored(rel) || rel.ends_with(".min.js") {
            return None;
        }
        match &self.languages {
            Some(set) if !set.contains(&lang) => None,
            _ => Some(lang),
        }
    }

    /// Like [`SourceFilter::language`], also skipping paths under [`SKIPPED_DIRS`] (a walk
    /// prunes those directories itself; a list of paths from git does not).
    pub fn tracked_language(&self, rel: &str) -> Option<Language> {
        if in_skipped_dir(rel) {
            return None;
        }
        self.language(rel)
    }
}

/// Source files under `root`, as (relative path, language), sorted.
pub fn source_files(
    root: &Path,
    options: &ScanOptions,
) -> Result<Vec<(String, Language)>, ScanError> {
    let filter = SourceFilter::new(options)?;
    let mut out = Vec::new();
    for rel in walk_files(root, false)? {
        if let Some(lang) = filter.language(&rel) {
            out.push((rel, lang));
        }
    }
    out.sort();
    Ok(out)
}

/// Every file under `root` the scans may look at: gitignore-aware, [`SKIPPED_DIRS`] left
/// out, hidden files too when `hidden` (CI workflows live in `.github/`);
/// repository-relative `/`-separated paths, in walk order.
pub fn walk_files(root: &Path, hidden: bool) -> Result<Vec<String>, ScanError> {
    let mut out = Vec::new();
    let walk = ignore::WalkBuilder::new(root)
        .hidden(!hidden)
        .require_git(false)
        .filter_entry(|entry| {
            let is_dir = entry.file_type().is_some_and(|t| t.is_dir());
            !(is_dir && SKIPPED_DIRS.iter().any(|d| entry.file_name() == *d))
        })
        .build();
    for entry in walk {
        let entry = entry.map_err(|e| ScanError::Walk(e.to_string()))?;
        if !entry.file_type().is_some_and(|t| t.is_file()) {
            continue;
        }
        let Ok(rel) = entry.path().strip_prefix(root) else {
            continue;
        };
        out.push(
            rel.components()
                .map(|c| c.as_os_str().to_string_lossy())
                .collect::<Vec<_>>()
                .join("/"),
        );
    }
    Ok(out)
}

/// Source text of a file, or None when it is binary, generated or too large. `size` is
/// its length when already known (the scan stats every file to order the work).
pub(crate) fn read_source(path: &Path, size: Option<u64>) -> Result<Option<String>, ScanError> {
    let io = |source| ScanError::Io {
        path: path.to_path_buf(),
        source,
    };
    let size = match size {
        Some(size) => size,
        None => std::fs::metadata(path).map_err(io)?.len(),
    };
    if size > MAX_FILE_BYTES {
        return Ok(None);
    }
    let bytes = std::fs::read(path).map_err(io)?;
    if bytes[..bytes.len().min(8192)].contains(&0) {
        return Ok(None);
    }
    let Ok(text) = String::from_utf8(bytes) else {
        return Ok(None);
    };
    Ok((!is_generated(&text)).then_some(text))
}

/// Generated files announce themselves in their first lines (Go's convention and the
/// `@generated` marker used by many code generators).
fn is_generated(text: &str) -> bool {
    text.lines().take(5).any(|l| {
        l.contains("@generated") || (l.contains("Code generated") && l.contains("DO NOT EDIT"))
    })
}

/// Content hash used as the cache key.
pub fn content_hash(text: &str) -> Hash {
    weft_kernel::hash::domain_hash("weft/graph/file/v1", &[text.as_bytes()])
}

/// Scans the working tree at `root`, parsing only files whose content is not cached, and
/// records the new view in the store. `progress(done, total)` is called per file.
pub fn scan(
    root: &Path,
    store: &GraphStore,
    options: &ScanOptions,
    progress: &(dyn Fn(u64, u64) + Sync),
) -> Result<Scan, ScanError> {
    let sources = source_files(root, options)?;
    let total = sources.len() as u64;
    let previous: BTreeMap<String, FileEntry> = store.files()?.into_iter().collect();
    let mut results = analyse_all(root, store, &sources, &|done| progress(done, total))?;
    results.sort_by(|a, b| a.0.path.cmp(&b.0.path));
    let parsed_count = results.iter().filter(|(_, parsed)| *parsed).count();
    let new_facts: Vec<(Hash, &FileFacts)> = results
        .iter()
        .filter(|(_, parsed)| *parsed)
        .map(|(f, _)| (f.hash, &*f.facts))
        .collect();
    let files: Vec<&ScannedFile> = results.iter().map(|(f, _)| f).collect();
    let entries: Vec<(String, FileEntry)> = files
        .iter()
        .map(|f| {
            let entry = FileEntry {
                hash: f.hash,
                language: f.language,
            };
            (f.path.clone(), entry)
        })
        .filter(|(p, e)| previous.get(p).map(|old| old.hash) != Some(e.hash))
        .collect();
    let present: BTreeSet<&str> = files.iter().map(|f| f.path.as_str()).collect();
    let removed: Vec<String> = previous
        .keys()
        .filter(|p| !present.contains(p.as_str()))
        .cloned()
        .collect();
    if !new_facts.is_empty() || !entries.is_empty() || !removed.is_empty() {
        store.record_scan(&new_facts, &entries, &removed)?;
    }
    Ok(Scan {
        reused: results.len() - parsed_count,
        files: results.into_iter().map(|(f, _)| f).collect(),
        parsed: parsed_count,
        removed,
    })
}

/// One file: read, hashed, and its facts taken from the cache or parsed (true when
/// parsed). None for a file that is binary, generated or too large.
fn analyse(
    root: &Path,
    store: &GraphStore,
    rel: &str,
    language: Language,
    size: Option<u64>,
) -> Result<Option<(ScannedFile, bool)>, ScanError> {
    let Some(text) = read_source(&root.join(rel), size)? else {
        return Ok(None);
    };
    let hash = content_hash(&text);
    let (facts, parsed) = match store.facts(&hash)? {
        Some(facts) => (facts, false),
        None => {
            let facts = lang::extract(language, &text).map_err(|source| ScanError::Extract {
                path: rel.to_string(),
                source,
            })?;
            (facts, true)
        }
    };
    let file = ScannedFile {
        path: rel.to_string(),
        language,
        hash,
        facts: Arc::new(facts),
    };
    Ok(Some((file, parsed)))
}

/// Analyses files on every core (reading and hashing too: on a cold cache they are a
/// sixth of the work), largest first so that no core is left with one big file at the
/// end; results keep no particular order.
fn analyse_all(
    root: &Path,
    store: &GraphStore,
    sources: &[(String, Language)],
    progress: &(dyn Fn(u64) + Sync),
) -> Result<Vec<(ScannedFile, bool)>, ScanError> {
    let workers = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(sources.len().max(1));
    // A file that cannot be stat-ed goes last; reading it reports why.
    let mut sources: Vec<(Option<u64>, &(String, Language))> = sources
        .iter()
        .map(|source| {
            let size = std::fs::metadata(root.join(&source.0))
                .ok()
                .map(|m| m.len());
            (size, source)
        })
        .collect();
    sources.sort_by_key(|(size, _)| std::cmp::Reverse(*size));
    let next = std::sync::atomic::AtomicUsize::new(0);
    let done = std::sync::atomic::AtomicU64::new(0);
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..workers)
            .map(|_| {
                scope.spawn(|| {
                    let mut out = Vec::new();
                    loop {
                        let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        let Some(&(size, (rel, language))) = sources.get(i) else {
                            return Ok::<_, ScanError>(out);
                        };
                        out.extend(analyse(root, store, rel, *language, size)?);
                        progress(done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1);
                    }
                })
            })
            .collect();
        let mut all = Vec::new();
        for h in handles {
            all.extend(h.join().expect("a scan worker panicked")?);
        }
        Ok(all)
    })
}

#[cfg(test)]
mod tests {
    use super::is_under;

    #[test]
    fn a_path_is_under_its_directories_only_at_separators() {
        assert!(is_under("src/a.rs", ""));
        assert!(is_under("src/a.rs", "src"));
        assert!(is_under("src/a.rs", "src/a.rs"));
        assert!(is_under("src/deep/a.rs", "src/deep"));
        assert!(!is_under("src2/a.rs", "src"));
        assert!(!is_under("src", "src/a.rs"));
    }
}
