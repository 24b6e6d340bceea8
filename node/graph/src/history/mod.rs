//! Git history mining for the knowledge graph: per-file churn, authorship and last change,
//! co-change coupling (code-maat's logical coupling plus Zimmermann's support and
//! confidence) and commit-message patterns, mined incrementally from the commits reachable
//! from HEAD.
//!
//! [`History`] is the persisted state (the caller stores it with serde). A file keeps one
//! stable id across renames, so its history follows it to its current path. Layout:
//! `mine` walks and diffs commits, `coupling` and `patterns` answer queries over the stored
//! changesets.

mod coupling;
pub mod eval;
mod mine;
mod noise;
mod patterns;

pub use coupling::Coupling;
pub use noise::is_noise;
pub use patterns::{Burst, CommitPatterns, ConventionalSubject};

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// What to mine and which co-change pairs count; the defaults are code-maat's.
#[derive(Debug, Clone, PartialEq)]
pub struct MiningConfig {
    /// Upper bound on the new commits one [`History::mine`] run processes (the newest ones).
    pub max_commits: usize,
    /// Commits touching more files than this, [noise](is_noise) files not counted, are
    /// left out of coupling (they still count for churn and patterns). Changing it rebuilds
    /// the stored history.
    pub max_changeset_size: usize,
    /// Minimum average revisions of the two files of a pair (code-maat's `min-revs`).
    pub min_revs: u32,
    /// Minimum number of changesets a pair shares.
    pub min_shared_revs: u32,
    /// Minimum coupling degree, in percent.
    pub min_coupling: f64,
    /// Minimum confidence of `file => partner` (shared revisions over the file's), 0..=1.
    pub min_confidence: f64,
    /// Half-life of a changeset's weight in the ranking, in changesets: the newest
    /// considered changeset weighs 1, one `recency_half_life` changesets older weighs ½.
    /// 0 (the default) weighs all alike: on the held-out evaluation in docs/performance.md
    /// no half-life from 100 to 2,000 changesets helped on every repository once pairs are
    /// weighted by commit size (−4.6 to +3.6 points of top-3 hit rate).
    pub recency_half_life: u32,
    /// Largest gap between two commits of one burst, in seconds.
    pub burst_window_secs: i64,
    /// Fewest commits a burst has.
    pub burst_min_commits: usize,
}

impl Default for MiningConfig {
    fn default() -> Self {
        Self {
            max_commits: 5000,
            max_changeset_size: 30,
            min_revs: 5,
            min_shared_revs: 5,
            min_coupling: 30.0,
            min_confidence: 0.0,
            recency_half_life: 0,
            burst_window_secs: 3600,
            burst_min_commits: 5,
        }
    }
}

/// Bumped when the stored layout or the mining rules change, so old state is re-mined.
const FORMAT: u32 = 2;

/// Mined history of a repository, persisted between runs so mining is incremental.
#[derive(Serialize, Deserialize, Default, Clone, Debug, PartialEq)]
pub struct History {
    /// [`FORMAT`] of the run that mined this state; 0 for a never mined one.
    format: u32,
    /// HEAD at the end of the last run.
    last_commit: Option<String>,
    /// The `max_changeset_size` the stored changesets were trimmed with.
    max_changeset_size: usize,
    /// Indexed by file id.
    files: Vec<FileRecord>,
    /// The file id each path was last seen under, including deleted files' paths.
    paths: BTreeMap<String, u32>,
    /// Non-merge commits, oldest first.
    changesets: Vec<Changeset>,
}

/// One file across its renames.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
struct FileRecord {
    path: String,
    previous_paths: Vec<String>,
    /// Present at HEAD under `path`.
    live: bool,
    commits: u32,
    lines_added: u64,
    lines_removed: u64,
    /// Keyed by author identity (see [`author_key`]).
    authors: BTreeMap<String, AuthorTally>,
    last_change: LastChange,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
struct AuthorTally {
    name: String,
    email: String,
    commits: u32,
}

/// One non-merge commit.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
struct Changeset {
    commit: String,
    time: i64,
    /// Number of distinct files touched.
    size: u32,
    /// Empty when more than the stored `max_changeset_size` of them are not noise (see
    /// [`is_noise`]): such commits never take
    /// part in coupling, and vendoring commits would otherwise bloat the state.
    files: Vec<FileChange>,
    subject: String,
    /// The body has a `BREAKING CHANGE:` footer.
    breaking_footer: bool,
}

#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq)]
struct FileChange {
    file: u32,
    added: u32,
    removed: u32,
}

/// Result of one [`History::mine`] run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MineOutcome {
    /// Commits walked in this run, merges included.
    pub new_commits: usize,
    /// The stored state was discarded (history rewritten, or a setting or format that shapes
    /// the stored state changed) and mined from scratch.
    pub rebuilt: bool,
}

