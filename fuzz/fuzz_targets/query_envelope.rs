//! Fuzzes the `/weft/query/1` envelope as a node reads it from a stream, both ways:
//! libp2p's CBOR codec with the mesh's size limits for `QueryRequest` and
//! `QueryResponse`, then `QueryRequest::check`, which the server applies before any
//! service sees the question.
//!
//! Asserts: a decoded request and a decoded response survive the codec's round trip
//! unchanged; a request `check` lets through has a kind of 1 to `QUERY_KIND_MAX` bytes,
//! each a lower-case ASCII letter or `-`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use weft_fuzz::query_wire;
use weft_net::query::QUERY_KIND_MAX;

fuzz_target!(|data: &[u8]| {
    let mut wire = query_wire();
    if let Some(request) = wire.checked_request(data) {
        if request.check().is_ok() {
            let kind = request.kind.as_bytes();
            assert!((1..=QUERY_KIND_MAX).contains(&kind.len()));
            assert!(kind.iter().all(|b| b.is_ascii_lowercase() || *b == b'-'));
        }
    }
    wire.checked_response(data);
});
