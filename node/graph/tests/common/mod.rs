//! A git repository with a work tree in a temporary directory, for the tests that build
//! histories commit by commit (each test file adds the commits it needs).

use git2::{Repository, Signature, Time};
use std::path::Path;
use tempfile::TempDir;

/// The repository, and how many commits the test made so far.
pub struct Fixture {
    /// The work tree.
    pub dir: TempDir,
    /// The repository.
    pub repo: Repository,
    /// Commits made (each test file keeps its own count).
    pub commits: i64,
}

impl Fixture {
    /// An empty repository.
    pub fn new() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let repo = Repository::init(dir.path()).expect("git init");
        Self {
            dir,
            repo,
            commits: 0,
        }
    }

    /// Writes `path` and stages it.
    pub fn write(&self, path: &str, content: &str) {
        let full = self.dir.path().join(path);
        std::fs::create_dir_all(full.parent().expect("parent")).expect("mkdir");
        std::fs::write(&full, content).expect("write");
        let mut index = self.repo.index().expect("index");
        index.add_path(Path::new(path)).expect("add");
        index.write().expect("write index");
    }

    /// Commits the index as Alice at `seconds` after the epoch, on HEAD.
    pub fn commit_at(&self, seconds: i64, message: &str) {
        let sig = Signature::new("Alice", "alice@example.org", &Time::new(seconds, 0))
            .expect("signature");
        let mut index = self.repo.index().expect("index");
        let tree = self
            .repo
            .find_tree(index.write_tree().expect("tree"))
            .expect("tree");
        let parent = self.repo.head().ok().and_then(|h| h.peel_to_commit().ok());
        let parents: Vec<_> = parent.iter().collect();
        self.repo
            .commit(Some("HEAD"), &sig, &sig, message, &tree, &parents)
            .expect("commit");
    }
}
