//! `/weft/query/1`: one node asks another a question about its repository (who uses
//! these packages and symbols, what its index finds for a text, where a symbol is
//! declared). The mesh carries the question and the answer as opaque CBOR bodies under
//! a `kind`: what they mean is the node's business (the network knows nothing of the
//! knowledge graph); here are the envelope, its limits and the service trait.

use libp2p::PeerId;
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// The protocol's name.
pub const QUERY_PROTOCOL: &str = "/weft/query/1";
/// Largest query request accepted on the wire.
pub const QUERY_REQUEST_LIMIT: u64 = 256 * 1024;
/// Largest query response accepted on the wire.
pub const QUERY_RESPONSE_LIMIT: u64 = 8 * 1024 * 1024;
/// Longest `kind`.
pub const QUERY_KIND_MAX: usize = 32;
/// How long a query may take before it fails (an answer may scan a repository).
pub const QUERY_TIMEOUT: Duration = Duration::from_secs(60);
/// Inbound queries served at once for one peer; more are refused as busy.
pub const MAX_QUERIES_PER_PEER: usize = 4;

/// A question.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueryRequest {
    /// What is asked (`usage`, `search`, `symbols`): says how `body` decodes.
    pub kind: String,
    /// The question (CBOR of the kind's type).
    #[serde(with = "serde_bytes")]
    pub body: Vec<u8>,
}

/// The answer to a [`QueryRequest`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum QueryResponse {
    /// The answer (CBOR of the kind's answer type).
    Answer {
        /// The body.
        #[serde(with = "serde_bytes")]
        body: Vec<u8>,
    },
    /// Not answered, and why (untrusted asker, unknown kind, a bad question, busy).
    Refused {
        /// Why.
        reason: String,
    },
}

impl QueryRequest {
    /// Encodes for the known-answer vectors and for tests (the mesh's codec does the
    /// same on the wire).
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        ciborium::into_writer(self, &mut out).expect("CBOR encoding into a Vec cannot fail");
        out
    }

    /// Whether the envelope is acceptable before any service sees it.
    pub fn check(&self) -> Result<(), String> {
        if self.kind.is_empty()
            || self.kind.len() > QUERY_KIND_MAX
            || !self
                .kind
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b == b'-')
        {
            return Err(format!(
                "query kind must be 1-{QUERY_KIND_MAX} lowercase letters or `-`"
            ));
        }
        Ok(())
    }
}

/// Answers queries from peers (the daemon implements it over its repository).
pub trait QueryService: Send + Sync + 'static {
    /// The answer to `request` from `peer` (whose trust the service judges). Runs on a
    /// blocking thread: it may read the disk for a while.
    fn answer(&self, peer: &PeerId, request: &QueryRequest) -> QueryResponse;
}

/// A service that answers nothing: for nodes (tests, benchmarks) that only ask.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoQueries;

impl QueryService for NoQueries {
    fn answer(&self, _peer: &PeerId, _request: &QueryRequest) -> QueryResponse {
        QueryResponse::Refused {
            reason: "this node answers no queries".into(),
        }
    }
}
