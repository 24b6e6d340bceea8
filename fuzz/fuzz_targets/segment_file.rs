//! Fuzzes the segment-file reader, `segment::read_verified` / `verify_file` (what
//! `weft chain verify-file` and `import` run on a file from anywhere), from bytes.
//!
//! The first byte chooses how the rest is read: even, as it is; odd, with every
//! segment's content hash first recomputed over its (possibly mutated) header and body,
//! so that mutations reach the body decoders (header, events, footer) instead of
//! stopping at the hash check.
//!
//! Asserts: an accepted file holds one or more events whose count is the footer head's
//! size, from sequence 0 up without a gap, all of the file's chain and at most
//! `MAX_SEQ`; the head is signed by the genesis key, for the genesis chain, and its
//! signature verifies; the file has at least a header, an events segment and a footer,
//! each 64 bytes or more; `verify_file` and `read_verified` agree.
#![no_main]

use libfuzzer_sys::fuzz_target;
use weft_fuzz::selector;
use weft_kernel::event::{Event, MAX_SEQ};
use weft_kernel::hash::{domain_hash, domains};
use weft_kernel::segment::{read_verified, verify_file, ALIGN, HEADER_LEN, MAX_BODY};

/// Recomputes each segment's content hash where the bytes let a segment be found.
fn rehash(file: &mut [u8]) {
    let mut at = 0usize;
    while at + HEADER_LEN <= file.len() {
        let len = u32::from_be_bytes(file[at + 12..at + 16].try_into().expect("4 bytes"));
        if len > MAX_BODY {
            return;
        }
        let body_end = at + HEADER_LEN + len as usize;
        if body_end > file.len() {
            return;
        }
        let hash = domain_hash(
            domains::SEGMENT,
            &[&file[at..at + 16], &file[at + HEADER_LEN..body_end]],
        );
        file[at + 16..at + HEADER_LEN].copy_from_slice(&hash.0);
        at += (HEADER_LEN + len as usize).div_ceil(ALIGN) * ALIGN;
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((mode, rest)) = selector(data) else {
        return;
    };
    let mut file = rest.to_vec();
    if mode % 2 == 1 {
        rehash(&mut file);
    }
    let mut events: Vec<Event> = Vec::new();
    let read = read_verified(file.as_slice(), &mut |batch| {
        events.extend_from_slice(batch);
        Ok(())
    });
    let verified = verify_file(file.as_slice());
    assert_eq!(
        read.is_ok(),
        verified.is_ok(),
        "read_verified and verify_file disagree"
    );
    let Ok(summary) = read else {
        return;
    };
    let head = &summary.head;
    assert!(summary.events >= 1);
    assert_eq!(summary.events, head.size());
    assert_eq!(summary.events, events.len() as u64);
    for (i, event) in events.iter().enumerate() {
        assert_eq!(event.seq, i as u64);
        assert!(event.seq <= MAX_SEQ);
        assert_eq!(event.chain_id, summary.chain_id);
    }
    assert_eq!(head.signer, summary.genesis.public_key);
    assert_eq!(head.chain_id, summary.genesis.chain_id);
    assert_eq!(summary.chain_id, summary.genesis.chain_id);
    assert!(head.verify_signature().is_ok());
    assert!(summary.segments >= 3);
    assert!(file.len() >= summary.segments as usize * ALIGN);
    assert_eq!(file.len() % ALIGN, 0);
});
