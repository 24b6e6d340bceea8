//! weft's peer mesh: how a node reaches its peers' nodes.
//!
//! - [`identity`]: the node's Ed25519 chain key is its libp2p identity, so a `PeerId`
//!   names a chain signer.
//! - [`wire`]: the messages (CBOR) and how each is checked before use: gossiped signed
//!   heads, capability adverts and equivocation evidence, and the `/weft/sync/1`
//!   request and response.
//! - [`query`]: the `/weft/query/1` envelope (questions a node answers about its
//!   repository) and the service that answers them.
//! - [`codec`]: how those request-response messages are put on and read off a stream.
//! - [`cluster`]: the `/weft/raft/1` envelope (a Raft cluster's members calling each
//!   other) and the service that handles it.
//!
//! The network knows the kernel's types (heads, ranges) and nothing of the knowledge
//! graph; whether a key is trusted is the node's decision.

pub mod cluster;
pub mod codec;
pub mod gatekeeper;
pub mod identity;
pub mod mesh;
pub mod query;
pub mod replicate;
pub mod wire;

pub use libp2p::{Multiaddr, PeerId};
