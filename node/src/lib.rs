//! weft's project node: configuration, `weft init`, and the engine the CLI (and later the
//! daemon) share. The CLI parses and prints; everything it does goes through [`Node`].

#![deny(missing_docs)]

pub mod config;
pub mod engine;
pub mod init;
pub mod layout;

pub use config::{ConfigError, WeaveConfig};
pub use engine::Node;
pub use layout::Layout;

use std::path::{Path, PathBuf};
use weft_kernel::gate::GateError;
use weft_kernel::keys::KeyError;
use weft_kernel::repair::RepairError;
use weft_kernel::segment::SegmentError;
use weft_kernel::store::StoreError;
use weft_kernel::tree::TreeError;
use weft_kernel::ChainError;

/// How an error should end the process (the CLI's exit codes, `docs/cli.md`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorClass {
    /// Something failed verification (exit 1).
    Verification,
    /// Bad usage or input; nothing was changed (exit 2).
    Input,
    /// The environment failed: I/O, a locked store (exit 4).
    Operational,
}

/// Errors of node operations.
#[derive(Debug, thiserror::Error)]
pub enum NodeError {
    /// Not inside a git repository.
    #[error("{0} is not inside a git repository: weft keeps one node per repository; run `git init` first")]
    NotGit(PathBuf),
    /// No `.weftos/` found.
    #[error("no weft node in {0} or its parents: run `weft init` in the repository")]
    NotInitialised(PathBuf),
    /// The chain exists but its key is gone.
    #[error("the chain exists but its key {0} is missing: restore it from your backup; weft will not create a new identity for an existing chain")]
    KeyLost(PathBuf),
    /// Bad input from the user.
    #[error("{0}")]
    Input(String),
    /// Filesystem error.
    #[error("{path}: {source}")]
    Io {
        /// File.
        path: PathBuf,
        /// Cause.
        source: std::io::Error,
    },
    /// Configuration.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// Node key.
    #[error(transparent)]
    Key(#[from] KeyError),
    /// Store.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Chain.
    #[error(transparent)]
    Chain(#[from] ChainError),
    /// Tree.
    #[error(transparent)]
    Tree(#[from] TreeError),
    /// Gate.
    #[error(transparent)]
    Gate(#[from] GateError),
    /// Segment file.
    #[error(transparent)]
    Segment(#[from] SegmentError),
    /// Repair.
    #[error(transparent)]
    Repair(#[from] RepairError),
}

impl NodeError {
    /// Wraps an I/O error with its path.
    pub fn io(path: &Path, source: std::io::Error) -> NodeError {
        NodeError::Io {
            path: path.to_path_buf(),
            source,
        }
    }

    /// The exit class.
    pub fn class(&self) -> ErrorClass {
        use ErrorClass::*;
        match self {
            NodeError::NotGit(_) | NodeError::NotInitialised(_) | NodeError::Input(_) | NodeError::Config(_) => Input,
            NodeError::KeyLost(_) | NodeError::Io { .. } => Operational,
            NodeError::Key(KeyError::TooOpen { .. }) => Input,
            NodeError::Key(_) => Operational,
            NodeError::Store(_) => Operational,
            NodeError::Chain(e) | NodeError::Tree(TreeError::Chain(e)) | NodeError::Gate(GateError::Chain(e)) | NodeError::Segment(SegmentError::Chain(e)) | NodeError::Repair(RepairError::Chain(e)) => chain_class(e),
            NodeError::Tree(TreeError::Store(_)) => Operational,
            NodeError::Tree(TreeError::Damaged { .. } | TreeError::BadEvent { .. }) => Verification,
            NodeError::Tree(_) => Input,
            NodeError::Gate(GateError::Recheck { .. }) => Verification,
            NodeError::Gate(_) => Input,
            NodeError::Segment(SegmentError::Io(_)) => Operational,
            NodeError::Segment(SegmentError::NotEmpty(_)) => Input,
            NodeError::Segment(_) => Verification,
            NodeError::Repair(RepairError::NoValidPrefix(_)) => Verification,
            NodeError::Repair(_) => Operational,
        }
    }
}

fn chain_class(e: &ChainError) -> ErrorClass {
    match e {
        ChainError::Damaged { .. } => ErrorClass::Verification,
        ChainError::Event(_) | ChainError::NoSuchEvent { .. } | ChainError::Empty | ChainError::WrongKey { .. } | ChainError::NoKey => ErrorClass::Input,
        ChainError::Store(_) | ChainError::Commit(_) => ErrorClass::Operational,
    }
}