/// Mined history of one file present at HEAD.
#[derive(Serialize, Debug, Clone, PartialEq)]
pub struct FileHistory {
    /// Current path.
    pub path: String,
    /// Non-merge commits that touched the file.
    pub commits: u32,
    /// Lines added over those commits (0 for binary changes).
    pub lines_added: u64,
    /// Lines removed over those commits (0 for binary changes).
    pub lines_removed: u64,
    /// Authors by commits to this file, most first (ties by email).
    pub authors: Vec<AuthorShare>,
    /// Share of the first author, 0 when there is none.
    pub main_author_share: f64,
    /// The newest commit that touched the file.
    pub last_change: LastChange,
    /// Former paths, oldest first.
    pub previous_paths: Vec<String>,
}

/// One author's part in a file.
#[derive(Serialize, Debug, Clone, PartialEq)]
pub struct AuthorShare {
    /// Name on the author's newest commit to the file.
    pub name: String,
    /// Email, which identifies the author (lowercased).
    pub email: String,
    /// Commits to the file.
    pub commits: u32,
    /// `commits` over the file's commits, in 0..=1.
    pub share: f64,
}

/// A commit that touched a file.
#[derive(Serialize, Deserialize, Debug, Clone, Default, PartialEq)]
pub struct LastChange {
    /// Commit id, hex.
    pub commit: String,
    /// Commit time, unix seconds.
    pub time: i64,
    /// Author name.
    pub author: String,
    /// Author email (lowercased).
    pub email: String,
}

/// Errors of history mining.
#[derive(Debug, thiserror::Error)]
pub enum HistoryError {
    /// HEAD could not be resolved to a commit.
    #[error("resolving HEAD: {0}")]
    Head(#[source] git2::Error),
    /// The commits to mine could not be listed.
    #[error("walking the history from HEAD: {0}")]
    Walk(#[source] git2::Error),
    /// One commit could not be read or diffed.
    #[error("mining commit {commit}: {source}")]
    Commit {
        /// The commit's id.
        commit: String,
        /// Why it failed.
        #[source]
        source: git2::Error,
    },
    /// The files at HEAD could not be listed.
    #[error("listing the files at HEAD: {0}")]
    HeadTree(#[source] git2::Error),
}

/// Authors are told apart by email; commits without one fall back to the name.
fn author_key(name: &str, email: &str) -> String {
    if email.is_empty() {
        name.to_owned()
    } else {
        email.to_lowercase()
    }
}

/// `part / whole`, 0 for an empty whole.
fn ratio(part: u32, whole: u32) -> f64 {
    if whole == 0 {
        0.0
    } else {
        f64::from(part) / f64::from(whole)
    }
}

impl History {
    /// HEAD as of the last run, hex; `None` before the first run or for an empty repository.
    pub fn last_commit(&self) -> Option<&str> {
        self.last_commit.as_deref()
    }

    /// Number of mined non-merge commits.
    pub fn commit_count(&self) -> usize {
        self.changesets.len()
    }

    /// History of the file at `path` at HEAD; `None` if it is absent at HEAD or untouched by
    /// the mined commits.
    pub fn file(&self, path: &str) -> Option<FileHistory> {
        self.live_id(path)
            .and_then(|id| self.record(id))
            .map(FileRecord::history)
    }

    /// Histories of all files present at HEAD, by path.
    pub fn files(&self) -> Vec<FileHistory> {
        // `paths` is sorted, and a live file is indexed under its current path.
        self.paths
            .iter()
            .filter_map(|(path, id)| self.record(*id).filter(|r| r.live && r.path == *path))
            .map(FileRecord::history)
            .collect()
    }

    /// The id of the file at `path` at HEAD.
    fn live_id(&self, path: &str) -> Option<u32> {
        let id = *self.paths.get(path)?;
        self.record(id)
            .is_some_and(|r| r.live && r.path == path)
            .then_some(id)
    }

    fn record(&self, id: u32) -> Option<&FileRecord> {
        usize::try_from(id).ok().and_then(|i| self.files.get(i))
    }
}

impl FileRecord {
    fn history(&self) -> FileHistory {
        let mut authors: Vec<AuthorShare> = self
            .authors
            .values()
            .map(|tally| AuthorShare {
                name: tally.name.clone(),
                email: tally.email.clone(),
                commits: tally.commits,
                share: ratio(tally.commits, self.commits),
            })
            .collect();
        authors.sort_by(|a, b| {
            b.commits
                .cmp(&a.commits)
                .then_with(|| a.email.cmp(&b.email))
        });
        FileHistory {
            path: self.path.clone(),
            commits: self.commits,
            lines_added: self.lines_added,
            lines_removed: self.lines_removed,
            main_author_share: authors.first().map_or(0.0, |a| a.share),
            authors,
            last_change: self.last_change.clone(),
            previous_paths: self.previous_paths.clone(),
        }
    }
}
