//! weft's kernel: the part of a node that everything else writes to.
//!
//! - [`chain`]: the ExoChain, an append-only, hash-linked, Ed25519-signed event ledger on
//!   RocksDB, with group commit ([`store`], [`event`], [`head`], [`merkle`]).
//! - [`verify`], [`proof`], [`segment`], [`repair`]: checking it, proving one event,
//!   moving it between machines, and recovering from damage.
//! - [`replica`]: serving ranges of a chain, and read-only replicas of peers' chains
//!   extended only by verified ranges.
//! - [`tree`]: the resource tree, a namespaced tree with a Merkle root.
//! - [`gate`]: the governance gate.
//! - [`witness`]: witness entries and lineage records.
//! - [`atomic`]: durable whole-file replacement for the node's small state files.
//!
//! No async runtime and no networking here: the node crate brings those.

#![deny(missing_docs)]

pub mod atomic;
pub mod cbor;
pub mod chain;
pub mod cluster;
pub mod event;
pub mod gate;
pub mod hash;
pub mod head;
pub mod json;
pub mod keys;
pub mod merkle;
mod merkle_helper;
pub mod proof;
pub mod repair;
pub mod replica;
pub mod segment;
pub mod store;
pub mod tree;
pub mod txn;
mod verbatim;
pub mod verify;
pub mod witness;

pub use chain::{Chain, ChainError, StoredEvent};
pub use event::{ChainId, Event, EventDraft};
pub use hash::Hash;
pub use head::SignedHead;
pub use keys::NodeKey;
pub use store::Store;
