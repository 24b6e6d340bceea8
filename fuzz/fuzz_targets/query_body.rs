//! Fuzzes the bodies of `/weft/query/1`: the question a node answers,
//! through `weft_node::query::answer` (the daemon's own entry: decode with the depth
//! limit, check the bounds, then open the repository), on a directory that is not a
//! node; and the answer bodies an asker decodes, `UsageAnswer`, `SearchAnswer` and
//! `SymbolsAnswer`, read as the asker reads them (ciborium, depth 32: the asker's decoder
//! itself is private to node/src/query.rs). The first byte chooses the kind.
//!
//! Asserts: a question is always refused here, with a reason that says why: it does not
//! decode exactly when the question type does not decode from the body, else it is over
//! its bounds or is turned away because the directory is not a node; an unknown kind is
//! refused as unknown. Decoded questions and answers re-encode stably, and questions
//! round-trip to the same value.
#![no_main]

use libfuzzer_sys::fuzz_target;
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::fmt::Debug;
use std::path::Path;
use std::sync::OnceLock;
use weft_fuzz::{assert_stable_cbor, from_cbor, selector};
use weft_net::query::{QueryRequest, QueryResponse};
use weft_node::graph::usage::{UsageAnswer, UsageQuery};
use weft_node::query::{answer, Access, SearchAnswer, SearchQuery, SymbolsAnswer, SymbolsQuery};

/// A directory that exists and is not a weft node.
fn not_a_node() -> &'static Path {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    DIR.get_or_init(|| tempfile::tempdir().expect("a temporary directory"))
        .path()
}

fn refusal(kind: &str, body: &[u8]) -> String {
    let request = QueryRequest {
        kind: kind.into(),
        body: body.to_vec(),
    };
    match answer(not_a_node(), &request, Access::ReadOnly) {
        QueryResponse::Refused { reason } => reason,
        QueryResponse::Answer { body } => panic!("a directory that is no node answered: {body:?}"),
    }
}

/// Checks one kind: its question through the node, and its answer body.
fn check<Q, A>(kind: &str, body: &[u8])
where
    Q: Serialize + DeserializeOwned + PartialEq + Debug,
    A: Serialize + DeserializeOwned,
{
    let reason = refusal(kind, body);
    match from_cbor::<Q>(body) {
        None => assert!(reason.contains("does not decode"), "{kind}: {reason}"),
        Some(question) => {
            assert!(!reason.contains("does not decode"), "{kind}: {reason}");
            assert!(
                reason.contains("is not a weft node")
                    || reason.contains(" given, at most ")
                    || reason.contains("the search text is empty"),
                "{kind}: refused for another reason: {reason}"
            );
            let bytes = assert_stable_cbor(&question);
            assert_eq!(from_cbor::<Q>(&bytes).as_ref(), Some(&question));
        }
    }
    if let Some(answer) = from_cbor::<A>(body) {
        assert_stable_cbor(&answer);
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((kind, body)) = selector(data) else {
        return;
    };
    match kind % 4 {
        0 => check::<UsageQuery, UsageAnswer>("usage", body),
        1 => check::<SearchQuery, SearchAnswer>("search", body),
        2 => check::<SymbolsQuery, SymbolsAnswer>("symbols", body),
        _ => {
            let reason = refusal("telemetry", body);
            assert!(reason.contains("unknown query kind"), "{reason}");
        }
    }
});
