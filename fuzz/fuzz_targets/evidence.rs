//! Fuzzes the equivocation-evidence decoders (gossip and `weft evidence verify`):
//! `Evidence::decode`, `claimed_signer`, `verify`, `decode_verified`, and the
//! gatekeeper's verdict on the evidence topic.
//!
//! Asserts: decoded evidence re-encodes to evidence that decodes the same (when the
//! re-encoding fits the gossip limit); `claimed_signer` is the first head's key whenever
//! that head decodes; verified evidence names one key and one chain for both heads, both
//! of whose signatures verify, at a sequence of at most `MAX_SEQ`, and is either a
//! conflict (one sequence, different history) or a fork (the earlier head first, an audit
//! path of at most 64 hashes for an event other than the earlier head's); `decode_verified`
//! and the gatekeeper (trusting every key) accept exactly what `decode` then `verify` do.
#![no_main]

use libfuzzer_sys::fuzz_target;
use weft_fuzz::gossip_accepted;
use weft_kernel::event::MAX_SEQ;
use weft_kernel::head::SignedHead;
use weft_kernel::keys::fingerprint;
use weft_net::wire::{Equivocation, Evidence, Topic, MAX_GOSSIP_BYTES};

fn assert_proves(evidence: &Evidence, found: &Equivocation) {
    let (first, second) = &found.heads;
    assert_eq!(first.signer, found.signer);
    assert_eq!(second.signer, found.signer);
    assert_eq!(found.fingerprint, fingerprint(&found.signer));
    assert_eq!(first.chain_id, second.chain_id);
    assert!(first.verify_signature().is_ok() && second.verify_signature().is_ok());
    assert_eq!(found.seq, first.seq);
    assert!(found.seq <= MAX_SEQ && second.seq <= MAX_SEQ);
    match found.kind {
        "conflict" => {
            assert!(evidence.fork.is_none());
            assert_eq!(first.seq, second.seq);
            assert!(first.head_hash != second.head_hash || first.merkle_root != second.merkle_root);
        }
        "fork" => {
            let proof = evidence.fork.as_ref().expect("a fork has a proof");
            assert!(first.seq < second.seq);
            assert!(proof.audit_path.len() <= 64);
            assert_ne!(proof.event_hash, first.head_hash.0);
        }
        other => panic!("unknown kind of equivocation {other}"),
    }
    assert_eq!(evidence.claimed_signer(), Ok(found.signer));
}

fuzz_target!(|data: &[u8]| {
    let verified = Evidence::decode_verified(data);
    assert_eq!(gossip_accepted(Topic::Evidence, data), verified.is_ok());
    let Ok(evidence) = Evidence::decode(data) else {
        assert!(verified.is_err());
        return;
    };
    let bytes = evidence.encode();
    if bytes.len() <= MAX_GOSSIP_BYTES {
        assert_eq!(
            Evidence::decode(&bytes).as_ref(),
            Ok(&evidence),
            "evidence round trip"
        );
    }
    if let Ok(first) = SignedHead::decode(&evidence.first) {
        if evidence.first.len() <= MAX_GOSSIP_BYTES {
            assert_eq!(evidence.claimed_signer(), Ok(first.signer));
        }
    }
    let checked = evidence.verify();
    assert_eq!(
        checked, verified,
        "decode_verified differs from decode then verify"
    );
    if let Ok(found) = &checked {
        assert_proves(&evidence, found);
    }
});
