//! weft's cluster: one project's chain replicated by Raft (openraft), so that an
//! acknowledged append survives losing a minority of the members.
//!
//! Floors, lowest first:
//! - [`types`]: the Raft type configuration, members, and the commands and replies a log
//!   entry carries;
//! - [`codec`]: how Raft state is stored;
//! - [`log_store`]: the Raft log and vote, in the chain's own RocksDB;
//! - [`apply`]: applying committed entries to the chain, deterministically;
//! - [`state_machine`]: the state machine openraft drives, and its snapshots (a manifest;
//!   the events come by verified range sync);
//! - [`rpc`]: the calls members make of each other;
//! - [`network`]: Raft's network over the mesh's `/weft/raft/1`;
//! - [`fetch`]: a snapshot's events over the mesh's `/weft/sync/1`;
//! - [`cluster`]: one member's Raft node: forming, joining, proposing, reading, serving;
//! - [`local`]: members in one process, for tests and benchmarks.

#![deny(missing_docs)]

pub mod apply;
pub mod cluster;
pub mod codec;
pub mod fetch;
pub mod local;
pub mod log_store;
pub mod network;
pub mod rpc;
pub mod state_machine;
pub mod types;

pub use cluster::{ClusterError, ClusterNode};
pub use log_store::LogStore;
pub use state_machine::{ChainFetcher, Manifest, StateMachine};
pub use types::{Command, Draft, Member, NodeId, Proposal, Replies, Reply, Request, TypeConfig};
