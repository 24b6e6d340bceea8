//! Where a node keeps things: every path of a repository's `.weftos/` directory, and its
//! `weave.toml`, named here and nowhere else.

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

/// The public identity file (committed: peers read a node's key from it).
pub const IDENTITY_FILE: &str = "identity.json";
/// The running daemon's addresses (local state).
pub const RUNTIME_FILE: &str = "node.json";
/// The daemon's control socket.
pub const SOCKET_FILE: &str = "node.sock";
/// Peer replicas, one directory per peer name.
pub const PEERS_DIR: &str = "peers";
/// Equivocation evidence files.
pub const EVIDENCE_DIR: &str = "evidence";

/// The `.weftos/` of a path given as a repository or as its `.weftos/` itself.
pub fn weftos_of(path: &Path) -> PathBuf {
    if path.file_name().is_some_and(|n| n == WEFTOS) {
        path.to_path_buf()
    } else {
        path.join(WEFTOS)
    }
}

/// The repository of a path given as a repository or as its `.weftos/` itself.
pub fn root_of(path: &Path) -> PathBuf {
    match path.parent() {
        Some(parent) if path.file_name().is_some_and(|n| n == WEFTOS) => parent.to_path_buf(),
        _ => path.to_path_buf(),
    }
}

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

    /// Makes `.weftos/` private to its owner (0700): it holds the key, the control
    /// socket and the trust pins.
    pub fn restrict_to_owner(&self) -> Result<(), crate::NodeError> {
        use std::os::unix::fs::PermissionsExt;
        let dir = self.weftos();
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700))
            .map_err(|e| crate::NodeError::io(&dir, e))
    }

    /// `.weftos/`.
    pub fn weftos(&self) -> PathBuf {
        self.root.join(WEFTOS)
    }

    /// `weave.toml`.
    pub fn config(&self) -> PathBuf {
        self.root.join(crate::config::CONFIG_FILE)
    }

    /// The replica of the peer called `name`.
    pub fn peer(&self, name: &str) -> PathBuf {
        self.peers().join(name)
    }
}

/// `Layout` methods naming one entry of `.weftos/` each.
macro_rules! weftos_entries {
    ($($(#[$doc:meta])* $name:ident => $entry:expr,)*) => {
        impl Layout {
            $(
                $(#[$doc])*
                pub fn $name(&self) -> PathBuf {
                    self.weftos().join($entry)
                }
            )*
        }
    };
}

weftos_entries! {
    /// The chain store.
    chain => "chain",
    /// The key directory.
    keys => "keys",
    /// Where `chain repair` puts what it drops.
    quarantine => "quarantine",
    /// The knowledge graph's cache.
    graph => "graph",
    /// Reports and other artifacts (assessment and impact reports).
    artifacts => "artifacts",
    /// The daemon's logs.
    logs => "logs",
    /// The public identity file.
    identity => IDENTITY_FILE,
    /// The running daemon's addresses.
    runtime => RUNTIME_FILE,
    /// The daemon's control socket.
    socket => SOCKET_FILE,
    /// Where peer replicas are kept.
    peers => PEERS_DIR,
    /// Where equivocation evidence is kept.
    evidence => EVIDENCE_DIR,
    /// The mark `weft testnet node` leaves on the nodes it creates: only they accept
    /// fault injection.
    testnet_mark => "testnet-node",
}
