//! Fuzzes the `/weft/sync/1` request as a node reads it from a stream: libp2p's CBOR
//! codec with the mesh's size limit, then `SyncRequest::capped`, which bounds what the
//! server does for it.
//!
//! Asserts: a decoded request survives the codec's round trip unchanged; its capped form
//! asks for 1 to `SYNC_MAX_EVENTS` events and 1 to `SYNC_MAX_BYTES` bytes, keeps the chain
//! and the start, and capping it again changes nothing.
#![no_main]

use libfuzzer_sys::fuzz_target;
use weft_fuzz::sync_wire;
use weft_net::wire::{SYNC_MAX_BYTES, SYNC_MAX_EVENTS};

fuzz_target!(|data: &[u8]| {
    let Some(request) = sync_wire().checked_request(data) else {
        return;
    };
    let capped = request.capped();
    assert!((1..=SYNC_MAX_EVENTS).contains(&capped.max_count));
    assert!((1..=SYNC_MAX_BYTES).contains(&capped.max_bytes));
    assert_eq!(
        (capped.chain_id, capped.from),
        (request.chain_id, request.from)
    );
    assert_eq!(capped.capped(), capped);
});
