//! Fuzzes the `/weft/sync/1` response as a node reads it from a stream: libp2p's CBOR
//! codec with the mesh's size limit, then `SyncResponse::into_range` (counts, the head's
//! decoding and signature) and `replica::proven_first_event` (the fork half of evidence,
//! read from a range's audit path).
//!
//! Asserts: a decoded response survives the codec's round trip unchanged; an accepted
//! range carries at most `SYNC_MAX_EVENTS` events and audit and consistency paths of at
//! most 64 hashes, under a head of at most `MAX_SEQ` whose signature verifies, and turns
//! back into a response that yields the same range; a refusal yields no range; a proven
//! first event is the hash of the range's first event.
#![no_main]

use libfuzzer_sys::fuzz_target;
use weft_fuzz::sync_wire;
use weft_kernel::event::{Event, MAX_SEQ};
use weft_kernel::replica::proven_first_event;
use weft_net::wire::{SyncResponse, SYNC_MAX_EVENTS};

fuzz_target!(|data: &[u8]| {
    let Some(response) = sync_wire().checked_response(data) else {
        return;
    };
    let refused = matches!(response, SyncResponse::Refused { .. });
    // The start is the asker's: the genesis, and one at the edge of what a chain holds.
    for from in [0, MAX_SEQ] {
        let range = response.clone().into_range(from);
        assert!(!(refused && range.is_ok()), "a refusal yielded a range");
        let Ok(range) = range else {
            continue;
        };
        assert_eq!(range.from, from);
        assert!(range.events.len() <= SYNC_MAX_EVENTS as usize);
        assert!(range.consistency.len() <= 64 && range.first_path.len() <= 64);
        assert!(range.head.seq <= MAX_SEQ);
        assert!(range.head.verify_signature().is_ok());
        let again = SyncResponse::from_range(&range).into_range(from);
        assert_eq!(again.as_ref(), Ok(&range), "range round trip");
        if let Some((hash, path)) = proven_first_event(&range) {
            let first = Event::decode(&range.events[0]).expect("a proven event decodes");
            assert_eq!(hash, first.hash());
            assert_eq!(path, range.first_path);
        }
    }
});
