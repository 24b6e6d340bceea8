//! Fuzzes the inclusion-proof verifier, `proof::verify_proof`, on JSON text as
//! `weft chain verify-proof` reads a file (serde_json, then the proof document).
//!
//! Asserts: an accepted proof proves an event whose sequence is the proof's leaf index,
//! below the head's size, which is the proof's tree size; the event's hash is that of its
//! canonical encoding; the head verifies and is of the event's chain; the proof holds
//! for the head's own key given as the trusted signer and is refused, as signed by
//! someone else, for any other key; the document written back as JSON and read again
//! proves the same. A proof refused without a trusted signer is refused with one.
#![no_main]

use libfuzzer_sys::fuzz_target;
use weft_kernel::event::hash_encoded;
use weft_kernel::proof::{verify_proof, ProofCheckError};

fuzz_target!(|data: &[u8]| {
    let Ok(doc) = serde_json::from_slice::<serde_json::Value>(data) else {
        return;
    };
    let Ok(proven) = verify_proof(&doc, None) else {
        assert!(verify_proof(&doc, Some(&[0; 32])).is_err());
        return;
    };
    let (event, head) = (&proven.event, &proven.head);
    assert_eq!(Some(event.seq), doc["leaf_index"].as_u64());
    assert_eq!(Some(head.size()), doc["tree_size"].as_u64());
    assert!(event.seq < head.size());
    assert_eq!(proven.hash, hash_encoded(&event.encode()));
    assert_eq!(event.chain_id, head.chain_id);
    assert!(head.verify_signature().is_ok());
    assert_eq!(verify_proof(&doc, Some(&proven.chain_key)).as_ref(), Ok(&proven));
    let mut other = proven.chain_key;
    other[0] ^= 1;
    assert!(matches!(
        verify_proof(&doc, Some(&other)),
        Err(ProofCheckError::Signer { .. })
    ));
    let text = serde_json::to_vec(&doc).expect("a JSON value writes");
    let again: serde_json::Value = serde_json::from_slice(&text).expect("written JSON reads");
    assert_eq!(
        verify_proof(&again, None).as_ref(),
        Ok(&proven),
        "proof JSON round trip"
    );
});
