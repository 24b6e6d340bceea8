//! Serving `/weft/query/1` to trusted peers: questions about this node's repository,
//! answered by [`crate::query::answer`] with the node's own caches (its search index is
//! brought up to date first).

use super::Daemon;
use crate::query::{self, Access};
use std::sync::Arc;
use weft_net::query::{QueryRequest, QueryResponse, QueryService};
use weft_net::PeerId;

/// The daemon as a query service.
pub struct Answers(pub Arc<Daemon>);

impl QueryService for Answers {
    fn answer(&self, peer: &PeerId, request: &QueryRequest) -> QueryResponse {
        if !self.0.trusts(peer) {
            return QueryResponse::Refused {
                reason: super::UNTRUSTED.into(),
            };
        }
        tracing::debug!(%peer, kind = %request.kind, "answering a query");
        query::answer(
            &self.0.node.layout().root,
            request,
            Access::Own(&self.0.node),
        )
    }
}
