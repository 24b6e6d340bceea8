//! weft's project node: what the node does. Its configuration, `weft init`, the engine
//! the CLI and the daemon share, the answers it gives peers, assessments recorded on its
//! chain, coordination with other projects, and the daemon. The CLI parses and prints;
//! everything it does goes through [`Node`]. What the code says is weft-graph's
//! ([`graph`]).
//!
//! Floors, lowest first, each importing only below itself: [`config`]; [`layout`], [`pins`], [`replicas`],
//! [`identity`] and [`membership`]; [`engine`]; [`provenance`]; [`query`], [`sop`] and [`calibrate`]; [`assess`]; [`coordinate`];
//! [`daemon`]; [`init`], [`cluster`], [`testnet`] and [`ui`].

#![deny(missing_docs)]

pub mod assess;
pub mod calibrate;
pub mod cluster;
pub mod config;
pub mod coordinate;
pub mod daemon;
pub mod engine;
pub mod identity;
pub mod init;
pub mod layout;
pub mod membership;
pub mod pins;
pub mod provenance;
pub mod query;
pub mod replicas;
pub mod sop;
pub mod testnet;
pub mod ui;

pub use config::{ConfigError, WeaveConfig};
pub use engine::Node;
pub use layout::Layout;
/// The knowledge graph crate: what the code says.
pub use weft_graph as graph;
/// The mesh crate, for the binary's use of its identities and formats.
pub use weft_net as net;

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
    /// The daemon or its mesh failed: the network could not start, a signal handler or
    /// a shared state is unavailable, the mesh is not joined yet.
    #[error("{0}")]
    Daemon(String),
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
    /// Knowledge graph.
    #[error(transparent)]
    Graph(#[from] graph::GraphError),
    /// Assessment.
    #[error(transparent)]
    Assess(#[from] graph::assess::run::AssessError),
    /// Coordination.
    #[error(transparent)]
    Coordinate(#[from] coordinate::CoordinateError),
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
            NodeError::NotGit(_)
            | NodeError::NotInitialised(_)
            | NodeError::Input(_)
            | NodeError::Config(_) => Input,
            NodeError::KeyLost(_) | NodeError::Io { .. } | NodeError::Daemon(_) => Operational,
            NodeError::Store(e) => store_class(e),
            NodeError::Key(KeyError::TooOpen { .. }) => Input,
            NodeError::Key(_) => Operational,
            NodeError::Chain(e) => chain_class(e),
            NodeError::Tree(e) => tree_class(e),
            NodeError::Gate(e) => gate_class(e),
            NodeError::Segment(e) => segment_class(e),
            NodeError::Repair(e) => repair_class(e),
            NodeError::Graph(e) => graph_class(e),
            NodeError::Assess(e) => assess_class(e),
            NodeError::Coordinate(e) => coordinate_class(e),
        }
    }
}

fn graph_class(e: &graph::GraphError) -> ErrorClass {
    use graph::config_schema::scan::ConfigScanError;
    use graph::scan::ScanError;
    use graph::GraphError as G;
    match e {
        G::Scan(ScanError::Glob { .. } | ScanError::Language(_))
        | G::ConfigScan(ConfigScanError::Scan(ScanError::Glob { .. } | ScanError::Language(_)))
        | G::Git { .. } => ErrorClass::Input,
        G::Store(graph::store::GraphStoreError::Store(s)) => store_class(s),
        _ => ErrorClass::Operational,
    }
}

fn coordinate_class(e: &coordinate::CoordinateError) -> ErrorClass {
    use coordinate::CoordinateError as C;
    match e {
        C::Graph(g) => graph_class(g),
        C::Input(_) | C::BadRevision { .. } => ErrorClass::Input,
        C::Git(_) | C::Peer { .. } => ErrorClass::Operational,
        C::PeerChain { source, .. } => source.class(),
        C::Check(c) => c.class(),
        C::ReportMismatch(_) => ErrorClass::Verification,
    }
}

