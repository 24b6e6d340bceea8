//! Fuzzes the ExoChain event decoder, `Event::decode` (canonical CBOR), the verifier's
//! fast path that reads an event's header without its payload, `peek_header`, and the
//! replica's, `check_encoded`, which checks a whole event without building it.
//!
//! Asserts: `check_encoded` accepts exactly what `Event::decode` accepts; a decoded event re-encodes to exactly the input (the format is canonical),
//! hashes as the input does, has a sequence of at most `MAX_SEQ`, a `{source}.{verb}` kind
//! and a payload that is canonical CBOR on its own; `peek_header` agrees with the full
//! decoder on every field whenever both accept, and never yields a sequence past
//! `MAX_SEQ`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use weft_kernel::cbor;
use weft_kernel::event::{check_encoded, hash_encoded, peek_header, validate_kind, Event, MAX_SEQ};

fuzz_target!(|data: &[u8]| {
    assert_eq!(
        check_encoded(data).is_ok(),
        Event::decode(data).is_ok(),
        "check_encoded and Event::decode disagree"
    );
    let peeked = peek_header(data);
    if let Some(header) = &peeked {
        assert!(header.seq <= MAX_SEQ, "peeked a sequence past MAX_SEQ");
    }
    let Ok(event) = Event::decode(data) else {
        return;
    };
    assert_eq!(event.encode(), data, "a decoded event is not canonical");
    assert_eq!(event.hash(), hash_encoded(data));
    assert!(event.seq <= MAX_SEQ, "decoded a sequence past MAX_SEQ");
    validate_kind(&event.source, &event.kind).expect("a decoded kind is valid");
    let payload = cbor::encode(&event.payload);
    assert_eq!(
        cbor::decode_canonical(&payload).as_ref(),
        Ok(&event.payload),
        "a decoded payload is not canonical on its own"
    );
    let header = peeked.expect("peek_header refused an event that decodes");
    assert_eq!(
        (
            header.chain_id,
            header.seq,
            header.prev_hash,
            header.timestamp_ns,
            header.source,
            header.kind
        ),
        (
            event.chain_id,
            event.seq,
            event.prev_hash,
            event.timestamp_ns,
            event.source.as_str(),
            event.kind.as_str()
        ),
        "peek_header and Event::decode disagree"
    );
    let json = event.to_json(&event.hash());
    assert_eq!(json["seq"], event.seq);
});
