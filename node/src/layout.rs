//! Where a node keeps things: the `.weftos/` directory of a repository.

use std::path::{Path, PathBuf};

/// Name of the node directory at the repository root.
pub const WEFTOS: &str = ".weftos";

/// Subdirectories `weft init` creates.
pub const SUBDIRS: [&str; 7] = [
    "chain",
    "tree",
    "logs",
    "artifacts",
    "models",
    "sessions",
    "memory",
];

/// `.gitignore` lines weft adds: local state and the private key never reach a commit.
pub const GITIGNORE_ENTRIES: [&str; 11] = [
    ".weftos/chain/",
    ".weftos/models/",
    ".weftos/sessions/",
    ".weftos/keys/",
    ".weftos/logs/",
    ".weftos/quarantine/",
    ".weftos/graph/",
    ".weftos/peers/",
    ".weftos/evidence/",
    ".weftos/node.json",
    ".weftos/node.sock",
];

/// Paths of one node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout {
    /// Repository root (working tree).
    pub root: PathBuf,
}

impl Layout {
    /// The layout of the repository at `root`.
    pub fn new(root: impl Into<PathBuf>) -> Layout {
        Layout { root: root.into() }
    }

    /// Finds the node whose `.weftos/` is in `start` or one of its parents.
    pub fn discover(start: &Path) -> Option<Layout> {
        let start = start.canonicalize().ok()?;
        start
            .ancestors()
            .find(|dir| dir.join(WEFTOS).is_dir())
            .map(Layout::new)
    }

    /// `.weftos/`.
    pub fn weftos(&self) -> PathBuf {
        self.root.join(WEFTOS)
    }

    /// The chain store.
    pub fn chain(&self) -> PathBuf {
        self.weftos().join("chain")
    }

    /// The key directory.
    pub fn keys(&self) -> PathBuf {
        self.weftos().join("keys")
    }

    /// Where `chain repair` puts what it drops.
    pub fn quarantine(&self) -> PathBuf {
        self.weftos().join("quarantine")
    }

    /// `weave.toml`.
    pub fn config(&self) -> PathBuf {
        self.root.join(crate::config::CONFIG_FILE)
    }
}