fn assess_class(e: &graph::assess::run::AssessError) -> ErrorClass {
    use graph::assess::run::AssessError as A;
    use graph::assess::scope::ScopeError as S;
    match e {
        A::Graph(g) => graph_class(g),
        A::Scope(S::Git(_)) => ErrorClass::Operational,
        A::Scope(_) | A::Report { .. } | A::PublicConfig(_) => ErrorClass::Input,
    }
}

/// Classifies an error from the node or the kernel; None for anything else.
pub fn classify(err: &(dyn std::error::Error + 'static)) -> Option<ErrorClass> {
    if let Some(e) = err.downcast_ref::<NodeError>() {
        return Some(e.class());
    }
    if let Some(e) = err.downcast_ref::<ChainError>() {
        return Some(chain_class(e));
    }
    if let Some(e) = err.downcast_ref::<TreeError>() {
        return Some(tree_class(e));
    }
    if let Some(e) = err.downcast_ref::<GateError>() {
        return Some(gate_class(e));
    }
    if let Some(e) = err.downcast_ref::<SegmentError>() {
        return Some(segment_class(e));
    }
    if let Some(e) = err.downcast_ref::<RepairError>() {
        return Some(repair_class(e));
    }
    if let Some(e) = err.downcast_ref::<StoreError>() {
        return Some(store_class(e));
    }
    if let Some(e) = err.downcast_ref::<graph::GraphError>() {
        return Some(graph_class(e));
    }
    if let Some(e) = err.downcast_ref::<graph::assess::run::AssessError>() {
        return Some(assess_class(e));
    }
    None
}

fn store_class(e: &StoreError) -> ErrorClass {
    match e {
        // No store where one is needed (or one where none may be): the user's next step
        // is a command (`weft init`, removing a directory), not a retry.
        StoreError::Missing(_) | StoreError::Exists(_) => ErrorClass::Input,
        StoreError::Locked { .. } | StoreError::Rocks { .. } | StoreError::Io { .. } => {
            ErrorClass::Operational
        }
    }
}

fn tree_class(e: &TreeError) -> ErrorClass {
    match e {
        TreeError::Chain(c) => chain_class(c),
        TreeError::Store(s) => store_class(s),
        TreeError::Damaged { .. } | TreeError::BadEvent { .. } => ErrorClass::Verification,
        _ => ErrorClass::Input,
    }
}

fn gate_class(e: &GateError) -> ErrorClass {
    match e {
        GateError::Chain(c) => chain_class(c),
        GateError::Recheck { .. } => ErrorClass::Verification,
        _ => ErrorClass::Input,
    }
}

fn segment_class(e: &SegmentError) -> ErrorClass {
    match e {
        SegmentError::Chain(c) => chain_class(c),
        SegmentError::Io(_) => ErrorClass::Operational,
        SegmentError::NotEmpty(_) => ErrorClass::Input,
        _ => ErrorClass::Verification,
    }
}

fn repair_class(e: &RepairError) -> ErrorClass {
    match e {
        RepairError::Chain(c) => chain_class(c),
        RepairError::NoValidPrefix(_) => ErrorClass::Verification,
        // A refusal to do what would harm peers' view of this node: the user decides.
        RepairError::SignedHeadsAhead { .. } => ErrorClass::Input,
        RepairError::Quarantine { .. } => ErrorClass::Operational,
    }
}

fn chain_class(e: &ChainError) -> ErrorClass {
    match e {
        ChainError::Damaged { .. } => ErrorClass::Verification,
        ChainError::Event(_)
        | ChainError::NoSuchEvent { .. }
        | ChainError::Empty
        | ChainError::WrongKey { .. }
        | ChainError::NotAuthorised { .. }
        | ChainError::Replicated
        | ChainError::NoKey => ErrorClass::Input,
        ChainError::Store(s) => store_class(s),
        ChainError::Commit(_) => ErrorClass::Operational,
    }
}
