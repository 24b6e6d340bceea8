//! Fuzzes the signed-head decoders: the kernel's CBOR form (`SignedHead::decode`, as
//! stored and gossiped), its JSON form (`SignedHead::from_json`, as in proofs and
//! `weft witness add --head`), the mesh's `wire::decode_head` and the gatekeeper's
//! verdict on the heads topic.
//!
//! Asserts: a decoded head has a sequence of at most `MAX_SEQ`, so its size is exact;
//! it survives the CBOR, CBOR-map and JSON round trips unchanged; `decode_head` accepts
//! exactly the heads that decode, are their own canonical encoding (the wire form is
//! canonical, docs/protocol.md), fit the gossip limit and carry a valid signature, and
//! gives the same head; the gatekeeper accepts the same bytes `decode_head` does.
#![no_main]

use libfuzzer_sys::fuzz_target;
use weft_fuzz::gossip_accepted;
use weft_kernel::event::MAX_SEQ;
use weft_kernel::head::SignedHead;
use weft_net::wire::{decode_head, Topic, MAX_GOSSIP_BYTES};

fn assert_round_trips(head: &SignedHead) {
    assert!(head.seq <= MAX_SEQ, "decoded a sequence past MAX_SEQ");
    assert_eq!(Some(head.size()), head.seq.checked_add(1));
    assert_eq!(SignedHead::decode(&head.encode()).as_ref(), Ok(head));
    assert_eq!(SignedHead::from_value(&head.to_value()).as_ref(), Ok(head));
    assert_eq!(SignedHead::from_json(&head.to_json()).as_ref(), Ok(head));
}

fuzz_target!(|data: &[u8]| {
    let decoded = SignedHead::decode(data);
    if let Ok(head) = &decoded {
        assert_round_trips(head);
    }
    let wire = decode_head(data);
    let valid = decoded.as_ref().is_ok_and(|h| {
        h.encode() == data && data.len() <= MAX_GOSSIP_BYTES && h.verify_signature().is_ok()
    });
    assert_eq!(wire.is_ok(), valid, "decode_head disagrees: {wire:?}");
    if let Ok(head) = &wire {
        assert_eq!(Ok(head), decoded.as_ref());
    }
    assert_eq!(gossip_accepted(Topic::Heads, data), valid);
    if let Ok(json) = serde_json::from_slice::<serde_json::Value>(data) {
        if let Ok(head) = SignedHead::from_json(&json) {
            assert_round_trips(&head);
        }
    }
});
